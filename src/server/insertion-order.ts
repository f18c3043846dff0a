/**
 * The order in which a Map's keys were last (re)inserted, kept beside the
 * Map, so that taking the oldest costs O(1) amortized.
 *
 * Why not the Map's own order (`map.keys().next()`): V8 leaves a deleted
 * entry's slot in the table until the table is rebuilt, and an iterator
 * started at the front walks over every such slot. A map used oldest-out at
 * its bound holds tens of thousands of them: at 200,000 entries, taking the
 * oldest that way cost about 34 µs per eviction (bench/bounded-maps.bench.ts),
 * more than the rest of a request.
 *
 * Each (re)insertion appends its key with a token, what the map holds for
 * the key then (a stamp, an entry object: unique per insertion). A queued
 * pair whose token is no longer the map's is stale and skipped. Stale pairs
 * go when met at the front, or all at once when they outnumber the live
 * ones, so the queue stays within about twice the map.
 */
export class InsertionOrder<K, T> {
  private keys: K[] = [];
  private tokens: T[] = [];
  /** Pairs before `head` were taken or stale. */
  private head = 0;

  /** `current(key)`: the token the map holds for `key` now (undefined when absent). */
  constructor(private readonly current: (key: K) => T | undefined) {}

  /** `key` was (re)inserted holding `token`; the map now holds `size` keys. */
  push(key: K, token: T, size: number): void {
    this.keys.push(key);
    this.tokens.push(token);
    if (this.keys.length - this.head > 2 * size + 32) this.compact();
  }

  /** The key inserted longest ago that the map still holds as queued, or undefined for an empty map. */
  oldest(): K | undefined {
    const keys = this.keys;
    while (this.head < keys.length) {
      const key = keys[this.head]!;
      if (this.current(key) === this.tokens[this.head]) {
        this.trimFront();
        return key;
      }
      this.head++;
    }
    this.clear();
    return undefined;
  }

  clear(): void {
    this.keys = [];
    this.tokens = [];
    this.head = 0;
  }

  /** Pairs queued, stale ones included (for tests of the bound). */
  get queued(): number {
    return this.keys.length - this.head;
  }

  /** Let the taken front go once it is most of the arrays (amortized O(1)). */
  private trimFront(): void {
    if (this.head < 1024 || this.head < this.keys.length >>> 1) return;
    this.keys = this.keys.slice(this.head);
    this.tokens = this.tokens.slice(this.head);
    this.head = 0;
  }

  /** Keep the live pairs only, in order. */
  private compact(): void {
    const keys: K[] = [];
    const tokens: T[] = [];
    for (let i = this.head; i < this.keys.length; i++) {
      const key = this.keys[i]!;
      if (this.current(key) !== this.tokens[i]) continue;
      keys.push(key);
      tokens.push(this.tokens[i]!);
    }
    this.keys = keys;
    this.tokens = tokens;
    this.head = 0;
  }
}
