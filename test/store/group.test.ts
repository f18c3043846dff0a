import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GroupCommit, type GroupCommitOptions } from '../../src/store/group';
import { FakeClock } from '../../src/util/clock';

/** One flush call the test answers by hand. */
interface Write {
  items: number[];
  /** Answered or failed already. */
  ended: boolean;
  answer: (out: (string | Error)[]) => void;
  fail: (err: unknown) => void;
}

/** A GroupCommit over a flush whose writes stay open until the test ends them; counts the most open at once. */
function harness(opts: GroupCommitOptions = {}) {
  const writes: Write[] = [];
  let open = 0;
  let mostOpen = 0;
  const group = new GroupCommit<number, string>((items) => {
    open++;
    mostOpen = Math.max(mostOpen, open);
    return new Promise((resolve, reject) => {
      const w: Write = {
        items,
        ended: false,
        answer: (out) => (done(), resolve(out)),
        fail: (err) => (done(), reject(err)),
      };
      const done = () => {
        w.ended = true;
        open--;
      };
      writes.push(w);
    });
  }, opts);
  /** Every caller's outcome by item, once settled. */
  const outcomes = new Map<number, string | Error>();
  const add = (n: number) => {
    void group.add(n).then(
      (r) => void outcomes.set(n, r),
      (e: Error) => void outcomes.set(n, e),
    );
  };
  const ok = (w: Write) => w.answer(w.items.map((n) => `stored ${n}`));
  return { group, writes, add, ok, outcomes, mostOpen: () => mostOpen };
}

/** End of the current turn: the scheduled group starts run, then the settled promises' callbacks. */
const turn = () => vi.advanceTimersByTimeAsync(0);

describe('GroupCommit', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setImmediate', 'setTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('with one write in flight, calls made meanwhile wait and go together as the next group', async () => {
    const h = harness({ maxInFlight: 1 });
    h.add(1);
    h.add(2);
    await turn();
    expect(h.writes.map((w) => w.items)).toEqual([[1, 2]]);
    h.add(3);
    h.add(4);
    await turn();
    expect(h.writes).toHaveLength(1);
    h.ok(h.writes[0]!);
    await turn();
    expect(h.writes.map((w) => w.items)).toEqual([[1, 2], [3, 4]]);
    h.ok(h.writes[1]!);
    await turn();
    expect(h.group.inFlight).toBe(0);
    expect([...h.outcomes].sort()).toEqual([[1, 'stored 1'], [2, 'stored 2'], [3, 'stored 3'], [4, 'stored 4']]);
  });

  it('a call made while a group is written goes out at once in the next group when a slot is free', async () => {
    const h = harness({ maxInFlight: 2 });
    h.add(1);
    await turn();
    h.add(2);
    h.add(3);
    await turn();
    expect(h.writes.map((w) => w.items)).toEqual([[1], [2, 3]]);
    expect(h.group.inFlight).toBe(2);
    // Both slots busy: the next calls wait, together, for the first write to end.
    h.add(4);
    h.add(5);
    await turn();
    expect(h.writes).toHaveLength(2);
    h.ok(h.writes[1]!);
    await turn();
    expect(h.writes.map((w) => w.items)).toEqual([[1], [2, 3], [4, 5]]);
    // The second group finished before the first: its callers are answered without waiting for it.
    expect(h.outcomes.get(2)).toBe('stored 2');
    expect(h.outcomes.has(1)).toBe(false);
    h.ok(h.writes[0]!);
    h.ok(h.writes[2]!);
    await turn();
    expect(h.outcomes.size).toBe(5);
    expect(h.mostOpen()).toBe(2);
  });

  it('bounds group sizes: a long queue is split, a group per free slot, in the order the calls came', async () => {
    const h = harness({ maxInFlight: 2, maxGroup: 2 });
    for (let n = 1; n <= 5; n++) h.add(n);
    await turn();
    expect(h.writes.map((w) => w.items)).toEqual([[1, 2], [3, 4]]);
    h.ok(h.writes[0]!);
    await turn();
    expect(h.writes.map((w) => w.items)).toEqual([[1, 2], [3, 4], [5]]);
    h.ok(h.writes[1]!);
    h.ok(h.writes[2]!);
    await turn();
    expect([...h.outcomes.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('a group whose write throws fails its own callers only; a per-item Error fails that item only', async () => {
    const h = harness({ maxInFlight: 2 });
    h.add(1);
    h.add(2);
    await turn();
    h.add(3);
    h.add(4);
    await turn();
    h.add(5);
    await turn();
    expect(h.writes.map((w) => w.items)).toEqual([[1, 2], [3, 4]]);
    h.writes[0]!.fail(new Error('store down'));
    await turn();
    expect(h.writes.map((w) => w.items)).toEqual([[1, 2], [3, 4], [5]]);
    h.writes[1]!.answer(['stored 3', new Error('fenced 4')]);
    h.ok(h.writes[2]!);
    await turn();
    expect((h.outcomes.get(1) as Error).message).toBe('store down');
    expect((h.outcomes.get(2) as Error).message).toBe('store down');
    expect(h.outcomes.get(3)).toBe('stored 3');
    expect((h.outcomes.get(4) as Error).message).toBe('fenced 4');
    expect(h.outcomes.get(5)).toBe('stored 5');
  });

  it('a flush that throws synchronously fails its group and frees its slot', async () => {
    let calls = 0;
    const group = new GroupCommit<number, number>((items) => {
      if (calls++ === 0) throw new Error('bad command');
      return Promise.resolve(items.map((n) => n * 10));
    }, { maxInFlight: 1 });
    const first = expect(group.add(1)).rejects.toThrow('bad command');
    await turn();
    await first;
    const second = expect(group.add(2)).resolves.toBe(20);
    await turn();
    await second;
  });

  it.each([1, 2, 3])('under random calls and completions (maxInFlight %i): never more writes than allowed, every caller answered once, groups in call order', async (maxInFlight) => {
    // A fixed-seed generator: the same schedule on every run.
    let seed = 17 * maxInFlight;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const h = harness({ maxInFlight, maxGroup: 4 });
    let next = 1;
    for (let step = 0; step < 400; step++) {
      const calls = Math.floor(rand() * 4);
      for (let i = 0; i < calls; i++) h.add(next++);
      const pending = h.writes.filter((w) => !w.ended);
      if (pending.length > 0 && rand() < 0.6) {
        const w = pending[Math.floor(rand() * pending.length)]!;
        if (rand() < 0.2) w.fail(new Error(`group of ${w.items[0]} failed`));
        else h.ok(w);
      }
      await turn();
      expect(h.group.inFlight).toBeLessThanOrEqual(maxInFlight);
    }
    // Drain: end every write still open until none is left.
    for (let open = h.writes.filter((w) => !w.ended); open.length > 0; open = h.writes.filter((w) => !w.ended)) {
      for (const w of open) h.ok(w);
      await turn();
    }
    expect(h.mostOpen()).toBe(maxInFlight);
    expect(h.group.inFlight).toBe(0);
    expect(h.writes.every((w) => w.items.length >= 1 && w.items.length <= 4)).toBe(true);
    // Every item went in exactly one group, and groups started in the order of the calls.
    expect(h.writes.flatMap((w) => w.items)).toEqual(Array.from({ length: next - 1 }, (_, i) => i + 1));
    expect(h.outcomes.size).toBe(next - 1);
    for (const [n, out] of h.outcomes) {
      const failed = out instanceof Error;
      if (failed) expect(out.message).toBe(`group of ${h.writes.find((w) => w.items.includes(n))!.items[0]} failed`);
      else expect(out).toBe(`stored ${n}`);
    }
  });

  describe('linger', () => {
    /** Calls `n` items `gap` ms apart on the fake clock, a turn after each. */
    async function steady(h: ReturnType<typeof harness>, clock: FakeClock, first: number, n: number, gap: number) {
      for (let i = 0; i < n; i++) {
        h.add(first + i);
        await turn();
        clock.advance(gap);
      }
    }

    it('under steady calls closer than the linger, a small group waits for company, then goes with all that came', async () => {
      const clock = new FakeClock();
      const h = harness({ maxInFlight: 1, linger: 1, clock });
      // The first calls: no gap known yet, so they go at once.
      await steady(h, clock, 1, 2, 0.2);
      expect(h.writes.map((w) => w.items)).toEqual([[1]]);
      h.ok(h.writes[0]!);
      await turn();
      // Item 2 came 0.2 ms ago with calls 0.2 ms apart: it waits until 1 ms after it came (t = 1.2).
      expect(h.writes).toHaveLength(1);
      await steady(h, clock, 3, 3, 0.2);
      expect(h.writes).toHaveLength(1);
      await steady(h, clock, 6, 2, 0.2);
      expect(h.writes.map((w) => w.items)).toEqual([[1], [2, 3, 4, 5, 6]]);
      expect(h.outcomes.get(1)).toBe('stored 1');
    });

    it('a caller after a quiet spell is not kept waiting', async () => {
      const clock = new FakeClock();
      const h = harness({ maxInFlight: 1, linger: 1, clock });
      h.add(1);
      await turn();
      h.ok(h.writes[0]!);
      clock.advance(50);
      h.add(2);
      await turn();
      // The gap between calls (50 ms) is longer than the linger: no company is expected.
      expect(h.writes.map((w) => w.items)).toEqual([[1], [2]]);
    });

    it('one caller writing again as soon as it is answered waits once, then no more', async () => {
      const clock = new FakeClock();
      const h = harness({ maxInFlight: 1, linger: 2, clock });
      const immediate: number[] = [];
      for (let n = 1; n <= 6; n++) {
        h.add(n);
        await turn();
        if (h.writes.length < n) {
          clock.advance(2);
          await turn();
        } else immediate.push(n);
        expect(h.writes).toHaveLength(n);
        h.ok(h.writes[n - 1]!);
        await turn();
        clock.advance(0.2);
      }
      // Call 2 came 0.2 ms after call 1 and waited its 2 ms for nobody; from then on none waits.
      expect(immediate).toEqual([1, 3, 4, 5, 6]);
      expect(h.writes.every((w) => w.items.length === 1)).toBe(true);
    });

    it('waits again once groups of several form by themselves', async () => {
      const clock = new FakeClock();
      const h = harness({ maxInFlight: 1, linger: 2, clock });
      h.add(1);
      await turn();
      clock.advance(0.2);
      h.add(2);
      await turn();
      h.ok(h.writes[0]!);
      await turn();
      clock.advance(2);
      await turn();
      // Item 2 waited alone: waiting stops paying.
      expect(h.writes.map((w) => w.items)).toEqual([[1], [2]]);
      // Two calls while item 2's write is out: they go together at once, which makes waiting pay again.
      h.add(3);
      clock.advance(0.1);
      h.add(4);
      await turn();
      h.ok(h.writes[1]!);
      await turn();
      expect(h.writes.map((w) => w.items)).toEqual([[1], [2], [3, 4]]);
      h.ok(h.writes[2]!);
      await turn();
      clock.advance(0.1);
      h.add(5);
      await turn();
      expect(h.writes).toHaveLength(3);
      clock.advance(2);
      await turn();
      expect(h.writes.map((w) => w.items)).toEqual([[1], [2], [3, 4], [5]]);
    });

    it('stops waiting as soon as the group is full enough', async () => {
      const clock = new FakeClock();
      const h = harness({ maxInFlight: 1, linger: 5, lingerFill: 3, clock });
      await steady(h, clock, 1, 2, 0.1);
      h.ok(h.writes[0]!);
      await turn();
      expect(h.writes).toHaveLength(1);
      h.add(3);
      await turn();
      expect(h.writes).toHaveLength(1);
      h.add(4);
      await turn();
      // Three queued (2, 3, 4): the group goes well before its 5 ms are out.
      expect(h.writes.map((w) => w.items)).toEqual([[1], [2, 3, 4]]);
    });

    it('refuses a linger outside 0 to 1000 ms', () => {
      const flush = () => Promise.resolve([]);
      expect(() => new GroupCommit(flush, { linger: -1 })).toThrow(/linger/);
      expect(() => new GroupCommit(flush, { linger: Number.NaN })).toThrow(/linger/);
      expect(() => new GroupCommit(flush, { linger: 5000 })).toThrow(/linger/);
    });
  });

  it('refuses a group size or a number of writes in flight below 1', () => {
    const flush = () => Promise.resolve([]);
    expect(() => new GroupCommit(flush, { maxInFlight: 0 })).toThrow(RangeError);
    expect(() => new GroupCommit(flush, { maxGroup: 0 })).toThrow(/maxGroup/);
    expect(() => new GroupCommit(flush, { maxInFlight: 1.5 })).toThrow(/maxInFlight/);
  });
});
