/**
 * One real RssServer fed by a fake transport (no sockets) over an in-memory
 * store, serving alone: pam and lee registered (native, keys agreed,
 * addresses proven), both on `news`, and pam's three texts `one`, `two`,
 * `three` published. lee never acknowledges, so only its first push went
 * out and all three stay owed. `closeServed()` in afterEach closes it.
 */
import { legacyDialects } from '../../src/protocol/dialects';
import type { Message } from '../../src/protocol/messages';
import { decodeNative } from '../../src/protocol/native';
import type { DeliveryPolicy } from '../../src/server/delivery';
import type { SecurityOptions } from '../../src/server/guard';
import { RssServer } from '../../src/server/server';
import type { Address, DatagramHandler, Transport } from '../../src/transport/types';
import { NativeWire } from '../../bench/rss/wire';
import { MemoryStore } from '../security/memory-store';

export const SELF = { host: '10.0.0.1', port: 5001 };
export const PUB = { host: '10.0.0.2', port: 4001 };
export const LIS = { host: '10.0.0.3', port: 4002 };

const open: RssServer[] = [];

export async function closeServed(): Promise<void> {
  await Promise.all(open.splice(0).map((s) => s.close()));
}

/** A native message, or undefined for the server's own backlog marker. */
function decoded(bytes: Uint8Array): Message | undefined {
  try {
    return decodeNative(Buffer.from(bytes)).message;
  } catch {
    return undefined;
  }
}

/** `delivery`: the server's push policy (e.g. give up fast); `answerChallenges()` false: CHALLENGEs are kept, not answered. */
export interface ServedOptions {
  delivery?: Partial<DeliveryPolicy>;
  /** How long answers are kept for retransmissions (ms). */
  replyLifetime?: number;
}

export async function served(security: Partial<SecurityOptions> = {}, opts: ServedOptions = {}) {
  const store = new MemoryStore();
  const out: { msg: Message; to: Address }[] = [];

  let handler: DatagramHandler = () => {};
  const transport: Transport = {
    send: (bytes, to) => {
      const msg = decoded(bytes);
      if (msg) out.push({ msg, to });
    },
    onDatagram: (h) => void (handler = h),
    address: () => SELF,
    close: async () => {},
  };
  const server = new RssServer({ tag: 'A', transport, peer: { host: '10.0.0.9', port: 5002 }, self: SELF, store, period: 3_600_000, dialects: legacyDialects, security, ...(opts.delivery ? { delivery: opts.delivery } : {}), ...(opts.replyLifetime ? { replyLifetime: opts.replyLifetime } : {}) });
  open.push(server);
  const serving = new Promise((r) => server.once('serving', r));
  server.start();
  await serving;
  const wire = new NativeWire();
  const at = (name: string) => (name === 'pam' ? PUB : LIS);
  /** What the server sent (CHALLENGEs answered and keys learnt, not kept, while `answering`). */
  const received: Message[] = [];
  let answering = true;
  /** Let the server run, taking what it sent. */
  const settle = async () => {
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setImmediate(r));
      for (const o of out.splice(0)) {
        wire.learn(o.msg);
        if (o.msg.type === 'CHALLENGE' && answering) handler(wire.challengeResponse(o.msg.to, o.msg.nonce), at(o.msg.to));
        else received.push(o.msg);
      }
    }
  };
  /** Feed a datagram, then let the server run. */
  const feed = async (bytes: Buffer, from: Address) => {
    handler(bytes, from);
    await settle();
  };
  for (const name of ['pam', 'lee']) {
    await feed(wire.request({ type: 'REGISTER', name, host: at(name).host, port: at(name).port }, wire.nextRq()), at(name));
    await feed(wire.request({ type: 'SUBJECTS', name, subjects: ['news'] }, wire.nextRq()), at(name));
  }
  for (const text of ['one', 'two', 'three']) await feed(wire.request({ type: 'PUBLISH', name: 'pam', subject: 'news', text }, wire.nextRq()), PUB);
  const messages = () => received.filter((m): m is Extract<Message, { type: 'MESSAGE' }> => m.type === 'MESSAGE');
  const retrieved = () => received.filter((m): m is Extract<Message, { type: 'RETRIEVED' }> => m.type === 'RETRIEVED');
  const challenges = () => received.filter((m) => m.type === 'CHALLENGE');
  /** The answers of one type the server sent, oldest first. */
  const answers = <T extends Message['type']>(type: T) => received.filter((m): m is Extract<Message, { type: T }> => m.type === type);
  const answerChallenges = (yes: boolean) => void (answering = yes);
  return { s: server, store, wire, handler: (b: Buffer, from: Address) => handler(b, from), out, feed, settle, messages, retrieved, challenges, answerChallenges, answers };
}
