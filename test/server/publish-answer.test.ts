/**
 * A PUBLISH's answer stays in memory only PUBLISH_ANSWER_MEMORY_MS (the
 * native client's exchange lifetime), not the whole reply lifetime: a copy
 * that comes later is answered from the text its first copy stored, under
 * its request key, with the same number, and nothing is stored twice,
 * whatever the user's state is by then. A denial stays the whole reply
 * lifetime, as do other answers kept in memory.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PUBLISH_ANSWER_MEMORY_MS } from '../../src/protocol/limits';
import { EXCHANGE_LIFETIME_MS } from '../../src/client/retry';
import { REPLY_POLICIES } from '../../src/server/reply-policy';
import { closeServed, PUB, served } from '../helpers/served';

/** The answers' clock (Date) moves past the brief memory, still within the reply lifetime. */
const later = () => vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + PUBLISH_ANSWER_MEMORY_MS + 1000 });

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

  it('answers a late copy with its text even when the subject has left the publisher\'s list since', async () => {
    const { store, wire, feed, answers } = await served();
    const datagram = wire.request({ type: 'PUBLISH', name: 'pam', subject: 'news', text: 'four' }, wire.nextRq());
    await feed(datagram, PUB);
    const first = answers('PUBLISHED').at(-1)!;
    await feed(wire.request({ type: 'SUBJECTS', name: 'pam', subjects: ['sport'] }, wire.nextRq()), PUB);
    const texts = store.texts.size;
    later();
    await feed(datagram, PUB);
    expect(answers('PUBLISH-DENIED')).toHaveLength(0);
    expect(answers('PUBLISHED').at(-1)).toEqual(first);
    expect(store.texts.size).toBe(texts);
  });

  it('keeps a denial the whole lifetime: a late copy stays denied after the subject joined the list', async () => {
    const { s, store, wire, feed, answers } = await served();
    const datagram = wire.request({ type: 'PUBLISH', name: 'pam', subject: 'sport', text: 'early' }, wire.nextRq());
    await feed(datagram, PUB);
    expect(answers('PUBLISH-DENIED')).toHaveLength(1);
    await feed(wire.request({ type: 'SUBJECTS', name: 'pam', subjects: ['news', 'sport'] }, wire.nextRq()), PUB);
    const texts = store.texts.size;
    const duplicates = s.counters.duplicates;
    later();
    await feed(datagram, PUB);
    expect(s.counters.duplicates).toBe(duplicates + 1);
    expect(answers('PUBLISH-DENIED')).toHaveLength(2);
    expect(answers('PUBLISH-DENIED')[1]).toEqual(answers('PUBLISH-DENIED')[0]);
    expect(store.texts.size).toBe(texts);
  });

  it('canonical text (no answer in that catalog): a late copy of the same bytes stores nothing and pushes nothing again', async () => {
    const { store, feed, messages } = await served();
    const tom = { host: '10.0.0.6', port: 4006 };
    await feed(Buffer.from('REGISTER 1 tom 10.0.0.6 4006'), tom);
    await feed(Buffer.from('SUBJECTS 2 tom news'), tom);
    const texts = store.texts.size;
    await feed(Buffer.from('PUBLISH 3 tom news hello'), tom);
    expect(store.texts.size).toBe(texts + 1);
    const pushed = messages().filter((m) => m.text === 'hello').length;
    later();
    await feed(Buffer.from('PUBLISH 3 tom news hello'), tom);
    expect(store.texts.size).toBe(texts + 1);
    expect(messages().filter((m) => m.text === 'hello')).toHaveLength(pushed);
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
