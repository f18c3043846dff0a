/** The STATUS-REPORT always fits one native datagram, however large a long-lived server's counters grow. */
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/protocol/limits';
import { decodeNative, encodeNative } from '../../src/protocol/native';
import { fitReport } from '../../src/server/control/status';

const key = new Uint8Array(32).fill(7);
const encode = (status: Record<string, unknown>) => encodeNative({ type: 'STATUS-REPORT', rq: 5, status }, { ctr: 9 }, key);

/** A report with every field a server reports today, its counters at `counter` (some always 0). */
function report(counter: number): Record<string, unknown> {
  const r: Record<string, unknown> = {
    tag: 'A', role: 'serving', epoch: 12, timeLeftMs: 59_000, timeLeftOf: 'period', requestsPerSecond: 4_700.5, pushesPerSecond: 47_000.25,
    store: 'mongo-0.rss.internal:27017,mongo-1.rss.internal:27017/rss', address: '10.0.0.1:40001', peer: '10.0.0.2:40001',
    users: 100_000, usersOnline: 99_000, requireAuth: true, errors: { RSS_STORE: counter },
  };
  for (const name of ['handoffs', 'lastHandoffMs', 'lastTakeoverMs', 'uptimeSeconds', 'requests', 'replies', 'duplicates', 'malformed', 'ignored', 'published',
    'pushes', 'retransmissions', 'acks', 'staleAcks', 'cursorWrites', 'cursorsWritten', 'authFailed', 'replays', 'staleCounters', 'rateLimited',
    'challenges', 'validations', 'storeRetries', 'texts']) r[name] = counter;
  for (const name of ['failovers', 'storeErrors', 'givenUp', 'forgedPeer', 'amplificationDrops']) r[name] = 0;
  r.tracked = { sendBudgets: 40_000, sourceBuckets: 40_000, prefixBuckets: 9_000, userBuckets: 100_000, replayWindows: 100_000, keyCache: 100_000, challenged: 0, replyCache: 65_000, presence: 99_000, legacyContacts: 10_000 };
  return r;
}

describe('fitReport', () => {
  it('sends a report that fits as it is', () => {
    const r = report(3);
    expect(fitReport(r, encode).equals(encode(r))).toBe(true);
  });

  it('keeps a large report within one native datagram, dropping table sizes and zero counters first, never who the server is', () => {
    const r = report(987_654_321_012);
    expect(encode(r).length).toBeGreaterThan(LIMITS.maxNativeDatagram);
    const out = fitReport(r, encode);
    expect(out.length).toBeLessThanOrEqual(LIMITS.maxNativeDatagram);
    const msg = decodeNative(out).message;
    if (msg.type !== 'STATUS-REPORT') throw new Error(msg.type);
    expect(msg.status).toMatchObject({ tag: 'A', role: 'serving', epoch: 12, users: 100_000, texts: 987_654_321_012, requests: 987_654_321_012 });
    expect(msg.status.tracked).toBeUndefined();
  });
});
