/**
 * The ACK of a push, through a real RssServer fed by a fake transport (no
 * sockets, an in-memory store): the common ACK (MACed by a user holding a
 * key) is taken in the datagram's own turn, the next push going out before
 * the handler returns, and keeps every check of the general path: a forged
 * or replayed ACK moves nothing and is counted, and so is one over the
 * user's rate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { legacyDialects } from '../../src/protocol/dialects';
import type { Message } from '../../src/protocol/messages';
import { decodeNative, encodeNative } from '../../src/protocol/native';
import { RssServer } from '../../src/server/server';
import type { SecurityOptions } from '../../src/server/guard';
import type { Address, DatagramHandler, Transport } from '../../src/transport/types';
import { NativeWire } from '../../bench/rss/wire';
import { MemoryStore } from '../security/memory-store';

const SELF = { host: '10.0.0.1', port: 5001 };
const PUB = { host: '10.0.0.2', port: 4001 };
const LIS = { host: '10.0.0.3', port: 4002 };

let server: RssServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function world(security: Partial<SecurityOptions> = {}) {
  const out: { msg: Message; to: Address }[] = [];
  let handler: DatagramHandler = () => {};
  const transport: Transport = {
    send: (bytes, to) => void out.push({ msg: decodeNative(Buffer.from(bytes)).message, to }),
    onDatagram: (h) => void (handler = h),
    address: () => SELF,
    close: async () => {},
  };
  server = new RssServer({ tag: 'A', transport, peer: { host: '10.0.0.9', port: 5002 }, self: SELF, store: new MemoryStore(), period: 3_600_000, dialects: legacyDialects, security });
  const serving = new Promise((r) => server!.once('serving', r));
  server.start();
  await serving;
  const wire = new NativeWire();
  const at = (name: string) => (name === 'pam' ? PUB : LIS);
  /** Feed a datagram, then let the server run; CHALLENGEs are answered and keys learnt. */
  const feed = async (bytes: Buffer, from: Address) => {
    handler(bytes, from);
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setImmediate(r));
      for (const o of out.splice(0)) {
        wire.learn(o.msg);
        if (o.msg.type === 'CHALLENGE') handler(wire.challengeResponse(o.msg.to, o.msg.nonce), at(o.msg.to));
        else pushes.push(o.msg);
      }
    }
  };
  const pushes: Message[] = [];
  for (const name of ['pam', 'lee']) {
    await feed(wire.request({ type: 'REGISTER', name, host: at(name).host, port: at(name).port }, wire.nextRq()), at(name));
    await feed(wire.request({ type: 'SUBJECTS', name, subjects: ['news'] }, wire.nextRq()), at(name));
  }
  for (const text of ['one', 'two', 'three']) await feed(wire.request({ type: 'PUBLISH', name: 'pam', subject: 'news', text }, wire.nextRq()), PUB);
  const messages = () => pushes.filter((m): m is Extract<Message, { type: 'MESSAGE' }> => m.type === 'MESSAGE');
  return { s: server, wire, handler: (b: Buffer, from: Address) => handler(b, from), out, feed, messages };
}

describe('the ACK of a push', () => {
  it('is taken in its own turn: the next push goes out before the datagram handler returns', async () => {
    const { wire, handler, out, messages } = await world();
    // Stop-and-wait: only the first text is pushed until it is acknowledged.
    expect(messages().map((m) => m.text)).toEqual(['one']);
    handler(wire.ack('lee', messages()[0]!.seq), LIS);
    expect(out.map((o) => o.msg.type === 'MESSAGE' && o.msg.text)).toEqual(['two']);
  });

  it('moves nothing when forged or replayed, and each is counted', async () => {
    const { s, wire, feed, messages } = await world();
    const first = messages()[0]!;
    const forged = encodeNative({ type: 'ACK', name: 'lee', seq: first.seq }, { cid: wire.cid, ctr: Date.now() * 1000 + 5e9 }, Buffer.alloc(32, 1));
    await feed(forged, LIS);
    expect(s.guard.counters.authFailed).toBe(1);
    expect(messages()).toHaveLength(1);
    const genuine = wire.ack('lee', first.seq);
    await feed(genuine, LIS);
    expect(messages().map((m) => m.text)).toEqual(['one', 'two']);
    // The same bytes again: a replay, refused before it could acknowledge anything.
    await feed(genuine, LIS);
    expect(s.guard.counters.replays).toBe(1);
    expect(s.delivery.stats.acks).toBe(1);
    expect(s.telemetry.requests.get('ACK|native|refused')).toBe(2);
    expect(s.telemetry.requests.get('ACK|native|ok')).toBe(1);
  });

  it('over the user\'s rate it is refused, counted, and its counter may come again', async () => {
    const { s, wire, feed, messages } = await world({ userRate: { burst: 8, perSecond: 0 } });
    // Spend what is left of lee's bucket on ACKs of nothing in flight (ignored as stale, but charged).
    const before = s.guard.counters.rateLimited;
    for (let i = 0; i < 10 && s.guard.counters.rateLimited === before; i++) await feed(wire.ack('lee', 999_999), LIS);
    expect(s.guard.counters.rateLimited).toBe(before + 1);
    const ack = wire.ack('lee', messages()[0]!.seq);
    await feed(ack, LIS);
    expect(s.guard.counters.rateLimited).toBe(before + 2);
    expect(messages()).toHaveLength(1);
    // Released from the replay window: the same datagram is judged by the rate again, not called a replay.
    await feed(ack, LIS);
    expect(s.guard.counters.replays).toBe(0);
    expect(s.guard.counters.rateLimited).toBe(before + 3);
  });
});
