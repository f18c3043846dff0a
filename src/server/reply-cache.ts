/**
 * Replies of executed requests, by de-duplication key, so a retransmitted
 * request is answered again without being executed twice. Bounded in
 * entries and in bytes (oldest evicted first: a legacy RETRIEVE-TEXTS answer
 * alone can be tens of KB) and in age; the store keeps a copy so the other
 * server can answer a retransmission that reaches it after a handoff or crash.
 */
import type { Reply } from '../protocol/messages';
import { OldestFirst } from './oldest-first';

/** Bytes per slab of kept datagrams. */
const SLAB_BYTES = 64 * 1024;

/** Where a copy was placed. */
interface Placed {
  buf: Buffer;
  off: number;
}

/**
 * Where kept datagrams' bytes live: 64 KB buffers filled in order. A
 * datagram as sent is a slice of one of Node's shared 8 KB pools, which
 * would stay alive (with everything else sliced from it) as long as the
 * entry does; copied here, entries dropped oldest first free whole buffers.
 */
class DatagramSlabs {
  private slab = Buffer.alloc(0);
  private used = 0;

  /** Copies `bytes` into a slab (a large one into a buffer of its own). */
  copy(bytes: Buffer): Placed {
    if (bytes.length > SLAB_BYTES / 8) {
      const own = Buffer.allocUnsafeSlow(bytes.length);
      bytes.copy(own);
      return { buf: own, off: 0 };
    }
    if (this.used + bytes.length > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    const off = this.used;
    bytes.copy(this.slab, off);
    this.used += bytes.length;
    return { buf: this.slab, off };
  }
}

/** The time entries count from: shared by all of a cache's entries (a field holding a timestamp would be a boxed number per entry). */
interface TimeBase {
  ms: number;
}

/**
 * One kept answer. A native answer is kept as its datagrams only (MACed
 * with the user's key, sent again as they are); a legacy one as its replies,
 * encoded again for each repeat. A busy server keeps one per publish for
 * minutes, so an entry is one object: one datagram is kept as its place in
 * a slab, and the time as milliseconds after the cache's base.
 */
export class CachedReply {
  /** Of an answer in several datagrams: where its next repetition starts (the first one a budget held back). */
  resume?: number;
  readonly replies: Reply[] | undefined;
  /** One datagram: the slab holding it, from `off`, `len` bytes; several: views of their copies. */
  private readonly held: Buffer | Buffer[] | undefined;
  private readonly off: number = 0;
  private readonly len: number = 0;
  /** Bytes held (approximately), counted against the cache's bound. */
  readonly bytes: number;
  /** Milliseconds after `base.ms` (a small integer for about twelve days of the cache's life, a boxed number after). */
  private readonly after: number;

  /** Its neighbours in the cache's eviction order (oldest-first.ts). */
  older?: CachedReply | undefined;
  newer?: CachedReply | undefined;

  constructor(
    /** The de-duplication key it is kept under. */
    readonly key: string,
    kept: { replies: Reply[]; wire: Buffer[] | undefined; at: number; bytes: number },
    slabs: DatagramSlabs,
    private readonly base: TimeBase,
  ) {
    this.bytes = kept.bytes;
    this.after = kept.at - base.ms;
    const wire = kept.wire;
    this.replies = wire ? undefined : kept.replies;
    if (wire?.length === 1) {
      const placed = slabs.copy(wire[0]!);
      this.held = placed.buf;
      this.off = placed.off;
      this.len = wire[0]!.length;
    } else {
      this.held = wire?.map((d) => {
        const placed = slabs.copy(d);
        return placed.buf.subarray(placed.off, placed.off + d.length);
      });
    }
  }

  /** When the answer was recorded (ms since the epoch). */
  get at(): number {
    return this.base.ms + this.after;
  }

  /** Native: the exact datagrams sent. */
  get wire(): Buffer[] | undefined {
    const h = this.held;
    return h === undefined || Array.isArray(h) ? h : [h.subarray(this.off, this.off + this.len)];
  }
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
  private readonly entries = new Map<string, CachedReply>();
  /** Oldest first, for eviction (not the Map's own order: see oldest-first.ts). */
  private readonly order = new OldestFirst<CachedReply>();
  private heldBytes = 0;
  /** Entries keep their time relative to this (the first one's). */
  private readonly base: TimeBase = { ms: Number.NaN };
  private readonly slabs = new DatagramSlabs();

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

  /** The answer kept for `key` (replies, or for a native request the datagrams). */
  getEntry(key: string, now: number): CachedReply | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now - e.at > this.maxAge) {
      this.drop(key);
      return undefined;
    }
    return e;
  }

  /** Keeps an answer: `replies`, or for a native request the datagrams `wire` (the replies are then not kept). */
  set(key: string, replies: Reply[], at: number, wire?: Buffer[]): void {
    this.drop(key);
    const bytes = wire ? approxBytes(wire) : approxBytes(replies);
    // One answer larger than the whole bound is not kept (it would evict everything else); its repeat is executed again.
    if (bytes > this.maxBytes) return;
    if (Number.isNaN(this.base.ms)) this.base.ms = at;
    const entry = new CachedReply(key, { replies, wire, at, bytes }, this.slabs, this.base);
    this.entries.set(key, entry);
    this.order.append(entry);
    this.heldBytes += bytes;
    while (this.entries.size > this.maxEntries || this.heldBytes > this.maxBytes) this.remove(this.order.oldest!);
    // Answers past their age go from the front too, so a cache below its bounds does not hold them until read.
    for (let oldest = this.order.oldest; oldest !== undefined && at - oldest.at > this.maxAge; oldest = this.order.oldest) this.remove(oldest);
  }

  clear(): void {
    this.entries.clear();
    this.order.clear();
    this.heldBytes = 0;
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (e) this.remove(e);
  }

  /** Forget an entry held now (the list hands it over: no lookup by key). */
  private remove(e: CachedReply): void {
    this.entries.delete(e.key);
    this.order.remove(e);
    this.heldBytes -= e.bytes;
  }
}
