/** The reply cache: bounded in size (oldest out first) and in age. */
import { describe, expect, it } from 'vitest';
import type { Reply } from '../../src/protocol/messages';
import { ReplyCache } from '../../src/server/reply-cache';

const reply = (rq: number): Reply[] => [{ type: 'END-CONNECTION-OK', rq }];

describe('ReplyCache', () => {
  it('answers a key with the replies stored for it', () => {
    const c = new ReplyCache(10, 1000);
    c.set('k', reply(1), 0);
    expect(c.get('k', 0)).toEqual(reply(1));
    expect(c.get('other', 0)).toBeUndefined();
    c.set('k', reply(2), 10);
    expect(c.get('k', 10)).toEqual(reply(2));
    expect(c.size).toBe(1);
  });

  it('forgets an entry older than maxAge (and only then)', () => {
    const c = new ReplyCache(10, 1000);
    c.set('k', reply(1), 500);
    expect(c.get('k', 1500)).toEqual(reply(1));
    expect(c.get('k', 1501)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('holds at most maxEntries, evicting the oldest stored first', () => {
    const c = new ReplyCache(3, 1000);
    for (const k of ['a', 'b', 'c']) c.set(k, reply(1), 0);
    // Storing `a` again makes it the newest.
    c.set('a', reply(2), 1);
    c.set('d', reply(3), 2);
    expect(c.size).toBe(3);
    expect(c.get('b', 2)).toBeUndefined();
    expect(c.get('a', 2)).toEqual(reply(2));
    expect(c.get('c', 2)).toEqual(reply(1));
    c.set('e', reply(4), 3);
    expect(c.get('c', 3)).toBeUndefined();
    expect(c.size).toBe(3);
  });

  it('clear() empties it', () => {
    const c = new ReplyCache(3, 1000);
    c.set('a', reply(1), 0);
    c.clear();
    expect(c.size).toBe(0);
    expect(c.get('a', 0)).toBeUndefined();
  });
});
