import { describe, expect, it } from 'vitest';
import { SEQ_BLOCK, SEQ_FIRST_BLOCK, Sequencer } from '../../src/server/sequencer';

/** A store counter as allocateSeqs keeps it: each call takes `count` numbers after the last. */
function counter(fail?: () => boolean) {
  let last = 0;
  const calls: number[] = [];
  const allocate = async (count: number) => {
    calls.push(count);
    await new Promise((r) => setImmediate(r));
    if (fail?.()) throw new Error('lease epoch 1 is over');
    const first = last + 1;
    last += count;
    return first;
  };
  return { allocate, calls };
}

describe('Sequencer', () => {
  it('hands out increasing numbers from blocks: the first small, each next twice as large up to SEQ_BLOCK', async () => {
    const c = counter();
    const seq = new Sequencer(c.allocate);
    const got: number[] = [];
    for (let i = 0; i < 1000; i++) got.push(await seq.next());
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(c.calls.slice(0, 6)).toEqual([SEQ_FIRST_BLOCK, 32, 64, 128, SEQ_BLOCK, SEQ_BLOCK]);
    expect(Math.max(...c.calls)).toBe(SEQ_BLOCK);
    // A few store calls for a thousand publishes.
    expect(c.calls.length).toBeLessThan(10);
  });

  it('concurrent callers get distinct numbers in call order', async () => {
    const c = counter();
    const seq = new Sequencer(c.allocate);
    const got = await Promise.all(Array.from({ length: 10 }, () => seq.next()));
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('fetches the next block before the reserve runs dry', async () => {
    const c = counter();
    const seq = new Sequencer(c.allocate);
    const first = await Promise.all(Array.from({ length: 8 }, () => seq.next()));
    expect(first.at(-1)).toBe(8);
    // 8 of the first 16 left: not under the next block's low water (32 / 4) yet, even once every pending callback ran.
    await new Promise((r) => setImmediate(r));
    expect(c.calls).toEqual([SEQ_FIRST_BLOCK]);
    // One more takes it under, and the next block is fetched in the background.
    await seq.next();
    await expect.poll(() => c.calls).toEqual([SEQ_FIRST_BLOCK, 32]);
    const rest = await Promise.all(Array.from({ length: 23 }, () => seq.next()));
    expect(rest[0]).toBe(10);
    expect(rest.at(-1)).toBe(32);
    expect(c.calls).toEqual([SEQ_FIRST_BLOCK, 32]);
  });

  it('callers beyond the reserve wait for one call that covers them all', async () => {
    const c = counter();
    const seq = new Sequencer(c.allocate);
    const got = await Promise.all(Array.from({ length: 3 * SEQ_BLOCK }, () => seq.next()));
    expect(got).toEqual(Array.from({ length: 3 * SEQ_BLOCK }, (_, i) => i + 1));
    // A block for the first caller (it serves the next 15 as well), then one call for everyone else who queued meanwhile.
    expect(c.calls.slice(0, 2)).toEqual([SEQ_FIRST_BLOCK, 3 * SEQ_BLOCK - SEQ_FIRST_BLOCK]);
  });

  it('after reset (the lease moved) no number of the old block is handed out again, and blocks start small again', async () => {
    const c = counter();
    const seq = new Sequencer(c.allocate);
    expect(await seq.next()).toBe(1);
    seq.reset();
    // Nothing is numbered until the next takeover's fence (here: the store's seq, no block with it).
    await expect(seq.next()).rejects.toThrow(/numbered/);
    seq.fenced(SEQ_FIRST_BLOCK);
    const after = await seq.next();
    expect(after).toBe(SEQ_FIRST_BLOCK + 1);
    expect(c.calls).toEqual([SEQ_FIRST_BLOCK, SEQ_FIRST_BLOCK]);
  });

  it('a number finished after a reset is not released: the lease it belonged to is gone', async () => {
    const seq = new Sequencer(counter().allocate);
    const old = await seq.next();
    seq.reset();
    seq.fenced(SEQ_FIRST_BLOCK);
    const shown: number[] = [];
    seq.finish(old, () => shown.push(old));
    const now = await seq.next();
    seq.finish(now, () => shown.push(now));
    expect(shown).toEqual([now]);
  });

  it('a failed allocation rejects its callers, and the next caller tries again', async () => {
    let failing = true;
    const c = counter(() => failing);
    const seq = new Sequencer(c.allocate);
    await expect(seq.next()).rejects.toThrow(/over/);
    failing = false;
    expect(await seq.next()).toBe(1);
  });

  it('holds a finished text back until every lower number is finished', async () => {
    const seq = new Sequencer(counter().allocate);
    const [a, b] = await Promise.all([seq.next(), seq.next()]);
    const shown: number[] = [];
    seq.finish(b!, () => shown.push(b!));
    expect(shown).toEqual([]);
    // The log is read only below the lowest open number.
    expect(seq.visibleLine).toBe(a! - 1);
    seq.finish(a!, () => shown.push(a!));
    expect(shown).toEqual([a, b]);
    expect(seq.visibleLine).toBe(b);
  });

  it('an abandoned number releases the texts above it', async () => {
    const seq = new Sequencer(counter().allocate);
    const [a, b] = await Promise.all([seq.next(), seq.next()]);
    const shown: number[] = [];
    seq.finish(b!, () => shown.push(b!));
    seq.finish(a!);
    expect(shown).toEqual([b]);
  });
});

describe('Sequencer.issued and visibleLine', () => {
  it('the fence line, then the highest number handed out; the visible line stops below the lowest open one; nothing after a reset', async () => {
    let next = 500;
    const seq = new Sequencer(async (count) => {
      const first = next;
      next += count;
      return first;
    });
    // Before the takeover's fence nothing may be read.
    expect([seq.issued, seq.visibleLine]).toEqual([0, 0]);
    seq.fenced(499);
    expect([seq.issued, seq.visibleLine]).toEqual([499, 499]);
    expect(await seq.next()).toBe(500);
    expect(await seq.next()).toBe(501);
    // 500 and 501 are open (being stored): issued, not visible.
    expect([seq.issued, seq.visibleLine]).toEqual([501, 499]);
    seq.finish(501, () => {});
    expect(seq.visibleLine).toBe(499);
    seq.finish(500);
    expect(seq.visibleLine).toBe(501);
    seq.reset();
    expect([seq.issued, seq.visibleLine]).toEqual([0, 0]);
  });

  it('numbers allocated for a lease given up meanwhile are never handed out: they may lie above the next fence', async () => {
    // The holder lost its lease by its own clock (the store went away) while an allocation was in flight, then
    // resumed it under the same epoch; the allocation, retried, reached the store after the resumed fence.
    let next = 100;
    let land: (() => void) | undefined;
    const seq = new Sequencer(async (count) => {
      if (next === 100) await new Promise<void>((r) => (land = r));
      const first = next;
      next += count;
      return first;
    });
    const early = seq.next();
    await new Promise((r) => setImmediate(r));
    seq.reset();
    seq.fenced(99);
    land!();
    await expect(early).rejects.toThrow(/given up/);
    // The numbers of that block are not used: a row of one of them could never be told from an orphan.
    const now = await seq.next();
    expect(now).toBeGreaterThanOrEqual(100 + SEQ_FIRST_BLOCK);
    expect(seq.issued).toBe(now);
    // Nothing stays open from the old block: the watermark is the new number.
    expect(seq.watermark).toBe(now);
  });

  it('after the lease was given up nothing is numbered until the next fence: a block allocated in that gap would go out ahead of the fence\'s first block', async () => {
    // Seen in the chaos test (store flapping): the holder fenced itself by its own clock with a block allocation in
    // flight and resumed the same epoch. The allocation came back stale; asked again at once (a publish queued under
    // the old lease was waiting), and that block reached the store after the resume's fence had taken its first
    // block, so it lay above it and was handed out first: 1345 ... 1351 shown, then 1329, which every cursor had passed.
    let top = 100 + SEQ_FIRST_BLOCK; // the lease's seq in the store
    const landing: (() => void)[] = [];
    let landAtOnce = false;
    const seq = new Sequencer((count) => new Promise<number>((resolve) => {
      const land = () => {
        const first = top + 1;
        top += count;
        resolve(first);
      };
      if (landAtOnce) land();
      else landing.push(land);
    }));
    const settle = () => new Promise((r) => setImmediate(r));
    seq.fenced(100, SEQ_FIRST_BLOCK);
    // Under the low water: the next block is asked for, and stays in flight.
    await Promise.all(Array.from({ length: 9 }, () => seq.next()));
    expect(landing).toHaveLength(1);
    seq.reset();
    // A publish queued under the old lease asks for a number in the gap.
    const queued = seq.next().then((n) => n, (err: Error) => err.message);
    landing.shift()!();
    await settle();
    // The resumed takeover fences every number up to the lease's seq and takes its first block above it.
    const fence = top;
    top += SEQ_FIRST_BLOCK;
    // Anything asked of the store in the gap lands now, after the fence.
    for (const land of landing.splice(0)) land();
    await settle();
    landAtOnce = true;
    seq.fenced(fence, SEQ_FIRST_BLOCK);
    const got = await Promise.all(Array.from({ length: 40 }, () => seq.next()));
    // Issued in increasing order, from the fence up: the visible line (every lower number settled) never passes one issued later.
    expect(got).toEqual([...got].sort((a, b) => a - b));
    expect(got[0]).toBe(fence + 1);
    expect(await queued).toMatch(/numbered/);
    for (const n of got.slice(0, 5)) seq.finish(n, () => {});
    expect(seq.visibleLine).toBe(got[4]);
  });

  it('the first block can come with the fence: handed out without an allocation, the next block twice as large', async () => {
    let next = 117;
    const calls: number[] = [];
    const seq = new Sequencer(async (count) => {
      calls.push(count);
      const first = next;
      next += count;
      return first;
    });
    // The fence read allocated 100 ... 115 (line 99) to this holder.
    seq.fenced(99, SEQ_FIRST_BLOCK);
    const got = await Promise.all(Array.from({ length: 8 }, () => seq.next()));
    expect(got).toEqual(Array.from({ length: 8 }, (_, i) => 100 + i));
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([]);
    // Under the low water (a quarter of the next block): the next block, twice the first, from the store.
    expect(await seq.next()).toBe(108);
    await expect.poll(() => calls).toEqual([2 * SEQ_FIRST_BLOCK]);
  });

  it('settled: the highest number allocated once nothing is open or allocating (the fence when none was), else undefined', async () => {
    let land: (() => void) | undefined;
    let next = 41;
    const seq = new Sequencer(async (count) => {
      await new Promise<void>((r) => (land = r));
      const first = next;
      next += count;
      return first;
    });
    seq.fenced(40);
    expect(seq.settled()).toBe(40);
    const a = seq.next();
    expect(seq.settled()).toBeUndefined();
    land!();
    const n = await a;
    expect(n).toBe(41);
    // 41 is open (its text not stored yet).
    expect(seq.settled()).toBeUndefined();
    seq.finish(n, () => {});
    // The rest of the block (up to 41 + 15) is allocated but unused: settled up to its end.
    expect(seq.settled()).toBe(40 + SEQ_FIRST_BLOCK);
    // A number in doubt (never finished) keeps it unsettled.
    const b = await seq.next();
    expect(seq.settled()).toBeUndefined();
    seq.finish(b);
    expect(seq.settled()).toBe(40 + SEQ_FIRST_BLOCK);
    seq.reset();
    expect(seq.settled()).toBe(0);
  });
});
