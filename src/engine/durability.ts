/**
 * Durability glue between the engine core and the journal
 * (storage/journal.ts): recovery at start (snapshot, then journaled
 * mutations in order), a journal append per write command (the reply waits
 * for its group-committed fsync), and compaction into a snapshot once the
 * journal has grown past a threshold.
 *
 * Recovery rules: the state is exactly the newest valid snapshot plus every
 * complete journal frame after it, applied in append order. A command's
 * mutations form one frame, so after a crash a multi-document command is
 * either wholly present or wholly absent. Acknowledged ⇒ fsynced ⇒ recovered.
 */
import type { Document } from 'bson';
import { mkdir } from 'node:fs/promises';
import { DESERIALIZE, decodeWrapped } from './bson-form.js';
import type { EngineCore } from './core.js';
import { compactNumbers } from './query/normalize.js';
import type { Catalog } from './storage/catalog.js';
import type { Collection } from './storage/collection.js';
import type { IndexSpec } from './storage/sorted-index.js';
import { lockDir, type DirLock } from './storage/dir-lock.js';
import { Journal } from './storage/journal.js';
import type { Mutation } from './storage/mutation.js';

/** Tuning of the durability layer (internal; the public options do not expose it). */
export interface DurabilityTuning {
  /** Journal bytes after which a snapshot is taken. */
  compactBytes: number;
  /** Documents per snapshot chunk (each chunk must stay far below 16 MiB). */
  chunkDocs: number;
}

/** Defaults: snapshot every 64 MiB of journal, 1,000 documents per chunk. */
export const DEFAULT_TUNING: DurabilityTuning = { compactBytes: 64 << 20, chunkDocs: 1000 };

interface CatalogChunk {
  kind: 'catalog';
  collections: { db: string; coll: string; options: Document; indexes: IndexSpec[] }[];
}

interface DocsChunk {
  kind: 'docs';
  db: string;
  coll: string;
  docs: Document[];
}

/** A journal attached to an engine core. */
export class Durability {
  private constructor(
    private readonly lock: DirLock,
    private readonly journal: Journal,
    private readonly core: EngineCore,
    private readonly tuning: DurabilityTuning,
    private readonly warn: (msg: string) => void,
  ) {}

  /** Opens the journal in `dir` and rebuilds the core's state from it. */
  static async open(dir: string, core: EngineCore, warn: (msg: string) => void, tuning: DurabilityTuning = DEFAULT_TUNING): Promise<Durability> {
    await mkdir(dir, { recursive: true });
    const lock = await lockDir(dir);
    let opened: Awaited<ReturnType<typeof Journal.open>>;
    try {
      opened = await Journal.open(dir, { onWarning: warn, deserializeOptions: DESERIALIZE });
    } catch (err) {
      await lock.release();
      throw err;
    }
    const { journal, snapshot, records } = opened;
    if (snapshot) loadSnapshot(core.catalog, compactNumbers(snapshot) as (CatalogChunk | DocsChunk)[]);
    for (const r of records) {
      try {
        core.replay(compactNumbers(r) as Mutation);
      } catch (err) {
        // A record that cannot be applied means the journal and the engine disagree; keep going with the rest.
        warn(`engine: skipped journal record ${String((r as Mutation).op)}: ${(err as Error).message}`);
      }
    }
    return new Durability(lock, journal, core, tuning, warn);
  }

  /**
   * Appends a command's mutations as one frame. Must be called in the same
   * tick as the mutations were applied, so journal order is apply order and
   * a snapshot taken here reflects exactly what has been appended.
   */
  persist(mutations: Mutation[]): Promise<void> {
    const done = this.journal.appendMany(mutations as unknown as Document[]);
    if (this.journal.bytesSinceSnapshot > this.tuning.compactBytes && !this.journal.compacting) {
      this.journal.compact(snapshotChunks(this.core.catalog, this.tuning.chunkDocs)).catch((err: unknown) => {
        this.warn(`engine: snapshot failed (the journal still holds everything): ${String(err)}`);
      });
    }
    return done;
  }

  /** Takes a snapshot now (for tests and for a clean shutdown). */
  compact(): Promise<void> {
    return this.journal.compact(snapshotChunks(this.core.catalog, this.tuning.chunkDocs));
  }

  /** Waits for pending writes and closes the files. */
  async close(): Promise<void> {
    try {
      await this.journal.close();
    } finally {
      await this.lock.release();
    }
  }
}

/**
 * Point-in-time snapshot chunks. Stored documents are never mutated in place
 * (updates swap in a new version), so capturing each record's current
 * version synchronously is enough for the lazily written chunks; versions
 * kept as bytes are decoded a chunk at a time, as it is written.
 */
function snapshotChunks(catalog: Catalog, chunkDocs: number): Iterable<Document> {
  const meta: CatalogChunk = { kind: 'catalog', collections: [] };
  const contents: { db: string; coll: string; docs: (Document | Buffer)[]; offsets: number[] }[] = [];
  for (const [db, colls] of catalog.dbs) {
    for (const c of colls.values()) {
      meta.collections.push({ db, coll: c.name, options: c.options, indexes: c.indexes.slice(1).map((ix) => ix.spec) });
      const docs: (Document | Buffer)[] = [];
      const offsets: number[] = [];
      for (const r of c.docs.values()) r.capture(docs, offsets);
      contents.push({ db, coll: c.name, docs, offsets });
    }
  }
  return (function* () {
    yield meta as unknown as Document;
    for (const { db, coll, docs, offsets } of contents) {
      for (let i = 0; i < docs.length; i += chunkDocs) {
        const part: Document[] = [];
        for (let j = i; j < Math.min(i + chunkDocs, docs.length); j++) part.push(offsets[j]! < 0 ? docs[j]! : decodeWrapped(docs[j] as Buffer, offsets[j]!));
        const chunk: DocsChunk = { kind: 'docs', db, coll, docs: part };
        yield chunk as unknown as Document;
      }
    }
  })();
}

function loadSnapshot(catalog: Catalog, chunks: (CatalogChunk | DocsChunk)[]): void {
  let meta: CatalogChunk | undefined;
  const pending = new Map<Collection, Document[]>();
  for (const chunk of chunks) {
    if (chunk.kind === 'catalog') {
      meta = chunk;
      for (const c of chunk.collections) catalog.ensure(c.db, c.coll, c.options);
    } else {
      const docs = pending.get(catalog.ensure(chunk.db, chunk.coll));
      if (docs) for (const d of chunk.docs) docs.push(d);
      else pending.set(catalog.ensure(chunk.db, chunk.coll), [...chunk.docs]);
    }
  }
  // Documents first, then each index built with one sort instead of maintenance per insert.
  for (const [coll, docs] of pending) coll.load(docs);
  for (const c of meta?.collections ?? []) {
    const coll = catalog.ensure(c.db, c.coll, c.options);
    for (const spec of c.indexes) coll.createIndex(spec);
  }
  for (const coll of pending.keys()) coll.rest();
}

