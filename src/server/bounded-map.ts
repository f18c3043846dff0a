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
 * kept on an OldestFirst list (not the Map's own order: see there).
 */
import { OldestFirst } from './oldest-first';

interface Slot<K, V> {
  key: K;
  value: V;
  /** The insertion count when the entry was (re)inserted. */
  stamp: number;
  older?: Slot<K, V> | undefined;
  newer?: Slot<K, V> | undefined;
}

export class BoundedMap<K, V> {
  private readonly entries = new Map<K, Slot<K, V>>();
  private readonly order = new OldestFirst<Slot<K, V>>();
  private inserted = 0;

  constructor(readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value, marked as just used. */
  get(key: K): V | undefined {
    const slot = this.entries.get(key);
    if (slot === undefined) return undefined;
    if (this.inserted - slot.stamp > this.max >>> 1) {
      this.order.remove(slot);
      slot.stamp = ++this.inserted;
      this.order.append(slot);
    }
    return slot.value;
  }

  /** The value, without changing its place in the eviction order. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: K, value: V): void {
    this.delete(key);
    const slot: Slot<K, V> = { key, value, stamp: ++this.inserted };
    this.entries.set(key, slot);
    this.order.append(slot);
    while (this.entries.size > this.max) this.remove(this.order.oldest!);
  }

  delete(key: K): void {
    const slot = this.entries.get(key);
    if (slot !== undefined) this.remove(slot);
  }

  clear(): void {
    this.entries.clear();
    this.order.clear();
  }

  /** Forget a slot held now (the list hands it over: no lookup by key). */
  private remove(slot: Slot<K, V>): void {
    this.entries.delete(slot.key);
    this.order.remove(slot);
  }

  /** Least recently used first. */
  *entriesIterator(): IterableIterator<[K, V]> {
    for (const slot of this.order) yield [slot.key, slot.value];
  }
}
