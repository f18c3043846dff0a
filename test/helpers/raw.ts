/** A bare UDP socket for raw-wire tests: sends hand-made datagrams, keeps everything it receives. */
import { createSocket, type Socket } from 'node:dgram';
import type { Address } from '../../src/transport/types';
import { delay } from './system';

export interface RawPeer {
  socket: Socket;
  address: Address;
  inbox: { bytes: Buffer; from: Address }[];
  /** Bytes sent so far (for anti-amplification checks). */
  sentBytes: number;
  send(bytes: Uint8Array, to: Address): void;
  /** Wait `ms`, then take what arrived. */
  take(ms?: number): Promise<{ bytes: Buffer; from: Address }[]>;
  close(): void;
}

/** A raw peer bound to `host` (any loopback address: 127.x.y.z stands for another network). */
export async function rawPeer(host = '127.0.0.1'): Promise<RawPeer> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, host, r));
  const peer: RawPeer = {
    socket,
    address: { host, port: socket.address().port },
    inbox: [],
    sentBytes: 0,
    send(bytes, to) {
      peer.sentBytes += bytes.length;
      socket.send(bytes, to.port, to.host);
    },
    async take(ms = 150) {
      await delay(ms);
      return peer.inbox.splice(0);
    },
    close: () => socket.close(),
  };
  socket.on('message', (bytes, r) => peer.inbox.push({ bytes, from: { host: r.address, port: r.port } }));
  return peer;
}
