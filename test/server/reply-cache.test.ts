/** The reply cache: bounded in size (oldest out first) and in age. */
import { describe, expect, it } from 'vitest';
import type { Reply } from '../../src/protocol/messages';
import { ReplyCache } from '../../src/server/reply-cache';

const reply = (rq: number): Reply[] => [{ type: 'END-CONNECTION-OK', rq }];

describe('ReplyCache', () => {
  it('answers a key with the replies stored for it', () => {
    const c = new ReplyCache(10, 1000);
    c.set('k', reply(1), 0);
    expect(c.getEntry('k', 0)?.replies).toEqual(reply(1));
    expect(c.getEntry('other', 0)?.replies).toBeUndefined();
    c.set('k', reply(2), 10);
    expect(c.getEntry('k', 10)?.replies).toEqual(reply(2));
    expect(c.size).toBe(1);
  });

  it('forgets an entry older than maxAge (and only then)', () => {
    const c = new ReplyCache(10, 1000);
    c.set('k', reply(1), 500);
    expect(c.getEntry('k', 1500)?.replies).toEqual(reply(1));
    expect(c.getEntry('k', 1501)?.replies).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('holds at most maxEntries, evicting the oldest stored first', () => {
    const c = new ReplyCache(3, 1000);
    for (const k of ['a', 'b', 'c']) c.set(k, reply(1), 0);
    // Storing `a` again makes it the newest.
    c.set('a', reply(2), 1);
    c.set('d', reply(3), 2);
    expect(c.size).toBe(3);
    expect(c.getEntry('b', 2)?.replies).toBeUndefined();
    expect(c.getEntry('a', 2)?.replies).toEqual(reply(2));
    expect(c.getEntry('c', 2)?.replies).toEqual(reply(1));
    c.set('e', reply(4), 3);
    expect(c.getEntry('c', 3)?.replies).toBeUndefined();
    expect(c.size).toBe(3);
  });

  it('keeps a native answer as its datagrams only, and the time it was recorded', () => {
    const c = new ReplyCache(10, 1000);
    const at = 1_764_000_000_000;
    c.set('one', reply(1), at, [Buffer.from('a')]);
    c.set('two', reply(2), at + 5, [Buffer.from('b'), Buffer.from('c')]);
    c.set('legacy', reply(3), at - 7);
    expect(c.getEntry('one', at)).toMatchObject({ replies: undefined, wire: [Buffer.from('a')], at });
    expect(c.getEntry('two', at)).toMatchObject({ replies: undefined, wire: [Buffer.from('b'), Buffer.from('c')], at: at + 5 });
    expect(c.getEntry('legacy', at)).toMatchObject({ replies: reply(3), wire: undefined, at: at - 7 });
  });

  it('gives back every datagram exactly, small ones (in its slabs) and large ones (on their own), in any order', () => {
    const c = new ReplyCache(100, 1000, 10_000_000);
    const sizes = [5, 9000, 5, 1200, 70_000, 3, 9000];
    sizes.forEach((n, i) => c.set(`one${i}`, reply(i), 0, [Buffer.alloc(n, i + 1)]));
    c.set('several', reply(9), 0, [Buffer.alloc(7, 1), Buffer.alloc(9000, 2), Buffer.alloc(3, 3)]);
    sizes.forEach((n, i) => expect(c.getEntry(`one${i}`, 0)?.wire).toEqual([Buffer.alloc(n, i + 1)]));
    expect(c.getEntry('several', 0)?.wire).toEqual([Buffer.alloc(7, 1), Buffer.alloc(9000, 2), Buffer.alloc(3, 3)]);
  });

  it('clear() empties it', () => {
    const c = new ReplyCache(3, 1000);
    c.set('a', reply(1), 0);
    c.clear();
    expect(c.size).toBe(0);
    expect(c.getEntry('a', 0)?.replies).toBeUndefined();
  });

  it('holds at most maxBytes, evicting the oldest stored first (a legacy RETRIEVE-TEXTS answer is tens of KB)', () => {
    // 40 texts of 1,000 characters: about 40 KB per answer.
    const retrieved = (rq: number): Reply[] => [{
      type: 'RETRIEVED', rq, name: 'tim', more: false,
      texts: Array.from({ length: 40 }, (_, i) => ({ seq: i, from: 'al', subject: 'news', text: 'x'.repeat(1000), at: 0 })),
    }];
    const c = new ReplyCache(1000, 1000, 100_000);
    c.set('small', reply(0), 0);
    for (let rq = 1; rq <= 3; rq++) c.set(`big${rq}`, retrieved(rq), rq);
    // Entries alone would hold all four; the bytes hold two big answers: the oldest went first.
    expect(c.bytes).toBeLessThanOrEqual(100_000);
    expect(c.bytes).toBeGreaterThan(80_000);
    expect(c.getEntry('small', 3)?.replies).toBeUndefined();
    expect(c.getEntry('big1', 3)?.replies).toBeUndefined();
    expect(c.getEntry('big2', 3)?.replies).toEqual(retrieved(2));
    expect(c.getEntry('big3', 3)?.replies).toEqual(retrieved(3));
    // Datagrams count too.
    c.set('wire', reply(9), 4, [Buffer.alloc(60_000)]);
    expect(c.getEntry('big2', 4)?.replies).toBeUndefined();
    expect(c.bytes).toBeLessThanOrEqual(100_000);
    // One answer larger than the whole bound is not kept, and evicts nothing.
    c.set('huge', reply(10), 5, [Buffer.alloc(200_000)]);
    expect(c.getEntry('huge', 5)?.replies).toBeUndefined();
    expect(c.getEntry('wire', 5)?.wire).toEqual([Buffer.alloc(60_000)]);
    // Expiry and clear() give the bytes back.
    expect(c.getEntry('big3', 2000)?.replies).toBeUndefined();
    c.clear();
    expect(c.bytes).toBe(0);
  });
  it('lets answers past their age go when a later one is stored, unread', () => {
    const c = new ReplyCache(10, 1000);
    c.set('a', reply(1), 0);
    c.set('b', reply(2), 600);
    c.set('c', reply(3), 1001);
    expect(c.size).toBe(2);
    expect(c.getEntry('b', 1001)?.replies).toEqual(reply(2));
    c.set('d', reply(4), 1700);
    expect(c.size).toBe(2);
    expect(c.getEntry('c', 1700)?.replies).toEqual(reply(3));
  });

  it('at its bound, over many answers and re-stored keys, keeps exactly the newest maxEntries', () => {
    const c = new ReplyCache(50, Infinity);
    const newest = new Map<string, number>();
    // Keys from a range not much wider than the bound, in a scrambled order: many are stored again while still kept.
    let restoredWhileKept = 0;
    for (let i = 0; i < 3000; i++) {
      const key = `k${(i * 7919 + ((i * i) % 13)) % 80}`;
      if (c.getEntry(key, i) !== undefined) restoredWhileKept++;
      c.set(key, reply(i), i);
      newest.delete(key);
      newest.set(key, i);
    }
    const kept = [...newest].slice(-50);
    expect(restoredWhileKept).toBeGreaterThan(500);
    expect(c.size).toBe(50);
    for (const [key, i] of kept) expect(c.getEntry(key, 3000)?.replies).toEqual(reply(i));
  });
});
