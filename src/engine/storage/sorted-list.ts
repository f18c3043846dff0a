/**
 * An ordered multiset kept as a list of bounded sorted chunks (the layout of
 * Python's sortedcontainers): binary search over chunk maxima, then inside a
 * chunk. Insert and delete cost O(log n + chunk size), which stays flat at
 * millions of entries, and in-order iteration is a plain array walk.
 *
 * A layout may keep each element as several slots of its chunk's array
 * instead of as an object of its own (an index entry: its key fields and its
 * record): a list of millions of elements is then a few thousand arrays to
 * the garbage collector, not millions of objects. Elements are read back as
 * objects only where a caller sees them (iteration, predicates), and on a
 * search's ties unless the lead key compares slots directly (`restAt`).
 */

/** Position of an element: chunk index and offset inside the chunk. */
export interface Pos {
  c: number;
  i: number;
}

const CHUNK = 128;

/**
 * A value every element leads with, in the list's order (for an index: the
 * first key field): `cmp(of(a), of(b)) < 0` implies the list's comparator
 * puts a before b. The list keeps these values in arrays beside the
 * elements, so a search compares them first without reaching into each
 * element (most comparisons of a search are decided there: far fewer cache
 * misses in a large list), and calls the full comparator only on a tie.
 */
export interface LeadKey<T> {
  of: (x: T) => unknown;
  cmp: (a: unknown, b: unknown) => number;
  /** The list's order between two elements whose lead values are equal (what remains of the comparator). */
  rest: (a: T, b: T) => number;
  /** `rest` with the stored element given as its slots in a chunk (the list's {@link Layout}'s), so a tie needs no element read back. */
  restAt?: (slots: unknown[], at: number, b: T) => number;
}

/**
 * How an element is kept in a chunk: `width` consecutive slots. The default
 * keeps the element itself in one slot.
 */
export interface Layout<T> {
  width: number;
  /** Writes x's slots into `arr` from `at` on. */
  write(x: T, arr: unknown[], at: number): void;
  /** The element whose slots start at `at`. */
  read(arr: unknown[], at: number): T;
}

const WHOLE: Layout<never> = {
  width: 1,
  write: (x, arr, at) => void (arr[at] = x),
  read: (arr, at) => arr[at] as never,
};

/** Sorted container with a caller-supplied total order. */
export class SortedList<T> {
  /** Elements, chunk by chunk, each as `width` slots. */
  private chunks: unknown[][] = [];
  /** With a lead key: its value for each element, chunk by chunk like `chunks`. */
  private leads: unknown[][] = [];
  private size_ = 0;
  /** Bumped by every insert and delete so live iterators know to re-seek. */
  private mods = 0;
  private readonly w: number;

  constructor(
    private readonly cmp: (a: T, b: T) => number,
    private readonly lead?: LeadKey<T>,
    private readonly layout: Layout<T> = WHOLE,
  ) {
    this.w = layout.width;
  }

  /** Number of elements. */
  get size(): number {
    return this.size_;
  }

  /** Elements in chunk `c`. */
  private count(c: number): number {
    return this.chunks[c].length / this.w;
  }

  /** Element `i` of chunk `c`. */
  private at(c: number, i: number): T {
    return this.layout.read(this.chunks[c], i * this.w);
  }

  /** A new chunk holding `xs`. */
  private chunkOf(xs: T[]): unknown[] {
    const w = this.w;
    const chunk = new Array<unknown>(xs.length * w);
    for (let j = 0; j < xs.length; j++) this.layout.write(xs[j], chunk, j * w);
    return chunk;
  }

  /** Replaces the content with elements already sorted by the comparator (bulk builds). */
  load(sorted: T[]): void {
    this.chunks = [];
    this.leads = [];
    for (let i = 0; i < sorted.length; i += CHUNK) {
      const part = sorted.slice(i, i + CHUNK);
      this.chunks.push(this.chunkOf(part));
      if (this.lead) this.leads.push(part.map(this.lead.of));
    }
    this.size_ = sorted.length;
    this.mods++;
  }

  /** Inserts an element after any equal ones. */
  insert(x: T): void {
    this.insertAt(this.locate(x), x);
  }

  /** The list's order between element `i` of chunk `c` and `x` (whose lead value is `xl`). */
  private order(c: number, i: number, x: T, xl: unknown): number {
    const lead = this.lead;
    if (!lead) return this.cmp(this.at(c, i), x);
    const byLead = lead.cmp(this.leads[c][i], xl);
    if (byLead !== 0) return byLead;
    return lead.restAt ? lead.restAt(this.chunks[c], i * this.w, x) : lead.rest(this.at(c, i), x);
  }

  /**
   * Where {@link insert} would put `x`: after every element that is not
   * greater. Checks the last element first: appending in order (ascending
   * ids, sequence numbers, timestamps) costs one comparison.
   */
  locate(x: T): Pos {
    const chunks = this.chunks;
    const last = chunks.length - 1;
    if (last < 0) return { c: 0, i: 0 };
    const xl = this.lead?.of(x);
    const lastCount = this.count(last);
    if (this.order(last, lastCount - 1, x, xl) <= 0) return { c: last, i: lastCount };
    // First chunk whose last element is greater than x (there is one: the last chunk's is).
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order(mid, this.count(mid) - 1, x, xl) > 0) hi = mid;
      else lo = mid + 1;
    }
    let a = 0;
    let b = this.count(lo) - 1;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (this.order(lo, mid, x, xl) > 0) b = mid;
      else a = mid + 1;
    }
    return { c: lo, i: a };
  }

  /** The element just before a position given by {@link locate} (undefined at the start). */
  before(p: Pos): T | undefined {
    if (p.i > 0) return this.at(p.c, p.i - 1);
    if (p.c === 0) return undefined;
    return this.at(p.c - 1, this.count(p.c - 1) - 1);
  }

  /** Inserts `x` at a position {@link locate} gave for it, with no change to the list since. */
  insertAt(p: Pos, x: T): void {
    this.size_++;
    this.mods++;
    const chunks = this.chunks;
    const leads = this.leads;
    const xl = this.lead?.of(x);
    const w = this.w;
    if (chunks.length === 0) {
      chunks.push(this.chunkOf([x]));
      if (this.lead) leads.push([xl]);
      return;
    }
    const chunk = chunks[p.c];
    const n = chunk.length / w;
    // Room made by moving the later slots up, last first: a splice of spread slots would allocate on every insert.
    const at = p.i * w;
    const end = chunk.length;
    for (let j = 0; j < w; j++) chunk.push(undefined);
    for (let j = end - 1; j >= at; j--) chunk[j + w] = chunk[j];
    this.layout.write(x, chunk, at);
    if (this.lead) {
      if (p.i === leads[p.c].length) leads[p.c].push(xl);
      else leads[p.c].splice(p.i, 0, xl);
    }
    if (n + 1 > 2 * CHUNK) {
      chunks.splice(p.c + 1, 0, chunk.splice(CHUNK * w));
      if (this.lead) leads.splice(p.c + 1, 0, leads[p.c].splice(CHUNK));
    }
  }

  /** Removes one element equal to x (by the comparator); returns whether one was found. */
  delete(x: T): boolean {
    const chunks = this.chunks;
    const xl = this.lead?.of(x);
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order(mid, this.count(mid) - 1, x, xl) >= 0) hi = mid;
      else lo = mid + 1;
    }
    if (lo === chunks.length) return false;
    const n = this.count(lo);
    let a = 0;
    let b = n;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (this.order(lo, mid, x, xl) >= 0) b = mid;
      else a = mid + 1;
    }
    if (a === n || this.order(lo, a, x, xl) !== 0) return false;
    chunks[lo].splice(a * this.w, this.w);
    if (this.lead) this.leads[lo].splice(a, 1);
    this.size_--;
    this.mods++;
    if (n === 1) {
      chunks.splice(lo, 1);
      if (this.lead) this.leads.splice(lo, 1);
    }
    return true;
  }

  /** First position whose element satisfies `atOrAfter` (monotone predicate); undefined at the end. */
  lowerBound(atOrAfter: (e: T) => boolean): Pos | undefined {
    const c = this.chunkFor(atOrAfter);
    if (c === this.chunks.length) return undefined;
    return { c, i: this.upper(c, atOrAfter) };
  }

  /**
   * Calls `visit` on the elements from the first one satisfying `atOrAfter`
   * on, until it returns false or the list ends. A plain loop, for hot paths
   * that look at one or two elements (no generator, no position object).
   */
  visitFrom(atOrAfter: (e: T) => boolean, visit: (e: T) => boolean): void {
    const chunks = this.chunks;
    let c = this.chunkFor(atOrAfter);
    if (c === chunks.length) return;
    let i = this.upper(c, atOrAfter);
    for (; c < chunks.length; c++, i = 0) {
      const n = this.count(c);
      for (; i < n; i++) if (!visit(this.at(c, i))) return;
    }
  }

  /** Last position whose element does not satisfy `after` (monotone predicate); undefined if none. */
  lastBefore(after: (e: T) => boolean): Pos | undefined {
    const p = this.lowerBound(after);
    if (!p) {
      if (this.chunks.length === 0) return undefined;
      const c = this.chunks.length - 1;
      return { c, i: this.count(c) - 1 };
    }
    if (p.i > 0) return { c: p.c, i: p.i - 1 };
    if (p.c === 0) return undefined;
    return { c: p.c - 1, i: this.count(p.c - 1) - 1 };
  }

  /**
   * Iterates forward from a position (or the start). Safe against changes
   * made while iterating (cursors outlive commands): after a modification
   * the walk re-seeks just past the last element it yielded, so elements
   * present throughout are seen exactly once.
   */
  *forward(from?: Pos): Generator<T> {
    let c = from ? from.c : 0;
    let i = from ? from.i : 0;
    while (c < this.chunks.length) {
      if (i >= this.count(c)) {
        c++;
        i = 0;
        continue;
      }
      const x = this.at(c, i);
      const seen = this.mods;
      yield x;
      if (this.mods !== seen) {
        const p = this.lowerBound((e) => this.cmp(e, x) > 0);
        if (!p) return;
        ({ c, i } = p);
      } else {
        i++;
      }
    }
  }

  /** Iterates backward from a position (or the end); re-seeks after modifications like {@link forward}. */
  *backward(from?: Pos): Generator<T> {
    let c = from ? from.c : this.chunks.length - 1;
    let i = from ? from.i : c >= 0 ? this.count(c) - 1 : -1;
    while (c >= 0 && c < this.chunks.length) {
      if (i < 0) {
        c--;
        i = c >= 0 ? this.count(c) - 1 : -1;
        continue;
      }
      const x = this.at(c, i);
      const seen = this.mods;
      yield x;
      if (this.mods !== seen) {
        const p = this.lastBefore((e) => this.cmp(e, x) >= 0);
        if (!p) return;
        ({ c, i } = p);
      } else {
        i--;
      }
    }
  }

  /** Index of the first chunk whose last element satisfies the predicate. */
  private chunkFor(pred: (e: T) => boolean): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(this.at(mid, this.count(mid) - 1))) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** First index in chunk `c` whose element satisfies the monotone predicate. */
  private upper(c: number, pred: (e: T) => boolean): number {
    let lo = 0;
    let hi = this.count(c);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(this.at(c, mid))) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
