/**
 * A secondary (or _id) index: a sorted list of (key tuple, record) entries in
 * MongoDB order with per-field direction, supporting multikey (array) fields,
 * unique, sparse and partial indexes.
 */
import type { Document } from 'bson';
import { EngineError } from '../errors.js';
import { compareValues } from '../query/order.js';
import { keyString } from '../query/keystring.js';
import { collectPath, splitPath, type Doc } from '../query/paths.js';
import type { DocRecord } from './record.js';
import { SortedList, type Layout, type Pos } from './sorted-list.js';

/** One index entry. */
export interface Entry {
  k: unknown[];
  rec: DocRecord;
}

/**
 * Where a new record's keys go in one index, found once for both the
 * uniqueness check and the insert (see {@link Index.place}).
 */
export interface Placement {
  keys: unknown[][];
  /** The one key's entry and its position (a record with one key, the usual case). */
  entry?: Entry;
  pos?: Pos;
}

/** The stored description of an index, as returned by listIndexes. */
export interface IndexSpec extends Document {
  v: number;
  key: Record<string, number>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
}

/** Predicate deciding whether a document belongs to a partial index. */
export type DocPredicate = (rec: DocRecord) => boolean;

/** A sorted index over one or more fields. */
export class Index {
  readonly fields: string[];
  readonly dirs: number[];
  private readonly paths: string[][];
  /** No dotted field: keys can be read straight off the document. */
  private readonly topLevel: boolean;
  readonly entries: SortedList<Entry>;
  /** Entry order: keys in index order, then record seq. */
  private readonly order: (a: Entry, b: Entry) => number;
  /** True once any document produced several keys (an array field): such an index cannot answer sorts. */
  multikey = false;

  constructor(
    readonly spec: IndexSpec,
    private readonly ns: string,
    private readonly partial?: DocPredicate,
  ) {
    this.fields = Object.keys(spec.key);
    this.dirs = this.fields.map((f) => (Number(spec.key[f]) < 0 ? -1 : 1));
    this.paths = this.fields.map(splitPath);
    this.topLevel = this.paths.every((p) => p.length === 1);
    // The first field leads: a search reads it from the list's own arrays, and reaches into an entry only on a tie.
    const first = this.dirs[0] > 0 ? compareValues : (a: unknown, b: unknown) => -compareValues(a, b);
    const rest = this.afterFirst();
    // The one entry order (keys in index order, then record seq), from the same two parts the list searches with.
    this.order = (a, b) => first(a.k[0], b.k[0]) || rest(a, b);
    const restAt = this.afterFirstAt();
    this.entries = new SortedList<Entry>(this.order, { of: (e) => e.k[0], cmp: first, rest, restAt }, entryLayout(this.fields.length));
  }

  /** {@link afterFirst} with the stored entry given as its slots (keys, then record): a search's ties read no entry object. */
  private afterFirstAt(): (slots: unknown[], at: number, b: Entry) => number {
    const dirs = this.dirs;
    const n = dirs.length;
    return (slots, at, b) => {
      for (let i = 1; i < n; i++) {
        const c = compareValues(slots[at + i], b.k[i]);
        if (c !== 0) return dirs[i] < 0 ? -c : c;
      }
      return (slots[at + n] as DocRecord).seq - b.rec.seq;
    };
  }

  /** Entry order between entries whose first key fields are equal: the other fields, then record seq. */
  private afterFirst(): (a: Entry, b: Entry) => number {
    const dirs = this.dirs;
    if (dirs.length === 1) return (a, b) => a.rec.seq - b.rec.seq;
    return (a, b) => {
      for (let i = 1; i < dirs.length; i++) {
        const c = compareValues(a.k[i], b.k[i]);
        if (c !== 0) return dirs[i] < 0 ? -c : c;
      }
      return a.rec.seq - b.rec.seq;
    };
  }


  get name(): string {
    return this.spec.name;
  }

  get unique(): boolean {
    return this.spec.unique === true;
  }

  /** Compares two key tuples in index order (directions applied). */
  compareKeys(a: unknown[], b: unknown[]): number {
    const dirs = this.dirs;
    for (let i = 0; i < dirs.length; i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return dirs[i] < 0 ? -c : c;
    }
    return 0;
  }

  /** Key tuples of a record (none when a sparse/partial index skips it). */
  keysOf(rec: DocRecord): unknown[][] {
    if (this.partial && !this.partial(rec)) return [];
    return (this.topLevel && this.scalarKey(rec.doc)) || this.expandedKeys(rec);
  }

  /**
   * The one key of a document whose indexed top-level fields hold no arrays
   * (the usual case): no path walk, no cross product. Undefined when a field
   * is an array, which needs {@link expandedKeys}.
   */
  private scalarKey(doc: Doc): unknown[][] | undefined {
    const fields = this.fields;
    const key: unknown[] = new Array(fields.length);
    let present = false;
    for (let i = 0; i < fields.length; i++) {
      const v = doc[fields[i]];
      if (Array.isArray(v)) return undefined;
      if (v !== undefined) present = true;
      key[i] = v === undefined ? null : v;
    }
    if (this.spec.sparse && !present) return [];
    return [key];
  }

  /** Key tuples by the general rules: dotted paths through arrays, multikey expansion. */
  private expandedKeys(rec: DocRecord): unknown[][] {
    const perField: unknown[][] = [];
    let arrayFields = 0;
    let present = false;
    for (const parts of this.paths) {
      const raw = collectPath(rec.doc, parts);
      const vals: unknown[] = [];
      let isArray = raw.length > 1;
      for (const v of raw) {
        if (v !== undefined) present = true;
        if (Array.isArray(v)) {
          isArray = true;
          if (v.length === 0) vals.push(undefined);
          else vals.push(...v);
        } else {
          vals.push(v);
        }
      }
      if (isArray) arrayFields++;
      perField.push(vals.map((v) => (v === undefined ? null : v)));
    }
    if (this.spec.sparse && !present) return [];
    if (arrayFields > 1) {
      throw new EngineError('CannotIndexParallelArrays', `cannot index parallel arrays [${this.fields.join('] [')}]`);
    }
    let keys: unknown[][] = [[]];
    for (const vals of perField) {
      const next: unknown[][] = [];
      for (const k of keys) for (const v of vals) next.push([...k, v]);
      keys = next;
    }
    if (keys.length > 1) {
      this.multikey = true;
      const seen = new Set<string>();
      keys = keys.filter((k) => {
        const s = keyString(k);
        if (seen.has(s)) return false;
        seen.add(s);
        return true;
      });
    }
    return keys;
  }

  /** Throws DuplicateKey if a unique index already holds one of `keys` for another document. */
  checkUnique(keys: unknown[][], seq: number): void {
    if (!this.unique) return;
    for (const k of keys) {
      let taken = false;
      this.entries.visitFrom(
        (e) => this.compareKeys(e.k, k) >= 0,
        (e) => {
          if (this.compareKeys(e.k, k) !== 0) return false;
          taken = e.rec.seq !== seq;
          return !taken;
        },
      );
      if (taken) throw this.duplicate(k);
    }
  }

  /**
   * Checks the keys of a record being inserted (newer than every record in
   * the index: its seq is the highest) and finds where they go, without
   * changing the index; {@link commit} then inserts them there. A record
   * with one key is placed with one search: its entry goes after every equal
   * key (entries of equal keys are in seq order), so in a unique index the
   * entry just before its place holds the only key it could collide with.
   * Throws DuplicateKey like {@link checkUnique}.
   */
  place(keys: unknown[][], rec: DocRecord): Placement {
    if (keys.length !== 1) {
      this.checkUnique(keys, rec.seq);
      return { keys };
    }
    const entry: Entry = { k: keys[0], rec };
    const pos = this.entries.locate(entry);
    if (this.unique) {
      const prev = this.entries.before(pos);
      if (prev && prev.rec.seq !== rec.seq && this.compareKeys(prev.k, entry.k) === 0) throw this.duplicate(entry.k);
    }
    return { keys, entry, pos };
  }

  /** Inserts what {@link place} found, with no change to this index since. */
  commit(p: Placement, rec: DocRecord): void {
    if (p.entry && p.pos) this.entries.insertAt(p.pos, p.entry);
    else this.add(p.keys, rec);
  }

  /** Builds MongoDB's duplicate-key error (code 11000 with keyPattern and keyValue). */
  duplicate(k: unknown[]): EngineError {
    const keyValue: Doc = {};
    this.fields.forEach((f, i) => (keyValue[f] = k[i]));
    const shown = this.fields.map((f, i) => `${f}: ${show(k[i])}`).join(', ');
    return new EngineError('DuplicateKey', `E11000 duplicate key error collection: ${this.ns} index: ${this.name} dup key: { ${shown} }`, {
      keyPattern: { ...this.spec.key },
      keyValue,
    });
  }

  /**
   * Fills the index from scratch with the given records: one sort instead of
   * n inserts (index builds and recovery). DuplicateKey if a unique index
   * would be violated; the index is then left unchanged.
   */
  build(records: Iterable<DocRecord>): void {
    const all: Entry[] = [];
    for (const rec of records) for (const k of this.keysOf(rec)) all.push({ k, rec });
    all.sort(this.order);
    if (this.unique) {
      for (let i = 1; i < all.length; i++) {
        if (all[i].rec.seq !== all[i - 1].rec.seq && this.compareKeys(all[i].k, all[i - 1].k) === 0) throw this.duplicate(all[i].k);
      }
    }
    this.entries.load(all);
  }

  /** Adds entries for keys computed by {@link keysOf}. */
  add(keys: unknown[][], rec: DocRecord): void {
    for (const k of keys) this.entries.insert({ k, rec });
  }

  /** Removes the entries of a record given its keys. */
  remove(keys: unknown[][], rec: DocRecord): void {
    for (const k of keys) this.entries.delete({ k, rec });
  }
}

/**
 * An entry kept as slots of its chunk: its key fields, then its record. An
 * index of every stored text then adds no heap object per text.
 */
function entryLayout(fields: number): Layout<Entry> {
  return {
    width: fields + 1,
    write(e, arr, at) {
      for (let f = 0; f < fields; f++) arr[at + f] = e.k[f];
      arr[at + fields] = e.rec;
    },
    read: (arr, at) => ({ k: arr.slice(at, at + fields), rec: arr[at + fields] as DocRecord }),
  };
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'null';
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'ObjectId') return `ObjectId('${String(v)}')`;
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  return String(v);
}
