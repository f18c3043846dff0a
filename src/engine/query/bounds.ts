/**
 * Extracts per-field index bounds from a filter: equality, $in and range
 * conditions on top-level (possibly dotted) fields, including inside $and.
 * Bounds only narrow the candidates; the full filter is always re-checked.
 */
import type { Document } from 'bson';
import { TypeEdge, typeRank } from './order.js';
import { isPlainObject } from './paths.js';

/** One end of a range. */
export interface Bound {
  v: unknown;
  inc: boolean;
}

/** Conditions on one field usable by an index. */
export interface FieldBounds {
  points?: unknown[];
  lo?: Bound;
  hi?: Bound;
}

function usableValue(v: unknown): boolean {
  if (v instanceof RegExp || Array.isArray(v) || v === undefined) return false;
  const t = (v as { _bsontype?: string })?._bsontype;
  if (t === 'BSONRegExp' || t === 'MinKey' || t === 'MaxKey') return false;
  if (isPlainObject(v)) return !Object.keys(v).some((k) => k.startsWith('$'));
  return true;
}

function addCondition(out: Map<string, FieldBounds>, field: string, cond: unknown): void {
  const b = out.get(field) ?? {};
  if (isPlainObject(cond) && Object.keys(cond).some((k) => k.startsWith('$'))) {
    for (const [op, v] of Object.entries(cond)) {
      switch (op) {
        case '$eq':
          if (usableValue(v)) b.points = [v];
          break;
        case '$in':
          if (Array.isArray(v) && v.every(usableValue) && !b.points) b.points = v;
          break;
        case '$gt':
        case '$gte':
          if (usableValue(v) && v !== null) b.lo = { v, inc: op === '$gte' };
          break;
        case '$lt':
        case '$lte':
          if (usableValue(v) && v !== null) b.hi = { v, inc: op === '$lte' };
          break;
      }
    }
  } else if (usableValue(cond)) {
    b.points = [cond];
  }
  if (b.points || b.lo || b.hi) out.set(field, b);
}

/** Field → bounds for the index-usable parts of a filter. */
export function extractBounds(filter: Document | undefined, out = new Map<string, FieldBounds>()): Map<string, FieldBounds> {
  if (!filter) return out;
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) if (isPlainObject(sub)) extractBounds(sub, out);
    } else if (!k.startsWith('$')) {
      addCondition(out, k, v);
    }
  }
  return out;
}

/** Completes a one-sided range with the edge of its type (MongoDB's type bracketing). */
export function rangeOf(b: FieldBounds): { lo: Bound; hi: Bound } {
  const ref = b.lo?.v ?? b.hi?.v;
  const rank = typeRank(ref);
  return {
    lo: b.lo ?? { v: new TypeEdge(rank, 'min'), inc: true },
    hi: b.hi ?? { v: new TypeEdge(rank, 'max'), inc: true },
  };
}
