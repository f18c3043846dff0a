/**
 * A collection: documents by canonical _id key plus its indexes. Every
 * mutation checks all constraints before touching anything, so a failed
 * insert or update leaves the collection unchanged.
 */
import { serialize, type Document } from 'bson';
import { EngineError } from '../errors.js';
import { idKey } from '../query/keystring.js';
import type { Doc } from '../query/paths.js';
import { Index, type DocPredicate, type IndexSpec, type Placement } from './sorted-index.js';
import { DocRecord } from './record.js';
import { Slabs } from './slabs.js';

/** Builds the predicate of a partial index from its filter (supplied by the query layer). */
export type PredicateFactory = (filter: Document) => DocPredicate;

/** The default index every collection has. */
export const ID_INDEX_SPEC: IndexSpec = { v: 2, key: { _id: 1 }, name: '_id_' };

/** Documents and indexes of one namespace. */
export class Collection {
  /** Documents by {@link idKey} of their _id. */
  readonly docs = new Map<string | number, DocRecord>();
  readonly indexes: Index[];
  /** Where documents at rest keep their bytes. */
  private readonly slabs = new Slabs();
  private nextSeq = 1;

  constructor(
    readonly db: string,
    readonly name: string,
    readonly options: Document,
    private readonly predicate: PredicateFactory,
  ) {
    this.indexes = [new Index(ID_INDEX_SPEC, this.ns)];
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  /** Looks a document up by its _id value. */
  getById(id: unknown): DocRecord | undefined {
    return this.docs.get(idKey(id));
  }

  /** Inserts a document that already has an _id; DuplicateKey if any unique key is taken. */
  insert(doc: Doc): DocRecord {
    const key = idKey(doc._id);
    if (this.docs.has(key)) throw this.indexes[0].duplicate([doc._id]);
    // Encoded before anything changes, like every other check of an insert.
    const bytes = serialize(doc);
    const rec = new DocRecord(doc, this.nextSeq++);
    // Every index is checked (and its place found) before any changes: a refused insert leaves all unchanged.
    const indexes = this.indexes;
    const placed: Placement[] = [];
    for (const ix of indexes) placed.push(ix.place(ix.keysOf(rec), rec));
    this.docs.set(key, rec);
    for (let i = 0; i < indexes.length; i++) indexes[i].commit(placed[i], rec);
    rec.rest(this.slabs, bytes);
    return rec;
  }

  /** Replaces a stored document (same _id) with a new version, in place. */
  replace(rec: DocRecord, doc: Doc): DocRecord {
    const probe = new DocRecord(doc, rec.seq);
    const moves: [Index, unknown[][], unknown[][]][] = [];
    for (let i = 0; i < this.indexes.length; i++) {
      const ix = this.indexes[i];
      const o = ix.keysOf(rec);
      const n = ix.keysOf(probe);
      // Skip index maintenance when the keys did not move (the usual $set on an unindexed field).
      if (o.length === n.length && o.every((k, j) => ix.compareKeys(k, n[j]) === 0)) continue;
      if (i > 0) ix.checkUnique(n, rec.seq);
      moves.push([ix, o, n]);
    }
    for (const [ix, o] of moves) ix.remove(o, rec);
    rec.doc = doc;
    for (const [ix, , n] of moves) ix.add(n, rec);
    return rec;
  }

  /**
   * Adds many documents at once (recovery from a snapshot): documents first,
   * then every index rebuilt with one sort each. They stay decoded until
   * {@link rest} (the caller may build more indexes first).
   */
  load(docs: Iterable<Doc>): void {
    for (const doc of docs) {
      const key = idKey(doc._id);
      if (this.docs.has(key)) throw this.indexes[0].duplicate([doc._id]);
      this.docs.set(key, new DocRecord(doc, this.nextSeq++));
    }
    for (const ix of this.indexes) ix.build(this.docs.values());
  }

  /** Keeps every document as its bytes (after a {@link load}). */
  rest(): void {
    for (const rec of this.docs.values()) rec.rest(this.slabs);
  }

  /** Removes a stored document. */
  remove(rec: DocRecord): void {
    this.docs.delete(idKey(rec.doc._id));
    for (const ix of this.indexes) ix.remove(ix.keysOf(rec), rec);
  }

  /** Creates an index and fills it from the current documents; DuplicateKey if a unique index cannot be built. */
  createIndex(spec: IndexSpec): void {
    const partial = spec.partialFilterExpression ? this.predicate(spec.partialFilterExpression) : undefined;
    const ix = new Index(spec, this.ns, partial);
    ix.build(this.docs.values());
    this.indexes.push(ix);
  }

  /** Drops an index by name (never _id_). */
  dropIndex(name: string): void {
    const i = this.indexes.findIndex((ix) => ix.name === name);
    if (i < 0) throw new EngineError('IndexNotFound', `index not found with name [${name}]`);
    if (i === 0) throw new EngineError('InvalidOptions', 'cannot drop _id index');
    this.indexes.splice(i, 1);
  }

  /** Finds an index by name. */
  indexByName(name: string): Index | undefined {
    return this.indexes.find((ix) => ix.name === name);
  }
}
