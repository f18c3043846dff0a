/** A bare UDP socket for raw-wire tests: sends hand-made datagrams, keeps everything it receives. */
import { createSocket, type Socket } from 'node:dgram';
import type { Address } from '../../src/transport/types';
import { delay } from './system';

export type Datagram = { bytes: Buffer; from: Address };

export interface RawPeer {
  socket: Socket;
  address: Address;
  inbox: Datagram[];
  /** Bytes sent so far (for anti-amplification checks). */
  sentBytes: number;
  send(bytes: Uint8Array, to: Address): void;
  /** Once at least `count` datagrams have arrived, take everything received so far (fails after `timeoutMs`). */
  take(count: number, timeoutMs?: number): Promise<Datagram[]>;
  /** Once `ready(inbox)` holds, take everything received so far; `what` names the wait in the failure message. */
  takeWhen(ready: (inbox: Datagram[]) => boolean, what: string, timeoutMs?: number): Promise<Datagram[]>;
  /** Absence check, not a wait for an answer: take what arrives within `ms` (callers expect nothing more). */
  quiet(ms: number): Promise<Datagram[]>;
  close(): void;
}

/** Long enough for a loaded 2-core machine; a wait that runs out is a real failure, reported with what did arrive. */
export const RAW_WAIT_MS = 5_000;
const POLL_MS = 5;

/** Polls `inbox` until `ready` holds, then empties it; throws with `what` and what arrived once `timeoutMs` has passed. */
export async function takeWhen<T>(inbox: T[], ready: (inbox: T[]) => boolean, what: string, timeoutMs = RAW_WAIT_MS, show: (d: T) => string = String): Promise<T[]> {
  const until = Date.now() + timeoutMs;
  while (!ready(inbox)) {
    if (Date.now() > until) throw new Error(`waited ${timeoutMs} ms for ${what}; got ${inbox.length}: [${inbox.map(show).join(' | ')}]`);
    await delay(POLL_MS);
  }
  return inbox.splice(0);
}

const showDatagram = (d: Datagram) => `${d.from.port}: ${JSON.stringify(d.bytes.toString('latin1').slice(0, 80))}`;

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
    take: (count, timeoutMs) => peer.takeWhen((inbox) => inbox.length >= count, `${count} datagram(s) at ${host}:${peer.address.port}`, timeoutMs),
    takeWhen: (ready, what, timeoutMs) => takeWhen(peer.inbox, ready, what, timeoutMs, showDatagram),
    async quiet(ms) {
      await delay(ms);
      return peer.inbox.splice(0);
    },
    close: () => socket.close(),
  };
  socket.on('message', (bytes, r) => peer.inbox.push({ bytes, from: { host: r.address, port: r.port } }));
  return peer;
}
