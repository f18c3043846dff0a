/**
 * Token buckets per key (a source address, a user): `burst` requests at
 * once, refilled at `perSecond`. Keys live in a BoundedMap, so a flood from
 * many (spoofed) sources costs bounded memory; an evicted key simply starts
 * again with a full bucket.
 */
import { BoundedMap } from './bounded-map';

export interface RateLimit {
  burst: number;
  perSecond: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets: BoundedMap<string, Bucket>;

  constructor(
    private readonly limit: RateLimit,
    maxKeys: number,
    private readonly now: () => number,
  ) {
    this.buckets = new BoundedMap(maxKeys);
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Spend one token for `key`; false when its bucket is empty (the request is over the limit). */
  take(key: string): boolean {
    const now = this.now();
    // A known bucket is changed in place (get() keeps its recency): every ACK comes here, and set() would
    // delete and re-insert the entry each time.
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { tokens: this.limit.burst, at: now }));
    b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) / 1000) * this.limit.perSecond);
    b.at = now;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    return ok;
  }
}
