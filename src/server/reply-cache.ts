/**
 * Replies of executed requests, by de-duplication key, so a retransmitted
 * request is answered again without being executed twice. Bounded in
 * entries and in bytes (oldest evicted first: a legacy RETRIEVE-TEXTS answer
 * alone can be tens of KB) and in age; the store keeps a copy so the other
 * server can answer a retransmission that reaches it after a handoff or crash.
 */
import type { Reply } from '../protocol/messages';

export interface CachedReply {
  replies: Reply[];
  at: number;
  /** Native: the exact datagrams sent (MACed with the user's key, which the server may no longer hold). */
  wire?: Buffer[];
  /** Of an answer in several datagrams: where its next repetition starts (the first one a budget held back). */
  resume?: number;
}

/** Default bound on the bytes held: far above what 200,000 ordinary replies take, far below the machine's memory. */
export const REPLY_CACHE_BYTES = 64 * 1024 * 1024;

/** Roughly what `value` occupies: its strings' and buffers' lengths plus a little per field. */
function approxBytes(value: unknown): number {
  if (typeof value === 'string') return value.length + 8;
  if (Buffer.isBuffer(value)) return value.length + 16;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + approxBytes(v), 16);
  if (value !== null && typeof value === 'object') {
    let n = 32;
    for (const v of Object.values(value)) n += approxBytes(v) + 8;
    return n;
  }
  return 8;
}

export class ReplyCache {
  private readonly entries = new Map<string, { entry: CachedReply; bytes: number }>();
  private heldBytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxAge: number,
    private readonly maxBytes: number = REPLY_CACHE_BYTES,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Bytes held (approximately: replies and datagrams). */
  get bytes(): number {
    return this.heldBytes;
  }

  get(key: string, now: number): Reply[] | undefined {
    return this.getEntry(key, now)?.replies;
  }

  /** The whole entry (replies and, for native requests, the datagrams). */
  getEntry(key: string, now: number): CachedReply | undefined {
    const e = this.entries.get(key)?.entry;
    if (!e) return undefined;
    if (now - e.at > this.maxAge) {
      this.drop(key);
      return undefined;
    }
    return e;
  }

  set(key: string, replies: Reply[], at: number, wire?: Buffer[]): void {
    this.drop(key);
    const bytes = approxBytes(replies) + (wire ? approxBytes(wire) : 0);
    // One answer larger than the whole bound is not kept (it would evict everything else); its repeat is executed again.
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { entry: wire ? { replies, at, wire } : { replies, at }, bytes });
    this.heldBytes += bytes;
    // Maps iterate in insertion order: the first key is the oldest.
    while (this.entries.size > this.maxEntries || this.heldBytes > this.maxBytes) this.drop(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
    this.heldBytes = 0;
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.heldBytes -= e.bytes;
  }
}
