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
