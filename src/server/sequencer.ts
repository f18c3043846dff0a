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
import { NotServingError } from '../errors';

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
  /** Every number up to this one has its text or can never have one (this takeover's fence; 0 until then). */
  private fence = 0;
  /** Allocated, not yet finished. */
  private readonly open = new Set<number>();
  /** Finished, waiting for lower numbers to finish. */
  private held: { seq: number; release: () => void }[] = [];
  /** The highest number handed out in this lease (0 until one is). */
  private highest = 0;
  /** The highest number allocated in this lease (0 until a block came back). */
  private allocatedTop = 0;
  /**
   * Given up (reset) and not fenced again: nothing is numbered or allocated.
   * A block allocated in that gap can land above the next takeover's first
   * block and be handed out before it, so numbers would be issued out of
   * order and the visible line would pass numbers not issued yet.
   */
  private closed = false;

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
   * The takeover fenced every number up to `line` (Store.fenceSeqs): each
   * has its text stored by now, or a fence document that no text can ever
   * replace. `block` numbers above it were allocated with the fence (the
   * lease's first block: the first publishes need no allocation of their own).
   */
  fenced(line: number, block = 0): void {
    this.closed = false;
    this.fence = line;
    if (block <= 0) return;
    this.reserve.push({ next: line + 1, end: line + 1 + block });
    this.allocatedTop = Math.max(this.allocatedTop, line + block);
    this.block = Math.min(SEQ_BLOCK, Math.max(this.block, block) * 2);
  }

  /**
   * The highest number issued so far: handed out in this lease, or fenced
   * at its takeover. A subject added now is owed the texts numbered above it
   * (UserDoc.since): every lower number is either stored already or a
   * publish that fans out judging by the same rule.
   */
  get issued(): number {
    return Math.max(this.fence, this.highest);
  }

  /**
   * The visible line: every number up to it is stored, fenced or abandoned,
   * so reading the log up to it can never let a lower number turn up after
   * a higher one was delivered (a cursor past it would skip that one). 0
   * before the takeover's fence.
   */
  get visibleLine(): number {
    return Math.min(this.watermark - 1, this.issued);
  }

  /**
   * Every number this holder allocated is settled (no number open, none
   * finished but held back, no allocation out): the highest it allocated, or
   * its fence if higher. Every number up to it has its text or can never
   * have one as long as this holder starts nothing new (the handoff stops
   * taking requests and drains first). Undefined while anything is unsettled.
   */
  settled(): number | undefined {
    if (this.open.size > 0 || this.held.length > 0 || this.allocating) return undefined;
    return Math.max(this.fence, this.allocatedTop);
  }

  /** The next sequence number; it stays open until finish(). */
  next(): Promise<number> {
    // A request that began under the lost lease, or ran before the takeover's fence: not numbered (its client retries).
    if (this.closed) return Promise.reject(new NotServingError('no text is numbered until the takeover has fenced the earlier numbers'));
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
    // A number of a lease given up since (reset) is not this lease's to show: the next holder's log read
    // shows it in order, where a release now could push it after higher numbers already shown.
    const ours = this.open.delete(seq);
    if (release && ours) {
      this.held.push({ seq, release });
      this.held.sort((a, b) => a.seq - b.seq);
    }
    this.flush();
  }

  /** Forget everything (the lease is gone); number nothing until the next takeover's fence. */
  reset(): void {
    this.closed = true;
    const waiting = this.waiting;
    this.waiting = [];
    const over = new NotServingError('the lease was given up before these texts were numbered');
    for (const w of waiting) w.reject(over);
    this.open.clear();
    this.held = [];
    this.reserve = [];
    this.generation++;
    this.fence = 0;
    this.highest = 0;
    this.allocatedTop = 0;
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
    this.issue(seq);
    return seq;
  }

  private issue(seq: number): void {
    this.open.add(seq);
    if (seq > this.highest) this.highest = seq;
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
    // Not once the lease is given up: a block allocated before the next fence could be handed out ahead of its first block.
    while (!this.closed && (this.waiting.length > 0 || this.reserved() < this.lowWater())) {
      const batch = this.waiting;
      this.waiting = [];
      const generation = this.generation;
      const count = Math.max(this.block, batch.length);
      try {
        const first = await this.allocate(count);
        if (generation !== this.generation) {
          // Allocated for a lease given up since (reset): possibly after the next takeover's fence, so a text
          // stored under one of these numbers could come after higher numbers already shown. Never used.
          const over = new NotServingError('the lease was given up while these numbers were allocated');
          for (const w of batch) w.reject(over);
          continue;
        }
        this.block = Math.min(SEQ_BLOCK, this.block * 2);
        this.allocatedTop = Math.max(this.allocatedTop, first + count - 1);
        batch.forEach((w, i) => {
          this.issue(first + i);
          w.resolve(first + i);
        });
        if (batch.length < count) this.reserve.push({ next: first + batch.length, end: first + count });
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
