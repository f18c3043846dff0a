/** The owed rule: `since` for a new list of subjects, and fan-out agreeing with the log read around numbers still open. */
import { describe, expect, it } from 'vitest';
import { owedAfter, owedAtFanOut, owedFrom, sinceFor } from '../../src/server/owed';
import { Sequencer } from '../../src/server/sequencer';
import type { UserDoc } from '../../src/store/documents';

const user = (subjects: string[], since: { subject: string; seq: number }[] = []): UserDoc => ({
  _id: 'bob', host: '127.0.0.1', port: 1, dialect: 'native', subjects, since, createdAt: 0,
});

describe('sinceFor', () => {
  it('kept subjects keep their line, added ones start at the number issued, dropped ones lose theirs', () => {
    const bob = user(['a', 'b'], [{ subject: 'a', seq: 3 }, { subject: 'b', seq: 7 }]);
    expect(sinceFor(bob, ['b', 'c'], 20)).toEqual([{ subject: 'b', seq: 7 }, { subject: 'c', seq: 20 }]);
    // Dropped and added again: it starts anew (what was published meanwhile is not owed).
    expect(sinceFor(user(['c'], [{ subject: 'c', seq: 20 }]), ['c', 'a'], 30)).toEqual([{ subject: 'c', seq: 20 }, { subject: 'a', seq: 30 }]);
  });

  it('a kept subject without a line (a migrated document) is owed from the cursor', () => {
    const bob = user(['a'], []);
    expect(sinceFor(bob, ['a'], 9)).toEqual([{ subject: 'a', seq: 0 }]);
    expect(owedAfter({ ...bob, since: sinceFor(bob, ['a'], 9) }, 4, 'a')).toBe(4);
  });
});

describe('fan-out and the log agree', () => {
  it('a subject added while a text on it is still being stored: owed by neither; one numbered after: owed by both', async () => {
    let next = 1;
    const seq = new Sequencer(async (count) => {
      const first = next;
      next += count;
      return first;
    });
    seq.fenced(0);
    const early = await seq.next();
    // bob adds `news` now: `early` is issued, not stored yet.
    const bob = user(['news'], sinceFor(user([]), ['news'], seq.issued));
    const late = await seq.next();
    const announced: number[] = [];
    const fanOut = (n: number) => () => owedAtFanOut(bob, n, 'news') && announced.push(n);
    seq.finish(late, fanOut(late));
    seq.finish(early, fanOut(early));
    expect(announced).toEqual([late]);
    // The log read: each number owed iff above bob's line on `news` (and the visible line covers both).
    const line = owedFrom(bob, 0).find((f) => f.subject === 'news')!.after;
    expect(seq.visibleLine).toBeGreaterThanOrEqual(late);
    expect([early, late].filter((n) => n > line)).toEqual([late]);
  });
});
