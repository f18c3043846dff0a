/**
 * Durability layer of the embedded engine: an append-only journal of BSON
 * records with group commit, plus snapshots that bound start-up time and disk use.
 *
 * ## Using it (engine side)
 *
 *     const { journal, snapshot, records } = await Journal.open(dir, { onWarning });
 *     // state = chunks of `snapshot` (null = empty), then apply `records` in order
 *     await journal.append(op);                 // durable when it resolves: then ack the client
 *     await journal.appendMany([op1, op2]);     // one frame: after a crash all or none survive
 *     if (journal.bytesSinceSnapshot > LIMIT && !journal.compacting)
 *       await journal.compact(chunksOfCurrentState());
 *
 * ## Snapshot shape: an ordered list of chunk documents
 *
 * A snapshot is not one document (a BSON document is capped near 16 MiB) but a
 * sequence of chunk documents whose content the engine defines, e.g.
 * `{ ns: 'db.coll', docs: [...1000 docs] }`, plus whatever metadata chunks it
 * needs (indexes, options) — typically the first chunk. Keep each chunk well
 * under 16 MiB (bson@7 cannot serialize past ~17 MiB; compact rejects such a
 * chunk); 1,000,000 small documents is ~1,000 chunks of 1,000.
 *  - compact(chunks) takes an Iterable or AsyncIterable of chunks (an array,
 *    or a generator); each chunk may also be pre-serialized BSON (Uint8Array).
 *    Chunks are streamed to disk one by one, never concatenated.
 *  - open() returns them back as `snapshot: Document[]` in the same order, or
 *    null when no snapshot has been taken yet.
 * File format (details in journal-files.ts): framed header doc, one frame per
 * chunk, framed trailer doc; written to a temp file, fsynced, renamed, dir fsynced.
 *
 * ## The compaction rule (what the snapshot must contain)
 *
 * compact() switches the journal to a new generation synchronously, at the
 * moment it is called. Therefore the chunks passed must reflect exactly every
 * record whose append()/appendMany() was *called* before compact() was called
 * — no fewer, no more — and records appended afterwards (even while the
 * snapshot is still being written) go to the new generation and are replayed
 * on top of it. Because chunks may be consumed lazily, an iterable must yield
 * a point-in-time view: build the chunks synchronously before calling, or copy
 * / pre-serialize documents the engine later mutates in place.
 * Records appended before the call are still written to the old journal and
 * their promises resolve as usual; the old generation is deleted only once
 * those writes are done and the snapshot is durable.
 *
 * ## Recovery (open)
 *
 * Newest snapshot whose file verifies, plus every journal generation from it
 * on, in order. A bad frame at the very end of the log (short header, short
 * body, bad CRC, zero fill — what a crash mid-write leaves) is cut off and
 * reported via onWarning ("dropped a torn final record at offset N in FILE").
 * A bad frame with any valid frame after it, a missing journal, or a damaged
 * snapshot with no intact older snapshot+journals to fall back on rejects
 * with JournalCorruptError (code 'JOURNAL_CORRUPT', .file, .offset).
 *
 * ## Files in the directory
 *
 * journal-<g>.log (records after snapshot g), snapshot-<g>.snap, and briefly
 * *.tmp. Between compactions there is one snapshot and one journal.
 * Frame format: journal-format.ts. Recovery rules: journal-recover.ts.
 *
 * ## Failures
 *
 * A failed write or fsync makes the Journal unusable (pending and later
 * appends reject with EngineStorageError ENGINE_STORAGE): after a failed fsync
 * the kernel may have dropped the dirty pages, so retrying could ack lost data.
 * Reopen to let recovery decide what is on disk. The journal takes no lock of
 * its own: the engine holds the data directory's lock (dir-lock.ts) before it
 * opens the journal, so one process writes a directory.
 */
import { open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import type { DeserializeOptions, Document, SerializeOptions } from 'bson';
import { EngineStorageError } from '../errors.js';
import { encodeFrame, toBson } from './journal-format.js';
import { fsyncDir, journalName, parseName, writeSnapshot, type SnapshotChunks } from './journal-files.js';
import { recover } from './journal-recover.js';

export { JournalCorruptError } from './journal-format.js';
export type { SnapshotChunk, SnapshotChunks } from './journal-files.js';

/** Options of Journal.open(). */
export interface JournalOptions {
  /** Told about recoverable problems: a dropped torn tail, a damaged snapshot skipped, failed clean-up. */
  onWarning?: (msg: string) => void;
  /** Upper bound on bytes gathered into one group-commit write (a single larger frame still goes alone). Default 8 MiB. */
  maxBatchBytes?: number;
  /** Passed to bson.deserialize for records and snapshot chunks. */
  deserializeOptions?: DeserializeOptions;
  /** Passed to bson.serialize for records. */
  serializeOptions?: SerializeOptions;
  /**
   * Fault injection for tests: awaited after each group write, before its
   * fsync, with the journal file path. Throwing makes that write fail.
   */
  beforeSync?: (file: string) => void | Promise<void>;
}

/** Result of Journal.open(): the stored state and a journal ready to append to. */
export interface OpenedJournal {
  journal: Journal;
  /** Chunk documents of the newest valid snapshot, in order ([] for a snapshot of no chunks); null if none was ever taken. */
  snapshot: Document[] | null;
  /** Records appended after that snapshot, in append order. */
  records: Document[];
}

/** Counters for tests and metrics. */
export interface JournalStats {
  /** Records made durable. */
  records: number;
  /** write() calls issued for journal frames. */
  writes: number;
  /** fdatasync() calls issued for journal frames (one per group commit). */
  syncs: number;
  /** Snapshots completed. */
  compactions: number;
}

interface Pending {
  gen: number;
  frame: Buffer;
  records: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

const DEFAULT_MAX_BATCH = 8 << 20;
const noop = (): void => {};

/** Append-only, group-committed journal with snapshot compaction. See the file comment for the contract. */
export class Journal {
  private gen: number;
  /** Open (or opening) journal file per generation still being written. */
  private readonly files = new Map<number, Promise<FileHandle>>();
  /** Next write offset per generation. */
  private readonly sizes = new Map<number, number>();
  private queue: Pending[] = [];
  private flushRunning = false;
  /** Settles once everything queued so far has been written (or failed). */
  private tail: Promise<void> = Promise.resolve();
  private compactTail: Promise<void> = Promise.resolve();
  private compactsRunning = 0;
  private failure: Error | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  private bytes: number;
  private readonly warn: (msg: string) => void;
  private readonly maxBatchBytes: number;
  private readonly serializeOptions: SerializeOptions | undefined;
  private readonly beforeSync: JournalOptions['beforeSync'];
  private readonly counters: JournalStats = { records: 0, writes: 0, syncs: 0, compactions: 0 };

  private constructor(
    /** Directory holding the journal, snapshot and temp files. */
    readonly dir: string,
    gen: number,
    fh: FileHandle,
    size: number,
    bytes: number,
    opts: JournalOptions,
  ) {
    this.gen = gen;
    this.files.set(gen, Promise.resolve(fh));
    this.sizes.set(gen, size);
    this.bytes = bytes;
    this.warn = opts.onWarning ?? noop;
    this.maxBatchBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH;
    this.serializeOptions = opts.serializeOptions;
    this.beforeSync = opts.beforeSync;
  }

  /**
   * Open (creating if needed) the journal in `dir` and recover its state.
   * Rejects with JournalCorruptError when data before the end is damaged;
   * a torn final record is cut off and reported through onWarning.
   */
  static async open(dir: string, opts: JournalOptions = {}): Promise<OpenedJournal> {
    const abs = path.resolve(dir);
    const r = await recover(abs, { warn: opts.onWarning ?? noop, bsonOptions: opts.deserializeOptions });
    const fh = await open(path.join(abs, journalName(r.currentGen)), 'r+');
    const journal = new Journal(abs, r.currentGen, fh, r.currentSize, r.journalBytes, opts);
    return { journal, snapshot: r.snapshot, records: r.records };
  }

  /**
   * Journal bytes appended since the last compact() call (after open: the
   * bytes replayed on top of the snapshot). A failed compaction adds its
   * bytes back, so a threshold check keeps asking for a new one.
   */
  get bytesSinceSnapshot(): number {
    return this.bytes;
  }

  /** True while a compact() is still writing its snapshot or cleaning up. */
  get compacting(): boolean {
    return this.compactsRunning > 0;
  }

  /** A copy of the counters. */
  get stats(): JournalStats {
    return { ...this.counters };
  }

  /** Append one record; resolves once it is written and fsynced. Concurrent calls share one write + fsync. */
  append(record: Document): Promise<void> {
    return this.appendMany([record]);
  }

  /**
   * Append records as one frame: after a crash either all of them are
   * recovered or none (the promise never resolved). Resolves once durable.
   */
  appendMany(records: readonly Document[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const unusable = this.unusable();
    if (unusable) return Promise.reject(unusable);
    let frame: Buffer;
    try {
      frame = encodeFrame(records.map((r) => toBson(r, this.serializeOptions)));
    } catch (e) {
      return Promise.reject(e);
    }
    const p = new Promise<void>((resolve, reject) => {
      this.queue.push({ gen: this.gen, frame, records: records.length, resolve, reject });
    });
    this.bytes += frame.length;
    this.tail = p.then(noop, noop);
    this.kick();
    return p;
  }

  private unusable(): Error | null {
    if (this.closed) return new EngineStorageError('ENGINE_CLOSED', `journal in ${this.dir} is closed`);
    return this.failure;
  }

  private kick(): void {
    if (this.flushRunning) return;
    this.flushRunning = true;
    void this.flushLoop();
  }

  /**
   * The group-commit loop. While one write+fsync is in flight, appends pile
   * up in the queue; the next turn takes all of them (same generation, up to
   * maxBatchBytes) into one write and one fsync.
   */
  private async flushLoop(): Promise<void> {
    await null; // let appends made in the same tick join the first batch
    while (this.queue.length > 0) {
      const gen = this.queue[0]!.gen;
      let n = 0;
      let bytes = 0;
      while (n < this.queue.length && this.queue[n]!.gen === gen && (n === 0 || bytes + this.queue[n]!.frame.length <= this.maxBatchBytes)) {
        bytes += this.queue[n]!.frame.length;
        n++;
      }
      const batch = this.queue.splice(0, n);
      try {
        if (this.failure) throw this.failure;
        const fh = await this.files.get(gen)!;
        const buf = batch.length === 1 ? batch[0]!.frame : Buffer.concat(batch.map((b) => b.frame), bytes);
        let pos = this.sizes.get(gen)!;
        for (let at = 0; at < buf.length; ) {
          const { bytesWritten } = await fh.write(buf, at, buf.length - at, pos);
          at += bytesWritten;
          pos += bytesWritten;
          this.counters.writes++;
        }
        if (this.beforeSync) await this.beforeSync(path.join(this.dir, journalName(gen)));
        // datasync suffices: it also persists the grown file size.
        await fh.datasync();
        this.counters.syncs++;
        this.sizes.set(gen, pos);
        for (const b of batch) this.counters.records += b.records;
        for (const b of batch) b.resolve();
      } catch (e) {
        this.fail(e);
        for (const b of batch) b.reject(this.failure!);
      }
    }
    this.flushRunning = false;
  }

  private fail(e: unknown): void {
    if (this.failure) return;
    this.failure = new EngineStorageError('ENGINE_STORAGE', `journal write failed in ${this.dir}: ${(e as Error)?.message ?? e}; reopen to recover`, { cause: e });
  }

  /**
   * Write `chunks` as the new snapshot and start a new journal generation,
   * then delete the older generation. Read the compaction rule in the file
   * comment: the generation switches synchronously when this is called.
   * Calls are serialized; appends are never blocked by a running compaction.
   */
  compact(chunks: SnapshotChunks): Promise<void> {
    const unusable = this.unusable();
    if (unusable) return Promise.reject(unusable);
    const gen = this.gen + 1;
    this.gen = gen;
    const created = this.createJournal(gen);
    // Awaited later (by the flush loop or runCompaction); mark it handled so a
    // failure does not surface as an unhandled rejection meanwhile.
    created.catch(noop);
    this.files.set(gen, created);
    this.sizes.set(gen, 0);
    const carried = this.bytes;
    this.bytes = 0;
    const olderWrites = this.tail; // everything appended before this call
    this.compactsRunning++;
    const run = this.compactTail.then(() => this.runCompaction(gen, chunks, olderWrites));
    this.compactTail = run.then(noop, noop);
    return run.then(
      () => void this.compactsRunning--,
      (e: unknown) => {
        this.compactsRunning--;
        // The old generations are still needed, so the engine should try again soon.
        if (this.gen === gen) this.bytes += carried;
        throw e;
      },
    );
  }

  private async createJournal(gen: number): Promise<FileHandle> {
    const fh = await open(path.join(this.dir, journalName(gen)), 'wx');
    try {
      await fsyncDir(this.dir); // the journal must exist on disk before its snapshot can
    } catch (e) {
      await fh.close();
      throw e;
    }
    return fh;
  }

  private async runCompaction(gen: number, chunks: SnapshotChunks, olderWrites: Promise<void>): Promise<void> {
    try {
      await this.files.get(gen);
    } catch (e) {
      this.fail(e);
      throw this.failure;
    }
    await writeSnapshot(this.dir, gen, chunks);
    this.counters.compactions++;
    await olderWrites;
    // An older record that failed to reach disk is in the snapshot but was
    // never acknowledged; keeping the old files helps nobody, yet report it.
    if (this.failure) throw this.failure;
    for (const [g, fh] of this.files) {
      if (g >= gen) continue;
      this.files.delete(g);
      this.sizes.delete(g);
      await (await fh).close();
    }
    try {
      let removed = false;
      for (const name of await readdir(this.dir)) {
        const p = parseName(name);
        if (p && p.gen < gen) {
          await unlink(path.join(this.dir, name));
          removed = true;
        }
      }
      if (removed) await fsyncDir(this.dir);
    } catch (e) {
      // The new snapshot is durable; leftovers are removed by the next compaction or open.
      this.warn(`could not remove old journal generation in ${this.dir}: ${(e as Error).message}`);
    }
  }

  /** Wait for pending appends and compactions, then release the files. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      await this.tail;
      await this.compactTail;
      await this.tail; // a compaction never appends, but be exact about ordering
      for (const fh of this.files.values()) await (await fh.catch(() => null))?.close();
      this.files.clear();
    })();
    return this.closing;
  }
}
