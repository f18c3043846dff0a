/** Dotted-path access over documents ("a.b.0.c"), following MongoDB's array rules. */

/** A document as stored: field name → BSON value. */
export type Doc = Record<string, unknown>;

function isPlainObject(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof RegExp) && (v as { _bsontype?: string })._bsontype === undefined && !(v instanceof Uint8Array);
}
export { isPlainObject };

/** Splits a dotted path once; paths are reused a lot, so callers cache the result. */
export function splitPath(path: string): string[] {
  return path.split('.');
}

/**
 * All values reached by a path, expanding arrays on the way as MongoDB does
 * for index keys: {a: [{b: 1}, {b: 2}]} at "a.b" gives [1, 2]; a terminal
 * array is returned as one value (callers expand it for multikey indexes).
 * Missing paths contribute `undefined`.
 */
export function collectPath(doc: unknown, parts: readonly string[], i = 0, out: unknown[] = []): unknown[] {
  if (i === parts.length) {
    out.push(doc);
    return out;
  }
  if (Array.isArray(doc)) {
    const p = parts[i];
    if (/^\d+$/.test(p)) {
      collectPath(doc[Number(p)], parts, i + 1, out);
      return out;
    }
    if (doc.length === 0) out.push(undefined);
    for (const el of doc) collectPath(isPlainObject(el) ? el : undefined, parts, i, out);
    return out;
  }
  if (!isPlainObject(doc)) {
    out.push(undefined);
    return out;
  }
  return collectPath(doc[parts[i]], parts, i + 1, out);
}
