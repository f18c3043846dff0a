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
  /**
   * The ctrs of `seen` in ascending order from `head` (entries forgotten
   * meanwhile are skipped when reached), so pruning and dropping the
   * smallest cost what they remove, not a walk over the whole window.
   */
  private order: number[] = [];
  private head = 0;

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
    this.insertOrdered(ctr);
    if (ctr > this.high) {
      this.high = ctr;
      this.prune();
    }
    if (this.seen.size > MAX_SEEN) {
      const min = this.shiftSmallest()!;
      this.floor = Math.max(this.floor, min);
    }
    return 'fresh';
  }

  /** Forget a recorded ctr (its request was not executed, so its retransmission must pass). */
  forget(ctr: number): void {
    this.seen.delete(ctr);
  }

  /** Drop the ctrs that fell out of the window. */
  private prune(): void {
    const floor = this.high - REPLAY_WINDOW_US;
    while (this.head < this.order.length && this.order[this.head]! <= floor) this.seen.delete(this.order[this.head++]!);
    this.compact();
  }

  /** Remove and return the smallest ctr still seen. */
  private shiftSmallest(): number | undefined {
    while (this.head < this.order.length) {
      const c = this.order[this.head++]!;
      if (this.seen.delete(c)) {
        this.compact();
        return c;
      }
    }
    return undefined;
  }

  /** Counters mostly grow: appending is the rule, a binary-search insert the exception. */
  private insertOrdered(ctr: number): void {
    const o = this.order;
    if (o.length === this.head || o[o.length - 1]! < ctr) {
      o.push(ctr);
      return;
    }
    let lo = this.head;
    let hi = o.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (o[mid]! < ctr) lo = mid + 1;
      else hi = mid;
    }
    o.splice(lo, 0, ctr);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
