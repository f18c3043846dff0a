/**
 * A Map with a size bound that evicts the least recently used entry. Every
 * server map keyed by something a sender chose (addresses, names, counters)
 * goes through one of these, so no datagram flood can grow memory without
 * bound.
 *
 * Recency is kept coarsely, which is what makes get() cheap on the request
 * path: an entry is moved to the young end only when it has aged past half
 * the bound (counted in insertions), not on every read. Eviction still takes
 * the entry that was neither inserted nor refreshed for the longest time,
 * found through an InsertionOrder (not the Map's own order: see there).
 */
import { InsertionOrder } from './insertion-order';

interface Slot<V> {
  value: V;
  /** The insertion count when the entry was (re)inserted. */
  stamp: number;
}

export class BoundedMap<K, V> {
  private readonly entries = new Map<K, Slot<V>>();
  private inserted = 0;
  private readonly order = new InsertionOrder<K, number>((key) => this.entries.get(key)?.stamp);

  constructor(readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value, marked as just used. */
  get(key: K): V | undefined {
    const slot = this.entries.get(key);
    if (slot === undefined) return undefined;
    if (this.inserted - slot.stamp > this.max >>> 1) {
      this.entries.delete(key);
      slot.stamp = ++this.inserted;
      this.entries.set(key, slot);
      this.order.push(key, slot.stamp, this.entries.size);
    }
    return slot.value;
  }

  /** The value, without changing its place in the eviction order. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    const stamp = ++this.inserted;
    this.entries.set(key, { value, stamp });
    this.order.push(key, stamp, this.entries.size);
    while (this.entries.size > this.max) this.entries.delete(this.order.oldest() as K);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.order.clear();
  }

  *entriesIterator(): IterableIterator<[K, V]> {
    for (const [k, slot] of this.entries) yield [k, slot.value];
  }
}
