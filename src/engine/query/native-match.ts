/**
 * A direct matcher for the common filter shapes (field equality, ranges,
 * $in/$nin, $ne, $exists, and $and/$or/$nor of those). It reads the typed
 * documents with the MongoDB comparator, so it needs neither mingo's
 * per-query set-up nor the number-normalised view: this is the hot path of
 * findOne/updateOne. Anything else returns undefined and goes to mingo.
 */
import type { Document } from 'bson';
import { bsonTypeNumber, parseTypeSpec } from './bson-type.js';
import { compareValues, typeRank, TypeRank } from './order.js';
import { isPlainObject, type Doc } from './paths.js';

/** Predicate over a stored (typed) document. */
export type DocTest = (doc: Doc) => boolean;

const DIGITS = /^\d+$/;

/** Values a path reaches, MongoDB style: arrays on the way are traversed; missing gives undefined. */
function gather(v: unknown, parts: readonly string[], i: number, out: unknown[]): void {
  if (i === parts.length) {
    out.push(v);
    if (Array.isArray(v)) for (const e of v) out.push(e);
    return;
  }
  if (Array.isArray(v)) {
    const p = parts[i];
    if (DIGITS.test(p)) {
      gather(v[Number(p)], parts, i + 1, out);
      return;
    }
    // Only embedded documents are traversed; scalars in the array contribute nothing (mingo's reading).
    for (const e of v) if (isPlainObject(e)) gather(e, parts, i, out);
    return;
  }
  if (isPlainObject(v)) gather(v[parts[i]], parts, i + 1, out);
  else out.push(undefined);
}

function candidates(doc: Doc, parts: readonly string[]): unknown[] {
  if (parts.length === 1) {
    const v = doc[parts[0]];
    if (!Array.isArray(v)) return [v];
  }
  const out: unknown[] = [];
  gather(doc, parts, 0, out);
  return out;
}

function plainValue(v: unknown): boolean {
  if (v instanceof RegExp) return false;
  const t = (v as { _bsontype?: string })?._bsontype;
  if (t === 'BSONRegExp' || t === 'MinKey' || t === 'MaxKey' || t === 'Code') return false;
  if (isPlainObject(v)) return !Object.keys(v).some((k) => k.startsWith('$'));
  return v !== undefined;
}

function eq(c: unknown, v: unknown): boolean {
  if (v === null) return c === null || c === undefined;
  return c !== undefined && compareValues(c, v) === 0;
}

type ValueTest = (c: unknown) => boolean;

/**
 * Membership in a $in/$nin list. When the list holds only strings and JS
 * numbers, a string or number candidate is looked up in a Set: for those,
 * equality in MongoDB order is SameValueZero (NaN equals NaN, -0 equals 0).
 * Anything else (wrapped numbers, symbols) compares against each element.
 */
function inTest(list: unknown[]): ValueTest {
  const scan = (c: unknown) => list.some((x) => eq(c, x));
  if (list.length < 4 || !list.every((x) => typeof x === 'string' || typeof x === 'number')) return scan;
  const set = new Set(list);
  return (c) => (typeof c === 'string' || typeof c === 'number' ? set.has(c) : scan(c));
}

function rangeTest(op: string, v: unknown): ValueTest | undefined {
  if (!plainValue(v) || v === null) return undefined;
  const rank = typeRank(v);
  // Type bracketing: a range only matches values of the same canonical type.
  const same = (c: unknown) => c !== undefined && typeRank(c) === rank;
  switch (op) {
    case '$gt':
      return (c) => same(c) && compareValues(c, v) > 0;
    case '$gte':
      return (c) => same(c) && compareValues(c, v) >= 0;
    case '$lt':
      return (c) => same(c) && compareValues(c, v) < 0;
    case '$lte':
      return (c) => same(c) && compareValues(c, v) <= 0;
  }
  return undefined;
}

/** Compiles the condition on one field; undefined when an operator needs mingo. */
function fieldTest(path: string, cond: unknown): DocTest | undefined {
  const parts = path.split('.');
  if (!(isPlainObject(cond) && Object.keys(cond).some((k) => k.startsWith('$')))) {
    if (!plainValue(cond) && cond !== null) return undefined;
    return (doc) => candidates(doc, parts).some((c) => eq(c, cond));
  }
  const any: ValueTest[] = [];
  const none: ValueTest[] = [];
  let exists: boolean | undefined;
  for (const [op, v] of Object.entries(cond)) {
    switch (op) {
      case '$eq':
        if (!plainValue(v) && v !== null) return undefined;
        any.push((c) => eq(c, v));
        break;
      case '$ne':
        if (!plainValue(v) && v !== null) return undefined;
        none.push((c) => eq(c, v));
        break;
      case '$in':
      case '$nin': {
        if (!Array.isArray(v) || !v.every((x) => plainValue(x) || x === null)) return undefined;
        (op === '$in' ? any : none).push(inTest(v));
        break;
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte': {
        const t = rangeTest(op, v);
        if (!t) return undefined;
        any.push(t);
        break;
      }
      case '$type': {
        // Decided on the typed values, so int, long, double and decimal stay distinguishable.
        const ok = parseTypeSpec(v);
        any.push((c) => {
          const n = bsonTypeNumber(c);
          return n !== undefined && ok(n);
        });
        break;
      }
      case '$exists':
        exists = !(v === false || v === 0 || (typeRank(v) === TypeRank.Number && Number(String(v)) === 0));
        break;
      default:
        return undefined;
    }
  }
  return (doc) => {
    const cs = candidates(doc, parts);
    if (exists !== undefined && cs.some((c) => c !== undefined) !== exists) return false;
    for (const t of any) if (!cs.some(t)) return false;
    for (const t of none) if (cs.some(t)) return false;
    return true;
  };
}

/** Compiles a filter natively, or returns undefined when some part needs mingo. */
export function compileNative(filter: Document): DocTest | undefined {
  const tests: DocTest[] = [];
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' || k === '$or' || k === '$nor') {
      if (!Array.isArray(v) || v.length === 0 || !v.every(isPlainObject)) return undefined;
      const subs = v.map((s) => compileNative(s as Document));
      if (subs.some((s) => !s)) return undefined;
      const fs = subs as DocTest[];
      if (k === '$and') tests.push((d) => fs.every((f) => f(d)));
      else if (k === '$or') tests.push((d) => fs.some((f) => f(d)));
      else tests.push((d) => !fs.some((f) => f(d)));
      continue;
    }
    if (k.startsWith('$')) return undefined;
    const t = fieldTest(k, v);
    if (!t) return undefined;
    tests.push(t);
  }
  if (tests.length === 1) return tests[0];
  return (d) => {
    for (const t of tests) if (!t(d)) return false;
    return true;
  };
}
