/**
 * A PUBLISH's answer stays in memory only PUBLISH_ANSWER_MEMORY_MS (the
 * native client's exchange lifetime), not the whole reply lifetime: a copy
 * that comes later is answered from the text its first copy stored, under
 * its request key, with the same number, and nothing is stored twice.
 * Other answers kept in memory stay the whole reply lifetime.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PUBLISH_ANSWER_MEMORY_MS } from '../../src/protocol/limits';
import { EXCHANGE_LIFETIME_MS } from '../../src/client/retry';
import { REPLY_POLICIES } from '../../src/server/reply-policy';
import { closeServed, PUB, served } from '../helpers/served';

afterEach(async () => {
  vi.useRealTimers();
  await closeServed();
});

describe('the answer to a PUBLISH', () => {
  it('is kept in memory at least as long as our client may send the request again', () => {
    expect(PUBLISH_ANSWER_MEMORY_MS).toBeGreaterThanOrEqual(EXCHANGE_LIFETIME_MS);
    // Only answers never stored may be brief: a stored one is what another server answers a copy with.
    const brief = Object.entries(REPLY_POLICIES).filter(([, p]) => p.brief).map(([t]) => t);
    expect(brief).toEqual(['PUBLISH']);
    expect(REPLY_POLICIES.PUBLISH.store).toBe('never');
  });

  it('answers a copy from memory within that time, and from the stored text after it: the same number, stored once', async () => {
    const { s, store, wire, feed, answers } = await served();
    const texts = store.texts.size;
    const datagram = wire.request({ type: 'PUBLISH', name: 'pam', subject: 'news', text: 'four' }, wire.nextRq());
    await feed(datagram, PUB);
    const first = answers('PUBLISHED').at(-1)!;
    expect(store.texts.size).toBe(texts + 1);

    const duplicates = s.counters.duplicates;
    await feed(datagram, PUB);
    expect(s.counters.duplicates).toBe(duplicates + 1);
    expect(answers('PUBLISHED').at(-1)).toEqual(first);

    // Past the brief memory (the clock of the answers moved on), still within the reply lifetime.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + PUBLISH_ANSWER_MEMORY_MS + 1000 });
    const published = answers('PUBLISHED').length;
    await feed(datagram, PUB);
    // Not from memory: the replay window has seen its counter, and the text stored under its request key answers it.
    expect(s.counters.duplicates).toBe(duplicates + 1);
    expect(s.guard.counters.replays).toBe(1);
    expect(answers('PUBLISHED')).toHaveLength(published + 1);
    expect(answers('PUBLISHED').at(-1)).toEqual(first);
    expect(store.texts.size).toBe(texts + 1);
  });

  it('is the only one that leaves memory early: a sealed WHO answer is still there after it', async () => {
    const { s, wire, feed } = await served();
    const datagram = wire.request({ type: 'WHO', name: 'pam' }, wire.nextRq());
    await feed(datagram, PUB);
    const duplicates = s.counters.duplicates;
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + PUBLISH_ANSWER_MEMORY_MS + 1000 });
    await feed(datagram, PUB);
    expect(s.counters.duplicates).toBe(duplicates + 1);
  });
});
