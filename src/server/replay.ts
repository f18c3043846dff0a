/**
 * Replay protection for authenticated native requests, per user.
 *
 * A client's `ctr` is max(last + 1, wall-clock µs), but two processes of one
 * identity (a `listen` and a `publish`) interleave their counters, so the
 * rule is a sliding window, not strict growth: a ctr is accepted when it is
 * above the window's floor — the highest ctr seen minus REPLAY_WINDOW_US,
 * and never below the high-water mark this server started from — and was
 * not seen before. The ctrs seen inside the window are remembered, at most
 * MAX_SEEN of them (dropping the smallest raises the floor instead).
 *
 * This check comes after the reply cache: a retransmission (same bytes) is
 * answered from the cache before its ctr is looked at.
 */
export const REPLAY_WINDOW_US = 30_000_000;
export const MAX_SEEN = 2048;

export type ReplayVerdict = 'fresh' | 'replay' | 'stale';

export class ReplayWindow {
  /** Highest ctr accepted. */
  high: number;
  private floor: number;
  private readonly seen = new Set<number>();

  /** `start`: the persisted high-water mark (ctrs at or below it are refused). */
  constructor(start: number) {
    this.high = start;
    this.floor = start;
  }

  /** Classify `ctr`; only a fresh one is recorded. */
  accept(ctr: number): ReplayVerdict {
    const floor = Math.max(this.floor, this.high - REPLAY_WINDOW_US);
    if (ctr <= floor) return 'stale';
    if (this.seen.has(ctr)) return 'replay';
    this.seen.add(ctr);
    if (ctr > this.high) {
      this.high = ctr;
      this.prune();
    }
    if (this.seen.size > MAX_SEEN) {
      let min = Infinity;
      for (const c of this.seen) if (c < min) min = c;
      this.seen.delete(min);
      this.floor = Math.max(this.floor, min);
    }
    return 'fresh';
  }

  /** Forget a recorded ctr (its request was not executed, so its retransmission must pass). */
  forget(ctr: number): void {
    this.seen.delete(ctr);
  }

  private prune(): void {
    // Cheap enough: the set is bounded, and only ctrs that fell out of the window are dropped.
    const floor = this.high - REPLAY_WINDOW_US;
    if (this.seen.size < 64) return;
    for (const c of this.seen) if (c <= floor) this.seen.delete(c);
  }
}
