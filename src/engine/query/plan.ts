/**
 * Query planning: picks the index that best fits a filter (equality prefix,
 * then one $in or range field) or, failing that, an index that yields the
 * requested sort order; otherwise a collection scan. Yields candidate
 * records only; the caller re-checks the full filter on each.
 */
import type { Document } from 'bson';
import type { Collection } from '../storage/collection.js';
import type { Entry, Index } from '../storage/sorted-index.js';
import type { DocRecord } from '../storage/record.js';
import { extractBounds, rangeOf, type Bound, type FieldBounds } from './bounds.js';
import { heldExactly, idKey, keyString } from './keystring.js';
import { TypeEdge, compareValues } from './order.js';
import type { SortSpec } from './sort.js';

/** How a query is answered; `sorted` means candidates already come in the requested sort order. */
export interface Plan {
  candidates: Iterable<DocRecord>;
  sorted: boolean;
  /** 'IDHACK', 'COLLSCAN' or 'IXSCAN <index name>'. */
  stage: string;
}

const ABS_MIN = new TypeEdge(0, 'min');
const ABS_MAX = new TypeEdge(99, 'max');

interface Interval {
  lo: unknown[];
  hi: unknown[];
  /** Bounds of the last constrained field, to apply exclusivity. */
  field: number;
  loB?: Bound;
  hiB?: Bound;
}

function idLookup(coll: Collection, filter: Document, sort: SortSpec): Plan | undefined {
  const keys = Object.keys(filter);
  if (keys.length !== 1 || keys[0] !== '_id') return undefined;
  const b = extractBounds(filter).get('_id');
  if (!b?.points || b.lo || b.hi) return undefined;
  if (b.points.length === 1) {
    const rec = coll.getById(b.points[0]);
    return { candidates: rec ? [rec] : [], sorted: true, stage: 'IDHACK' };
  }
  return idsLookup(coll, b.points, sort);
}

/**
 * `{_id: {$in: [...]}}` by hash lookups instead of one index seek per value,
 * giving what that index scan gives: the ids' records in the order of the
 * list, each once, looked up lazily as a cursor walks on. Only for ids whose
 * canonical key agrees exactly with the index order's equality (strings and
 * JS numbers short of integers beyond 2^53, which may equal a distinct Long).
 */
function idsLookup(coll: Collection, points: unknown[], sort: SortSpec): Plan | undefined {
  if (!points.every(exactKey)) return undefined;
  return { candidates: idRecords(coll, points), sorted: sort.length === 0, stage: `IXSCAN ${coll.indexes[0].name}` };
}

function exactKey(p: unknown): boolean {
  return typeof p === 'string' || (typeof p === 'number' && heldExactly(p));
}

function* idRecords(coll: Collection, points: unknown[]): Generator<DocRecord> {
  const seen = new Set<string | number>();
  for (const p of points) {
    const key = idKey(p);
    if (seen.has(key)) continue;
    seen.add(key);
    let rec = coll.docs.get(key);
    while (rec) {
      yield rec;
      // As the index walk would: a document re-inserted under this _id meanwhile sorts after the one just given.
      const now = coll.docs.get(key);
      rec = now && now.seq > rec.seq ? now : undefined;
    }
  }
}

/** Chooses how to read candidates for a filter and sort. */
export function planQuery(coll: Collection, filter: Document | undefined, sort: SortSpec): Plan {
  if (filter) {
    const id = idLookup(coll, filter, sort);
    if (id) return id;
  }
  const bounds = extractBounds(filter);
  let best: { ix: Index; eq: number; score: number; last?: FieldBounds } | undefined;
  for (const ix of coll.indexes) {
    if (ix.spec.sparse || ix.spec.partialFilterExpression) continue;
    let eq = 0;
    let last: FieldBounds | undefined;
    for (const f of ix.fields) {
      const b = bounds.get(f);
      if (!b) break;
      if (b.points?.length === 1) {
        eq++;
        continue;
      }
      last = b;
      break;
    }
    if (eq === 0 && !last) continue;
    const full = eq === ix.fields.length;
    const score = eq * 4 + (last ? (last.points ? 2 : 1) : 0) + (full && ix.unique ? 8 : 0) - ix.fields.length * 0.01;
    if (!best || score > best.score) best = { ix, eq, score, last };
  }
  if (best) {
    const { ix, eq, last } = best;
    const intervals = buildIntervals(ix, bounds, eq, last);
    const dir = sortDirection(ix, sort, eq);
    const sorted = dir !== 0 && intervals.length === 1 && !ix.multikey;
    if (!sorted && intervals.length > 1 && !ix.multikey) {
      // {f: {$in: [...]}} sorted on the fields after f: each point's run is already in order, so merge the runs.
      const mdir = sortDirection(ix, sort, eq + 1);
      if (mdir !== 0) return { candidates: mergeRuns(ix, intervals, eq + 1, mdir), sorted: true, stage: `IXSCAN ${ix.name}` };
    }
    return { candidates: scan(ix, intervals, sorted ? dir : 1), sorted: sorted || sort.length === 0, stage: `IXSCAN ${ix.name}` };
  }
  if (sort.length > 0) {
    for (const ix of coll.indexes) {
      if (ix.multikey || ix.spec.sparse || ix.spec.partialFilterExpression) continue;
      const dir = sortDirection(ix, sort, 0);
      if (dir !== 0) {
        const all: Interval = { lo: ix.fields.map(() => ABS_MIN), hi: ix.fields.map(() => ABS_MAX), field: -1 };
        return { candidates: scan(ix, [all], dir), sorted: true, stage: `IXSCAN ${ix.name}` };
      }
    }
  }
  return { candidates: coll.docs.values(), sorted: sort.length === 0, stage: 'COLLSCAN' };
}

/** 1 or -1 when walking the index (forward/backward) from field `from` on gives the sort order; 0 otherwise. */
function sortDirection(ix: Index, sort: SortSpec, from: number): number {
  if (sort.length === 0 || from + sort.length > ix.fields.length) return 0;
  let dir = 0;
  for (let i = 0; i < sort.length; i++) {
    if (ix.fields[from + i] !== sort[i].field) return 0;
    const d = ix.dirs[from + i] * sort[i].dir;
    if (dir === 0) dir = d;
    else if (d !== dir) return 0;
  }
  return dir;
}

function buildIntervals(ix: Index, bounds: Map<string, FieldBounds>, eq: number, last?: FieldBounds): Interval[] {
  const prefix = ix.fields.slice(0, eq).map((f) => bounds.get(f)!.points![0]);
  const rest = ix.fields.length - eq - (last ? 1 : 0);
  const tailLo = Array(rest).fill(ABS_MIN);
  const tailHi = Array(rest).fill(ABS_MAX);
  if (!last) return [{ lo: [...prefix, ...tailLo], hi: [...prefix, ...tailHi], field: -1 }];
  if (last.points) {
    const uniq = [...new Map(last.points.map((p) => [keyString(p), p])).values()];
    // A range on the next field bounds each point's run too ({f: {$in}, g: {$gt, $lte}}), as MongoDB's
    // multi-interval bounds do: without it each run is walked from its first entry and filtered.
    const next = ix.multikey ? undefined : bounds.get(ix.fields[eq + 1] ?? '');
    if (next && !next.points && (next.lo || next.hi)) {
      const { lo, hi } = rangeOf(next);
      const tail = rest - 1;
      return uniq.map((p) => ({
        lo: [...prefix, p, lo.v, ...Array(tail).fill(ABS_MIN)],
        hi: [...prefix, p, hi.v, ...Array(tail).fill(ABS_MAX)],
        field: eq + 1, loB: lo, hiB: hi,
      }));
    }
    return uniq.map((p) => ({ lo: [...prefix, p, ...tailLo], hi: [...prefix, p, ...tailHi], field: -1 }));
  }
  let { lo, hi } = rangeOf(last);
  // On a multikey field, different elements may satisfy each side: keep only the lower side.
  if (ix.multikey && last.lo && last.hi) hi = rangeOf({ lo: last.lo }).hi;
  return [{ lo: [...prefix, lo.v, ...tailLo], hi: [...prefix, hi.v, ...tailHi], field: eq, loB: lo, hiB: hi }];
}

/**
 * Converts value-order bounds into index order: on a descending field the
 * index starts at the high end. Only the ends swap; the bounds themselves
 * (ABS_MIN/ABS_MAX included) stay as they are, since compareKeys already
 * reverses the comparison on that field.
 */
function indexOrder(ix: Index, iv: Interval): { start: unknown[]; end: unknown[] } {
  const start: unknown[] = [];
  const end: unknown[] = [];
  ix.dirs.forEach((d, i) => {
    start.push(d > 0 ? iv.lo[i] : iv.hi[i]);
    end.push(d > 0 ? iv.hi[i] : iv.lo[i]);
  });
  return { start, end };
}

function* scanEntries(ix: Index, intervals: Interval[], dir: number): Generator<Entry> {
  const dedupe = ix.multikey || intervals.length > 1 ? new Set<number>() : undefined;
  for (const iv of intervals) {
    const { start, end } = indexOrder(ix, iv);
    const entries =
      dir > 0
        ? ix.entries.forward(ix.entries.lowerBound((e) => ix.compareKeys(e.k, start) >= 0) ?? { c: Number.MAX_SAFE_INTEGER, i: 0 })
        : ix.entries.backward(ix.entries.lastBefore((e) => ix.compareKeys(e.k, end) > 0) ?? { c: -1, i: -1 });
    for (const e of entries as Iterable<Entry>) {
      if (dir > 0 ? ix.compareKeys(e.k, end) > 0 : ix.compareKeys(e.k, start) < 0) break;
      if (iv.field >= 0 && !withinRange(e.k[iv.field], iv)) continue;
      if (dedupe) {
        if (dedupe.has(e.rec.seq)) continue;
        dedupe.add(e.rec.seq);
      }
      yield e;
    }
  }
}

function* scan(ix: Index, intervals: Interval[], dir: number): Generator<DocRecord> {
  for (const e of scanEntries(ix, intervals, dir)) yield e.rec;
}

/** k-way merge of per-interval scans ordered by the index fields from `from` on, walked in direction `dir`. */
function* mergeRuns(ix: Index, intervals: Interval[], from: number, dir: number): Generator<DocRecord> {
  const runs = intervals.map((iv) => scanEntries(ix, [iv], dir));
  const heads = runs.map((r) => r.next());
  const order = (a: Entry, b: Entry): number => {
    for (let i = from; i < ix.dirs.length; i++) {
      const c = compareValues(a.k[i], b.k[i]) * ix.dirs[i];
      if (c !== 0) return c * dir;
    }
    return (a.rec.seq - b.rec.seq) * dir;
  };
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (!h.done && (best < 0 || order(h.value, heads[best].value as Entry) < 0)) best = i;
    }
    if (best < 0) return;
    yield (heads[best].value as Entry).rec;
    heads[best] = runs[best].next();
  }
}

function withinRange(v: unknown, iv: Interval): boolean {
  if (iv.loB && !iv.loB.inc && compareValues(v, iv.loB.v) === 0) return false;
  if (iv.hiB && !iv.hiB.inc && compareValues(v, iv.hiB.v) === 0) return false;
  return true;
}
