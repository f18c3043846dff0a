/**
 * Open cursors of one engine instance. A cursor is a lazy iterator of
 * documents; batches are cut by count and by size (16 MiB per reply).
 */
import { BSON, Long, type Document } from 'bson';
import { randomBytes } from 'node:crypto';
import { Limits } from '../wire/constants.js';

interface OpenCursor {
  ns: string;
  /** Last time (ms) a batch was cut, for idle expiry. */
  used: number;
  iter: Iterator<Document>;
  /** A document read ahead to learn whether the cursor is exhausted. */
  pending?: Document;
}

/** A batch of documents and the cursor id to continue with (0 when exhausted). */
export interface Batch {
  id: Long;
  docs: Document[];
}

/** Budget for one reply's documents, leaving room for the envelope. */
const BATCH_BYTES = Limits.maxBsonObjectSize - 64 * 1024;

/** mongod's default cursorTimeoutMillis: idle cursors are closed after 10 minutes. */
export const CURSOR_IDLE_MS = 10 * 60 * 1000;

/** Registry of open cursors. */
export class CursorStore {
  private readonly open = new Map<string, OpenCursor>();
  private lastSweep = 0;

  /** `now` is injectable so expiry can be tested without waiting. */
  constructor(private readonly now: () => number = Date.now) {}

  /** Number of open cursors. */
  get size(): number {
    return this.open.size;
  }

  /** Cuts the first batch; registers a cursor if more documents remain. */
  first(ns: string, iter: Iterator<Document>, batchSize: number | undefined, singleBatch = false): Batch {
    const c: OpenCursor = { ns, iter, used: this.now() };
    const docs = take(c, batchSize ?? Limits.defaultFirstBatch);
    if (singleBatch || !hasMore(c)) return { id: Long.ZERO, docs };
    this.sweep(c.used);
    const id = this.newId();
    this.open.set(id.toString(), c);
    return { id, docs };
  }

  /** Cuts the next batch of an open cursor; undefined if the id is unknown. */
  next(id: Long, ns: string, batchSize: number | undefined): Batch | undefined {
    const key = id.toString();
    const c = this.open.get(key);
    if (!c || c.ns !== ns) return undefined;
    c.used = this.now();
    const docs = take(c, batchSize && batchSize > 0 ? batchSize : Infinity);
    if (!hasMore(c)) {
      this.open.delete(key);
      return { id: Long.ZERO, docs };
    }
    return { id, docs };
  }

  /** Closes a cursor; returns whether it was open. */
  kill(id: Long): boolean {
    return this.open.delete(id.toString());
  }

  /** Closes every cursor. */
  clear(): void {
    this.open.clear();
  }

  /**
   * Drops cursors idle longer than CURSOR_IDLE_MS (clients that vanished
   * without killCursors). Runs at most once a minute, when a cursor opens,
   * so no timer is needed.
   */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [id, c] of this.open) if (now - c.used > CURSOR_IDLE_MS) this.open.delete(id);
  }

  private newId(): Long {
    // Positive 63-bit ids, as mongod hands out; collisions are astronomically unlikely but checked.
    for (;;) {
      const id = Long.fromBytesLE([...randomBytes(8)]).and(Long.MAX_VALUE);
      if (!id.isZero() && !this.open.has(id.toString())) return id;
    }
  }
}

function take(c: OpenCursor, max: number): Document[] {
  const docs: Document[] = [];
  let bytes = 0;
  while (docs.length < max) {
    let d = c.pending;
    if (d) c.pending = undefined;
    else {
      const r = c.iter.next();
      if (r.done) break;
      d = r.value;
    }
    const size = BSON.calculateObjectSize(d);
    if (docs.length > 0 && bytes + size > BATCH_BYTES) {
      c.pending = d;
      break;
    }
    bytes += size;
    docs.push(d);
  }
  return docs;
}

function hasMore(c: OpenCursor): boolean {
  if (c.pending) return true;
  const r = c.iter.next();
  if (r.done) return false;
  c.pending = r.value;
  return true;
}
