/**
 * RETRIEVE-TEXTS `last N` from an address that is not the user's own (a
 * one-shot command, a second device): each answer is one datagram (the
 * address's budget), so the client asks again for the older ones until it
 * has N or the server has no more. Through a running pair, real UDP.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Store } from '../../src/store/store';
import { MemoryKeyRing } from '../../src/client/keys';
import type { RssClient } from '../../src/client/client';
import { startSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await sys?.close();
  sys = undefined;
});

/**
 * A pair where lea published `n` texts on news and kim follows news; kim
 * reads from `away`, a second client with its keys on another socket (so
 * not the address kim registered).
 */
async function leaPublishedAndKimAway(n: number): Promise<{ seqs: number[]; away: RssClient }> {
  sys = await startSystem();
  const lea = await sys.client();
  await lea.register('lea');
  await lea.subjects('lea', ['news']);
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) seqs.push((await lea.publish('lea', 'news', `text number ${i} with some words in it`)).seq);
  const keys = new MemoryKeyRing();
  const home = await sys.client({ keys });
  await home.register('kim');
  await home.subjects('kim', ['news']);
  return { seqs, away: await sys.client({ keys }) };
}

describe('retrieve --last from another address', () => {
  it('brings the N newest, oldest first, in several answers; all there is when fewer exist', async () => {
    const { seqs, away } = await leaPublishedAndKimAway(120);
    const got = await away.retrieve('kim', { last: 100 });
    expect(got.texts.map((t) => t.seq)).toEqual(seqs.slice(-100));
    expect(got.more).toBe(false);
    const all = await away.retrieve('kim', { last: 1000 });
    expect(all.texts.map((t) => t.seq)).toEqual(seqs);
    expect(all.more).toBe(false);
  });

  it('a server that does not page back (ignores `before`): the newest that came, in order, and `more` says the rest did not', async () => {
    const { seqs, away } = await leaPublishedAndKimAway(60);
    const lastTexts = Store.prototype.lastTexts;
    vi.spyOn(Store.prototype, 'lastTexts').mockImplementation(function (this: Store, subjects: string[], n: number) {
      return lastTexts.call(this, subjects, n);
    });
    const got = await away.retrieve('kim', { last: 50 });
    expect(got.more).toBe(true);
    expect(got.texts.length).toBeGreaterThan(0);
    expect(got.texts.length).toBeLessThan(50);
    expect(got.texts.map((t) => t.seq)).toEqual(seqs.slice(-got.texts.length));
  });
});
