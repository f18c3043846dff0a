/** In-memory sort with MongoDB semantics (arrays sort by their min/max element, missing as null). */
import type { Document } from 'bson';
import { EngineError } from '../errors.js';
import { compareValues, toNumber } from './order.js';
import { collectPath, type Doc } from './paths.js';

/** A parsed sort specification: dotted path parts and direction. */
export type SortSpec = { field: string; parts: string[]; dir: 1 | -1 }[];

/** Parses {a: 1, b: -1}; BadValue for other values. */
export function parseSort(spec: Document | undefined): SortSpec {
  if (!spec) return [];
  return Object.keys(spec).map((field) => {
    const n = toNumber(spec[field]);
    if (n !== 1 && n !== -1) throw new EngineError('BadValue', `$sort key ordering must be 1 (for ascending) or -1 (for descending)`);
    return { field, parts: field.split('.'), dir: n as 1 | -1 };
  });
}

/** The value a document sorts by on one field: min element ascending, max element descending. */
export function sortKey(doc: Doc, parts: string[], dir: 1 | -1): unknown {
  const vals: unknown[] = [];
  for (const v of collectPath(doc, parts)) {
    if (Array.isArray(v)) {
      if (v.length === 0) vals.push(undefined);
      else vals.push(...v);
    } else vals.push(v);
  }
  let best: unknown = vals[0] ?? null;
  for (let i = 1; i < vals.length; i++) {
    const v = vals[i] ?? null;
    if (compareValues(v, best) * dir < 0) best = v;
  }
  return best ?? null;
}

