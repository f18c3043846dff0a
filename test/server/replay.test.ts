import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SEEN, REPLAY_WINDOW_US, ReplayWindow, type ReplayVerdict } from '../../src/server/replay';

/** The rule stated plainly (a set and full scans), to hold the fast window to. */
class PlainWindow {
  high: number;
  private floor: number;
  private readonly seen = new Set<number>();
  constructor(start: number) {
    this.high = start;
    this.floor = start;
  }
  accept(ctr: number): ReplayVerdict {
    if (ctr <= Math.max(this.floor, this.high - REPLAY_WINDOW_US)) return 'stale';
    if (this.seen.has(ctr)) return 'replay';
    this.seen.add(ctr);
    if (ctr > this.high) {
      this.high = ctr;
      for (const c of this.seen) if (c <= this.high - REPLAY_WINDOW_US) this.seen.delete(c);
    }
    if (this.seen.size > MAX_SEEN) {
      const min = Math.min(...this.seen);
      this.seen.delete(min);
      this.floor = Math.max(this.floor, min);
    }
    return 'fresh';
  }
  forget(ctr: number): void {
    this.seen.delete(ctr);
  }
}

describe('ReplayWindow', () => {
  it('fresh, then replay, then stale once out of the window', () => {
    const w = new ReplayWindow(1000);
    expect(w.accept(1000)).toBe('stale');
    expect(w.accept(2000)).toBe('fresh');
    expect(w.accept(2000)).toBe('replay');
    expect(w.accept(1500)).toBe('fresh');
    expect(w.accept(2000 + REPLAY_WINDOW_US + 1)).toBe('fresh');
    expect(w.accept(1500)).toBe('stale');
    w.forget(2000 + REPLAY_WINDOW_US + 1);
    expect(w.accept(2000 + REPLAY_WINDOW_US + 1)).toBe('fresh');
  });

  it('when more than MAX_SEEN counters are in the window, the smallest is dropped and the floor rises to it', () => {
    const w = new ReplayWindow(0);
    for (let i = 1; i <= MAX_SEEN + 1; i++) expect(w.accept(i * 10)).toBe('fresh');
    expect(w.accept(10)).toBe('stale');
    expect(w.accept(15)).toBe('fresh');
    expect(w.accept(20)).toBe('replay');
  });

  it('gives the verdicts of the plain rule on mostly increasing counters, with repeats, stragglers, forgets and overflow', () => {
    const step = fc.oneof(
      { weight: 6, arbitrary: fc.record({ up: fc.integer({ min: 1, max: 10_000 }) }) },
      { weight: 2, arbitrary: fc.record({ back: fc.integer({ min: 0, max: REPLAY_WINDOW_US + 100_000 }) }) },
      { weight: 1, arbitrary: fc.record({ forget: fc.integer({ min: 0, max: 3000 }) }) },
      { weight: 2, arbitrary: fc.record({ resend: fc.integer({ min: 0, max: 3000 }) }) },
    );
    fc.assert(fc.property(fc.array(step, { minLength: 2500, maxLength: 6000 }), (steps) => {
      const fast = new ReplayWindow(5);
      const plain = new PlainWindow(5);
      let ctr = 1_000_000;
      const sent: number[] = [];
      for (const s of steps) {
        if ('forget' in s) {
          const c = sent[sent.length - 1 - (s.forget % Math.max(1, sent.length))];
          if (c !== undefined) {
            fast.forget(c);
            plain.forget(c);
          }
          continue;
        }
        const c = 'up' in s ? (ctr += s.up) : 'back' in s ? ctr - s.back : sent[sent.length - 1 - (s.resend % Math.max(1, sent.length))];
        if (c === undefined) continue;
        sent.push(c);
        expect(fast.accept(c)).toBe(plain.accept(c));
        expect(fast.high).toBe(plain.high);
      }
    }), { numRuns: 20 });
  });
});
