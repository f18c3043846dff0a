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
import { closeServed, LIS, served, type ServedOptions } from '../helpers/served';

afterEach(closeServed);

const world = (security: Partial<SecurityOptions> = {}, opts: ServedOptions = {}) => served(security, opts);

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

  it('from a user whose pushes were given up on, resumes them from the log (the user was heard from)', async () => {
    const { s, wire, feed, settle, messages } = await world({}, { delivery: { firstTimeout: 5, maxTransmissions: 1 } });
    const first = messages()[0]!;
    // lee never answered: one transmission, then the stream is held (after the backlog marker, lost here: 250 ms).
    for (let i = 0; i < 100 && s.delivery.stats.givenUp === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      await settle();
    }
    expect(s.delivery.stats.givenUp).toBe(1);
    const before = messages().length;
    // A late ACK of the push given up on: stale, but it proves lee is there, so what is owed is pushed again.
    await feed(wire.ack('lee', first.seq), LIS);
    expect(s.delivery.stats.staleAcks).toBe(1);
    expect(messages().slice(before).map((m) => m.text)).toEqual(['one']);
  });

  it('from a user whose new address is not proven yet, sends that address its CHALLENGE again', async () => {
    const { s, wire, feed, challenges, answerChallenges } = await world();
    answerChallenges(false);
    const moved = { host: '10.0.0.4', port: 4003 };
    await feed(wire.request({ type: 'UPDATE', name: 'lee', host: moved.host, port: moved.port }, wire.nextRq()), moved);
    expect(challenges()).toHaveLength(1);
    const sent = s.guard.counters.challenges;
    // Past the resend throttle, an ACK from lee (any seq) asks the new address to prove itself again.
    await new Promise((r) => setTimeout(r, 250));
    await feed(wire.ack('lee', 1), moved);
    expect(s.guard.counters.challenges).toBe(sent + 1);
    expect(challenges()).toHaveLength(2);
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
