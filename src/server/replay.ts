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
 * answered from the cache before its ctr is looked at. A PUBLISH's answer
 * stays there only briefly: a later copy is refused here as a replay (or
 * stale), and the intake then answers it from its stored text.
 */
export const REPLAY_WINDOW_US = 30_000_000;
export const MAX_SEEN = 2048;

export type ReplayVerdict = 'fresh' | 'replay' | 'stale';

export class ReplayWindow {
  /** Highest ctr accepted. */
  high: number;
  private floor: number;
  /**
   * The ctrs seen inside the window, ascending, from `head` (what lies
   * before it has left the window). Counters mostly grow, so recording one
   * is an append and looking it up a comparison with the last; a straggler
   * costs a binary search. No hash set: the counters are µs times, numbers
   * a Set would hash as doubles on every datagram.
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
    const o = this.order;
    if (o.length === this.head || o[o.length - 1]! < ctr) o.push(ctr);
    else {
      const at = this.search(ctr);
      if (o[at] === ctr) return 'replay';
      o.splice(at, 0, ctr);
    }
    if (ctr > this.high) {
      this.high = ctr;
      this.prune();
    }
    if (o.length - this.head > MAX_SEEN) {
      this.floor = Math.max(this.floor, o[this.head++]!);
      this.compact();
    }
    return 'fresh';
  }

  /** Forget a recorded ctr (its request was not executed, so its retransmission must pass). */
  forget(ctr: number): void {
    const at = this.search(ctr);
    if (this.order[at] === ctr) this.order.splice(at, 1);
  }

  /** Where `ctr` is, or would be inserted, among the ctrs seen. */
  private search(ctr: number): number {
    const o = this.order;
    let lo = this.head;
    let hi = o.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (o[mid]! < ctr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drop the ctrs that fell out of the window. */
  private prune(): void {
    const floor = this.high - REPLAY_WINDOW_US;
    while (this.head < this.order.length && this.order[this.head]! <= floor) this.head++;
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
