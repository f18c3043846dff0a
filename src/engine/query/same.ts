/** Exact BSON equality (types included), used to tell whether an update changed anything. */

/** True when a and b would serialise to the same BSON (same fields, order and types). */
export function sameDocument(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    return typeof a === 'number' && Number.isNaN(a) && Number.isNaN(b as number);
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameDocument(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ta = (a as { _bsontype?: string })._bsontype;
  const tb = (b as { _bsontype?: string })._bsontype;
  if (ta !== tb) return false;
  if (ta !== undefined) {
    const ea = (a as { equals?: (o: unknown) => boolean }).equals;
    if (typeof ea === 'function') return ea.call(a, b);
    if (ta === 'Int32' || ta === 'Double') return Object.is((a as { value: number }).value, (b as { value: number }).value);
    return String(a) === String(b);
  }
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof RegExp) return b instanceof RegExp && a.source === b.source && a.flags === b.flags;
  if (b instanceof Date || b instanceof RegExp) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return false;
    if (!sameDocument((a as Record<string, unknown>)[ka[i]], (b as Record<string, unknown>)[kb[i]])) return false;
  }
  return true;
}
