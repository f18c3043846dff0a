/**
 * Positional update paths: "a.$" (the element the query matched), "a.$[]"
 * (every element) and "a.$[id]" (elements passing arrayFilters). They are
 * expanded into concrete paths against the document before the operators run.
 */
import type { Document } from 'bson';
import { EngineError } from '../errors.js';
import { compileNative } from './native-match.js';
import { compilePlainFilter } from './match.js';
import { isPlainObject, type Doc } from './paths.js';

/** What positional expansion needs besides the document. */
export interface PositionalContext {
  /** The update's query filter ("$" refers to the element it matched). */
  filter?: Document;
  /** arrayFilters by identifier. */
  arrayFilters: Map<string, (el: unknown) => boolean>;
}

/** True when a path needs expansion. */
export function isPositional(parts: readonly string[]): boolean {
  return parts.some((p) => p === '$' || (p.startsWith('$[') && p.endsWith(']')));
}

/** Compiles the arrayFilters option: each filter names one identifier ("x" in {"x.f": 1} or {x: {$gt: 1}}). */
export function compileArrayFilters(raw: unknown): Map<string, (el: unknown) => boolean> {
  const out = new Map<string, (el: unknown) => boolean>();
  if (raw === undefined) return out;
  if (!Array.isArray(raw)) throw new EngineError('TypeMismatch', 'arrayFilters must be an array');
  for (const f of raw) {
    if (!isPlainObject(f) || Object.keys(f).length === 0) throw new EngineError('FailedToParse', 'Cannot use an expression without a top-level field name in arrayFilters');
    const ids = new Set(Object.keys(f).map((k) => k.split('.')[0]));
    if (ids.size !== 1) throw new EngineError('FailedToParse', 'Error parsing array filter: expected a single top-level field name');
    const [id] = ids;
    if (!/^[a-z][a-zA-Z0-9]*$/.test(id)) throw new EngineError('BadValue', `The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '${id}'`);
    if (out.has(id)) throw new EngineError('FailedToParse', `Found multiple array filters with the same top-level field name ${id}`);
    const native = compileNative(f);
    const test = native ?? ((d: Doc) => compilePlainFilter(f)(d));
    out.set(id, (el) => test({ [id]: el }));
  }
  return out;
}

/** Index of the first element of the array at `prefix` that satisfies the query's conditions on that array. */
function matchedIndex(doc: Doc, prefix: string[], ctx: PositionalContext): number {
  const base = prefix.join('.');
  const conds: Document = {};
  for (const [k, v] of Object.entries(ctx.filter ?? {})) if (k === base || k.startsWith(base + '.')) conds[k] = v;
  const arr = prefix.reduce<unknown>((cur, p) => (isPlainObject(cur) ? cur[p] : Array.isArray(cur) ? cur[Number(p)] : undefined), doc);
  if (Array.isArray(arr) && Object.keys(conds).length > 0) {
    const test = compileNative(conds) ?? compilePlainFilter(conds);
    for (let i = 0; i < arr.length; i++) {
      // Test the conditions against a document whose array holds just this element.
      const probe: Doc = {};
      let cur = probe;
      prefix.forEach((p, j) => {
        if (j === prefix.length - 1) cur[p] = [arr[i]];
        else cur = cur[p] = {} as Doc;
      });
      if (test(probe)) return i;
    }
  }
  throw new EngineError('BadValue', 'The positional operator did not find the match needed from the query.');
}

/** Expands one update path into the concrete paths it designates in `doc`. */
export function expandPath(doc: Doc, parts: string[], ctx: PositionalContext): string[][] {
  const out: string[][] = [];
  const walk = (cur: unknown, i: number, acc: string[]): void => {
    if (i === parts.length) {
      out.push(acc);
      return;
    }
    const p = parts[i];
    if (p === '$') {
      const idx = matchedIndex(doc, acc, ctx);
      walk(Array.isArray(cur) ? cur[idx] : undefined, i + 1, [...acc, String(idx)]);
      return;
    }
    if (p.startsWith('$[') && p.endsWith(']')) {
      if (!Array.isArray(cur)) throw new EngineError('BadValue', `The path '${acc.join('.')}' must exist in the document in order to apply array updates.`);
      const id = p.slice(2, -1);
      const test = id === '' ? undefined : ctx.arrayFilters.get(id);
      if (id !== '' && !test) throw new EngineError('BadValue', `No array filter found for identifier '${id}' in path '${parts.join('.')}'`);
      cur.forEach((el, j) => {
        if (!test || test(el)) walk(el, i + 1, [...acc, String(j)]);
      });
      return;
    }
    const next = isPlainObject(cur) ? cur[p] : Array.isArray(cur) && /^\d+$/.test(p) ? cur[Number(p)] : undefined;
    walk(next, i + 1, [...acc, p]);
  };
  walk(doc, 0, []);
  return out;
}
