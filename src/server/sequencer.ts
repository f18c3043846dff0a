/**
 * Sequence numbers for texts, and the order in which they become visible.
 *
 * Allocation is batched: while one fenced allocation is in flight at the
 * store, later publishes queue up and the next allocation takes a block for
 * all of them (group commit), so concurrent publishes cost one round trip.
 *
 * Visibility is gated: a text is pushed (and returned by RETRIEVE-TEXTS)
 * only once every text with a lower number has been stored or abandoned.
 * Without the gate, two concurrent publishes can finish out of order and a
 * user would be shown seq 101 before seq 100 — and then drop 100 as seen.
 */
export type Allocate = (count: number) => Promise<number>;

export class Sequencer {
  private waiting: { resolve: (seq: number) => void; reject: (err: unknown) => void }[] = [];
  private allocating = false;
  /** Allocated, not yet finished. */
  private readonly open = new Set<number>();
  /** Finished, waiting for lower numbers to finish. */
  private held: { seq: number; release: () => void }[] = [];

  constructor(private readonly allocate: Allocate) {}

  /**
   * Every text below this number is stored or abandoned: safe to show.
   * (A pending allocation cannot return anything lower: allocations run one
   * at a time and the lease holder is the only one allocating.)
   */
  get watermark(): number {
    let min = Infinity;
    for (const s of this.open) if (s < min) min = s;
    return min;
  }

  /**
   * The texts of `owed` that may be shown now (below the watermark), and
   * whether any were held back: those come later, in order.
   */
  visible<T extends { _id: number }>(owed: T[]): { shown: T[]; heldBack: boolean } {
    const w = this.watermark;
    const shown = owed.filter((t) => t._id < w);
    return { shown, heldBack: shown.length < owed.length };
  }

  /** The next sequence number; it stays open until finish(). */
  next(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.allocating) void this.run();
    });
  }

  /** The text `seq` is stored (with `release` to make it visible) or abandoned (no release). */
  finish(seq: number, release?: () => void): void {
    this.open.delete(seq);
    if (release) {
      this.held.push({ seq, release });
      this.held.sort((a, b) => a.seq - b.seq);
    }
    this.flush();
  }

  /** Forget everything (the lease is gone). */
  reset(): void {
    this.open.clear();
    this.held = [];
  }

  private flush(): void {
    const w = this.watermark;
    while (this.held.length > 0 && this.held[0]!.seq < w) this.held.shift()!.release();
  }

  private async run(): Promise<void> {
    this.allocating = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      try {
        const first = await this.allocate(batch.length);
        batch.forEach((w, i) => {
          this.open.add(first + i);
          w.resolve(first + i);
        });
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.allocating = false;
  }
}
