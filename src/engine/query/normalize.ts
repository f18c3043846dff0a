/**
 * mingo compares plain JS values only: it sees bson's Int32/Double/Long/
 * Decimal128 wrappers as opaque objects and silently mis-compares them. The
 * matcher therefore runs on a "plain view" where every number is a JS
 * number. The view is used for reading only; stored documents keep their
 * wrappers so types round-trip.
 */
import type { Long } from 'bson';

/** Returns v with every bson number wrapper replaced by a JS number (shares unchanged subtrees). */
export function toPlain(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const p = toPlain(v[i]);
      if (p !== v[i] && !out) out = v.slice(0, i);
      if (out) out.push(p);
    }
    return out ?? v;
  }
  const t = (v as { _bsontype?: string })._bsontype;
  if (t !== undefined) {
    switch (t) {
      case 'Int32':
      case 'Double':
        return (v as { value: number }).value;
      case 'Long':
        return (v as Long).toNumber();
      case 'Decimal128':
        return Number.parseFloat(String(v));
      default:
        return v;
    }
  }
  if (v instanceof Date || v instanceof RegExp || v instanceof Uint8Array) return v;
  const o = v as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k in o) {
    const p = toPlain(o[k]);
    if (p !== o[k] && !out) {
      out = {};
      for (const k2 in o) {
        if (k2 === k) break;
        out[k2] = o[k2];
      }
    }
    if (out) out[k] = p;
  }
  return out ?? o;
}

/**
 * Rewrites, in place, the number wrappers that a plain JS number represents
 * losslessly: Int32 → number (BSON serialises an int32-range integer as
 * int32) and a non-integral Double → number (serialised as double). Integral
 * Doubles, Longs and Decimal128 keep their wrappers, so every stored number
 * still round-trips with its type. Fewer wrapper objects means less memory
 * and garbage per document, and the matcher's plain view can share the
 * document itself.
 */
export function compactNumbers<T>(v: T): T {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = compactValue(v[i]);
    return v;
  }
  if (v !== null && typeof v === 'object' && (v as { _bsontype?: string })._bsontype === undefined && !(v instanceof Date) && !(v instanceof RegExp) && !(v instanceof Uint8Array)) {
    const o = v as Record<string, unknown>;
    for (const k in o) o[k] = compactValue(o[k]);
  }
  return v;
}

function compactValue(x: unknown): unknown {
  if (x === null || typeof x !== 'object') return x;
  const t = (x as { _bsontype?: string })._bsontype;
  if (t === 'Int32') return (x as { value: number }).value;
  if (t === 'Double') {
    const n = (x as { value: number }).value;
    return Number.isInteger(n) ? x : n;
  }
  if (t !== undefined) return x;
  return compactNumbers(x);
}
