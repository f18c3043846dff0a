/**
 * The ACK of a push, through a real RssServer fed by a fake transport (no
 * sockets, an in-memory store): the common ACK (MACed by a user holding a
 * key) is taken in the datagram's own turn, the next push going out before
 * the handler returns, and keeps every check of the general path: a forged
 * or replayed ACK moves nothing and is counted, and so is one over the
 * user's rate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeNative } from '../../src/protocol/native';
import type { SecurityOptions } from '../../src/server/guard';
import { closeServed, LIS, served } from '../helpers/served';

afterEach(closeServed);

const world = (security: Partial<SecurityOptions> = {}) => served(security);

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
    expect(s.telemetry.requestsOf('ACK', 'native', 'refused')).toBe(2);
    expect(s.telemetry.requestsOf('ACK', 'native', 'ok')).toBe(1);
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
