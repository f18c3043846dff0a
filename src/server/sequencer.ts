/**
 * Sequence numbers for texts, and the order in which they become visible.
 *
 * Allocation is by blocks, fenced by the lease epoch: the serving server
 * takes a block of numbers from the store at a time and hands them out from
 * memory, fetching the next block before this one runs out, so a publish
 * costs no allocation round trip at all. Numbers of a block left unused
 * when the lease moves are simply never used (sequence numbers are ordered,
 * not dense: a retransmission abandons its number too).
 *
 * Visibility is gated: a text is pushed (and returned by RETRIEVE-TEXTS)
 * only once every text with a lower number has been stored or abandoned.
 * Without the gate, two concurrent publishes can finish out of order and a
 * user would be shown seq 101 before seq 100 — and then drop 100 as seen.
 */
export type Allocate = (count: number) => Promise<number>;

/**
 * Numbers taken from the store at a time: the first block of a lease is
 * small and each next one twice as large, up to SEQ_BLOCK. The numbers left
 * when the lease moves each cost the next holder a fence document
 * (Store.fenceSeqs), so a quiet period wastes a few, a busy one at most a
 * block. The next block is fetched when a quarter of this one is left.
 */
export const SEQ_BLOCK = 256;
export const SEQ_FIRST_BLOCK = 16;

export class Sequencer {
  private waiting: { resolve: (seq: number) => void; reject: (err: unknown) => void }[] = [];
  private allocating = false;
  /** Allocated, not handed out yet: ranges [next, end), oldest first. */
  private reserve: { next: number; end: number }[] = [];
  /** Size of the next block. */
  private block = SEQ_FIRST_BLOCK;
  /** Bumped by reset(): a block allocated before it belongs to a lost lease. */
  private generation = 0;
  /** The first number allocated since the lease was taken (undefined until then). */
  private first: number | undefined;
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

  /**
   * Was `seq` allocated by an earlier holder of the lease (or by this server
   * under an earlier lease)? Such a number's text is stored by now or never
   * will be (the holder handed over after draining, or died): an inbox row
   * owing a missing text below this line is an orphan of a crash, safe to
   * drop. Numbers of this lease may still be in flight: never orphans here.
   */
  fromEarlierHolder(seq: number): boolean {
    return this.first === undefined || seq < this.first;
  }

  /** The next sequence number; it stays open until finish(). */
  next(): Promise<number> {
    if (this.waiting.length === 0 && this.reserve.length > 0) {
      const seq = this.take();
      if (this.reserved() < this.lowWater() && !this.allocating) void this.run();
      return Promise.resolve(seq);
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.allocating) void this.run();
    });
  }

  /** The text `seq` is stored (with `release` to make it visible) or abandoned (no release). */
  finish(seq: number, release?: () => void): void {
    // A number of a lease given up since (reset) is not this lease's to show: the next holder's inbox load
    // shows it in order, where a release now could push it after higher numbers already shown.
    const ours = this.open.delete(seq);
    if (release && ours) {
      this.held.push({ seq, release });
      this.held.sort((a, b) => a.seq - b.seq);
    }
    this.flush();
  }

  /** Forget everything (the lease is gone). */
  reset(): void {
    this.open.clear();
    this.held = [];
    this.reserve = [];
    this.generation++;
    this.first = undefined;
    this.block = SEQ_FIRST_BLOCK;
  }

  private lowWater(): number {
    return this.block / 4;
  }

  /** The next reserved number, now open. */
  private take(): number {
    const r = this.reserve[0]!;
    const seq = r.next++;
    if (r.next === r.end) this.reserve.shift();
    this.open.add(seq);
    return seq;
  }

  private reserved(): number {
    let n = 0;
    for (const r of this.reserve) n += r.end - r.next;
    return n;
  }

  private flush(): void {
    const w = this.watermark;
    while (this.held.length > 0 && this.held[0]!.seq < w) this.held.shift()!.release();
  }

  /** Allocate blocks until every waiting caller has a number and the reserve is above its low water. */
  private async run(): Promise<void> {
    this.allocating = true;
    while (this.waiting.length > 0 || this.reserved() < this.lowWater()) {
      const batch = this.waiting;
      this.waiting = [];
      const generation = this.generation;
      const count = Math.max(this.block, batch.length);
      try {
        const first = await this.allocate(count);
        if (generation === this.generation) {
          this.first ??= first;
          this.block = Math.min(SEQ_BLOCK, this.block * 2);
        }
        batch.forEach((w, i) => {
          this.open.add(first + i);
          w.resolve(first + i);
        });
        if (generation === this.generation && batch.length < count) this.reserve.push({ next: first + batch.length, end: first + count });
        // Callers that came meanwhile are served from the reserve, in arrival order.
        while (this.waiting.length > 0 && this.reserve.length > 0) this.waiting.shift()!.resolve(this.take());
      } catch (err) {
        for (const w of batch) w.reject(err);
        // Not serving (or the store is down): callers of the next round try again themselves.
        if (this.waiting.length === 0) break;
      }
    }
    this.allocating = false;
  }
}
