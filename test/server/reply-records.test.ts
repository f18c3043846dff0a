/** Recorded answers: what goes to the store and how a takeover puts it back into the reply cache. */
import { describe, expect, it } from 'vitest';
import { Binary } from 'bson';
import type { Reply } from '../../src/protocol/messages';
import { ReplyCache } from '../../src/server/reply-cache';
import { replyRecord, restoreReplies } from '../../src/server/reply-records';

const replies: Reply[] = [{ type: 'END-CONNECTION-OK', rq: 4 }];

describe('reply records', () => {
  it('stores a native answer as its datagrams only, a legacy one as its replies', () => {
    const wire = [Buffer.from([1, 2, 3])];
    expect(replyRecord({ replies, wire })).toEqual({ wire });
    expect(replyRecord({ replies })).toEqual({ replies });
  });

  it('restores datagrams given back as bytes, as BSON binary or as base64, at the time recorded', () => {
    const cache = new ReplyCache(10, 1000);
    const bytes = Uint8Array.from([9, 8, 7]);
    restoreReplies(cache, [
      { _id: 'raw', reply: { wire: [bytes] }, at: 100 },
      { _id: 'binary', reply: { wire: [new Binary(Buffer.from([6, 5]))] }, at: 100 },
      { _id: 'base64', reply: { wire: [Buffer.from([4, 3]).toString('base64')] }, at: 100 },
      { _id: 'legacy', reply: { replies }, at: 50 },
    ]);
    expect(cache.getEntry('raw', 100)?.wire).toEqual([Buffer.from([9, 8, 7])]);
    expect(cache.getEntry('binary', 100)?.wire).toEqual([Buffer.from([6, 5])]);
    expect(cache.getEntry('base64', 100)?.wire).toEqual([Buffer.from([4, 3])]);
    expect(cache.getEntry('legacy', 100)).toMatchObject({ replies, at: 50, wire: undefined });
    // Recorded at 50 with a lifetime of 1000: gone after 1050.
    expect(cache.getEntry('legacy', 1051)).toBeUndefined();
  });
});
