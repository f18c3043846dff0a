/** Copy and in-place path helpers used by the update operators. */
import { EngineError } from '../errors.js';
import { isPlainObject, type Doc } from './paths.js';

/** Deep copy of containers (objects and arrays); leaf values (wrappers, dates) are shared as immutable. */
export function cloneDoc<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneDoc) as T;
  if (isPlainObject(v)) {
    const out: Doc = {};
    for (const k in v) out[k] = cloneDoc(v[k]);
    return out as T;
  }
  return v;
}

/** A container and the key (field name or array index) a path ends at. */
export interface Slot {
  parent: Doc | unknown[];
  key: string | number;
}

const DIGITS = /^\d+$/;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = (v as { _bsontype?: string })?._bsontype;
  if (t) return t.toLowerCase();
  return typeof v;
}

/**
 * Finds the slot a dotted path designates. With `create`, missing
 * intermediate documents are created (and arrays padded) as $set does;
 * without it, returns undefined when the path does not exist.
 */
export function slotOf(doc: Doc, parts: readonly string[], create: boolean): Slot | undefined {
  let cur: Doc | unknown[] = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i];
    let next: unknown;
    if (Array.isArray(cur)) {
      if (!DIGITS.test(p)) {
        if (!create) return undefined;
        throw new EngineError('PathNotViable', `Cannot create field '${p}' in element {${parts[i - 1] ?? ''}: [...]}`);
      }
      next = cur[Number(p)];
      if (next === undefined || next === null) {
        if (!create) return undefined;
        next = {};
        padSet(cur, Number(p), next);
      }
    } else {
      next = cur[p];
      if (next === undefined) {
        if (!create) return undefined;
        next = {};
        cur[p] = next;
      }
    }
    if (!Array.isArray(next) && !isPlainObject(next)) {
      if (!create) return undefined;
      throw new EngineError('PathNotViable', `Cannot create field '${parts[i + 1]}' in element {${p}: ${typeName(next)}}`);
    }
    cur = next as Doc | unknown[];
  }
  const last = parts[parts.length - 1];
  if (Array.isArray(cur)) {
    if (!DIGITS.test(last)) {
      if (!create) return undefined;
      throw new EngineError('PathNotViable', `Cannot create field '${last}' in an array`);
    }
    return { parent: cur, key: Number(last) };
  }
  return { parent: cur, key: last };
}

/** Reads the value in a slot. */
export function readSlot(s: Slot): unknown {
  return Array.isArray(s.parent) ? s.parent[s.key as number] : (s.parent as Doc)[s.key as string];
}

/** Writes a value into a slot (padding arrays with nulls as MongoDB does). */
export function writeSlot(s: Slot, v: unknown): void {
  if (Array.isArray(s.parent)) padSet(s.parent, s.key as number, v);
  else (s.parent as Doc)[s.key as string] = v;
}

/** Removes the value in a slot: deletes a field, or nulls an array element (MongoDB's $unset rule). */
export function clearSlot(s: Slot): void {
  if (Array.isArray(s.parent)) {
    if ((s.key as number) < s.parent.length) s.parent[s.key as number] = null;
  } else {
    delete (s.parent as Doc)[s.key as string];
  }
}

function padSet(arr: unknown[], i: number, v: unknown): void {
  while (arr.length < i) arr.push(null);
  arr[i] = v;
}

export { typeName };
