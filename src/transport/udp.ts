/**
 * The UDP transport: the only module of rss that imports node:dgram. It turns
 * a socket into the small Transport interface so everything above it can be
 * tested with fakes, and it never throws on send (UDP gives no delivery
 * guarantee anyway; a failed send is just a counted loss).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Address, DatagramHandler, Transport } from './types';

/** Counters of one socket. */
export interface UdpStats {
  sent: number;
  received: number;
  sendErrors: number;
}

/** A Transport over a real UDP socket, with its counters. */
export interface UdpTransport extends Transport {
  readonly stats: Readonly<UdpStats>;
}

export interface UdpOptions {
  /** Local address to bind; IPv4 wildcard by default, udp6 when it contains ':'. */
  host?: string;
  /** Local port; 0 (default) lets the system choose. */
  port?: number;
  /** SO_RCVBUF in bytes (bursts of pushes or requests are lost when it is too small). */
  recvBufferSize?: number;
}

/**
 * A server's SO_RCVBUF. With the system default (about 208 KB here) a
 * server that is off the CPU for a few milliseconds while a burst arrives
 * (ten ACKs per publish at fan-out 10) loses datagrams, and each loss costs
 * its sender a 200 ms retransmission wait: measured on the bench's floor
 * server, thousands of receive-buffer drops and hundreds of retransmissions
 * per run with the default, none with 4 MB. The kernel caps it at
 * net.core.rmem_max.
 */
export const SERVER_RECV_BUFFER = 4 << 20;

/** Bind a UDP socket and resolve once it is listening; rejects on bind errors (EADDRINUSE, EADDRNOTAVAIL). */
export function openUdp(opts: UdpOptions = {}): Promise<UdpTransport> {
  const host = opts.host ?? '0.0.0.0';
  const type = host.includes(':') ? 'udp6' : 'udp4';
  const socket = createSocket({ type, ...(opts.recvBufferSize ? { recvBufferSize: opts.recvBufferSize } : {}) });
  return new Promise((resolve, reject) => {
    const onBindError = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once('error', onBindError);
    socket.bind({ port: opts.port ?? 0, address: host, exclusive: true }, () => {
      socket.off('error', onBindError);
      resolve(new Udp(socket));
    });
  });
}

class Udp implements UdpTransport {
  readonly stats: UdpStats = { sent: 0, received: 0, sendErrors: 0 };
  private handler: DatagramHandler | undefined;
  private readonly local: Address;
  private closed: Promise<void> | undefined;

  constructor(private readonly socket: Socket) {
    const a = socket.address();
    // Cached: socket.address() throws once the socket is closed.
    this.local = { host: a.address, port: a.port };
    // Asynchronous socket errors (e.g. ICMP reports on some systems) are losses, not crashes.
    socket.on('error', () => {
      this.stats.sendErrors++;
    });
    socket.on('message', (msg, rinfo) => {
      this.stats.received++;
      this.handler?.(msg, { host: rinfo.address, port: rinfo.port });
    });
  }

  send(bytes: Uint8Array, to: Address, failed?: () => void): void {
    if (this.closed) {
      this.stats.sendErrors++;
      failed?.();
      return;
    }
    try {
      this.socket.send(bytes, to.port, to.host, (err) => {
        if (err) {
          this.stats.sendErrors++;
          failed?.();
        } else this.stats.sent++;
      });
    } catch {
      // Synchronous failures: bad port, wrong address family.
      this.stats.sendErrors++;
      failed?.();
    }
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  address(): Address {
    return { ...this.local };
  }

  close(): Promise<void> {
    this.closed ??= new Promise((resolve) => {
      this.handler = undefined;
      this.socket.close(() => resolve());
    });
    return this.closed;
  }
}
