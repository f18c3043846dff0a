/**
 * A map's entries from the oldest (re)inserted to the newest, as a list
 * linked through the entries themselves, so that taking the oldest, moving
 * an entry to the young end and removing one each cost O(1), always.
 *
 * Why not the Map's own order (`map.keys().next()`): V8 leaves a deleted
 * entry's slot in the table until the table is rebuilt, and an iterator
 * started at the front walks over every such slot. A map used oldest-out at
 * its bound holds tens of thousands of them: at 200,000 entries, taking the
 * oldest that way cost 16-34 µs per eviction (bench/bounded-maps.bench.ts),
 * more than the rest of a request.
 */

/** An entry that can be on an OldestFirst list: its two links (set by the list only). */
export interface Linked<N> {
  older?: N | undefined;
  newer?: N | undefined;
}

export class OldestFirst<N extends Linked<N>> {
  private head: N | undefined;
  private tail: N | undefined;

  /** The entry appended longest ago and still on the list. */
  get oldest(): N | undefined {
    return this.head;
  }

  /** Puts `n` at the young end (it must not be on the list). */
  append(n: N): void {
    n.older = this.tail;
    n.newer = undefined;
    if (this.tail) this.tail.newer = n;
    else this.head = n;
    this.tail = n;
  }

  /** Takes `n` off the list (it must be on it). */
  remove(n: N): void {
    if (n.older) n.older.newer = n.newer;
    else this.head = n.newer;
    if (n.newer) n.newer.older = n.older;
    else this.tail = n.older;
    n.older = undefined;
    n.newer = undefined;
  }

  clear(): void {
    this.head = undefined;
    this.tail = undefined;
  }

  /** Oldest first. */
  *[Symbol.iterator](): IterableIterator<N> {
    for (let n = this.head; n; n = n.newer) yield n;
  }
}
