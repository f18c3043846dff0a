/**
 * MongoDB's total order over BSON values (the "BSON comparison order"), used
 * for sorting, index keys, range predicates and equality. Values arrive with
 * the `bson` package's wrappers intact (Int32, Double, Long, Decimal128), so
 * numbers are compared by value across their storage types.
 */
import type { Binary, Long, Timestamp } from 'bson';

/** Canonical rank of each BSON type class, lowest first (mongod's canonicalizeBSONType). */
export const TypeRank = {
  MinKey: 1,
  Null: 2, // null, undefined and missing fields
  Number: 3,
  String: 4, // string and Symbol
  Object: 5,
  Array: 6,
  Binary: 7,
  ObjectId: 8,
  Boolean: 9,
  Date: 10,
  Timestamp: 11,
  RegExp: 12,
  MaxKey: 13,
} as const;

/** A bound that sorts before (edge 'min') or after ('max') every value of a type rank; used for index range scans. */
export class TypeEdge {
  constructor(readonly rank: number, readonly edge: 'min' | 'max') {}
}

/** Returns the BSON type rank of a value (see {@link TypeRank}). */
export function typeRank(v: unknown): number {
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return TypeRank.Number;
    case 'string':
      return TypeRank.String;
    case 'boolean':
      return TypeRank.Boolean;
    case 'undefined':
      return TypeRank.Null;
  }
  if (v === null) return TypeRank.Null;
  if (Array.isArray(v)) return TypeRank.Array;
  if (v instanceof Date) return TypeRank.Date;
  if (v instanceof RegExp) return TypeRank.RegExp;
  if (v instanceof TypeEdge) return v.rank;
  switch ((v as { _bsontype?: string })._bsontype) {
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return TypeRank.Number;
    case 'ObjectId':
      return TypeRank.ObjectId;
    case 'Binary':
      return TypeRank.Binary;
    case 'Timestamp':
      return TypeRank.Timestamp;
    case 'BSONRegExp':
      return TypeRank.RegExp;
    case 'BSONSymbol':
      return TypeRank.String;
    case 'MinKey':
      return TypeRank.MinKey;
    case 'MaxKey':
      return TypeRank.MaxKey;
  }
  if (v instanceof Uint8Array) return TypeRank.Binary;
  return TypeRank.Object;
}

/** True for JS numbers and the bson number wrappers. */
export function isNumeric(v: unknown): boolean {
  return typeRank(v) === TypeRank.Number && !(v instanceof TypeEdge);
}

/** The value of any numeric BSON value as a JS number (Long and Decimal128 may round). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const t = (v as { _bsontype?: string })?._bsontype;
  if (t === 'Int32' || t === 'Double') return (v as { value: number }).value;
  if (t === 'Long') return (v as Long).toNumber();
  if (t === 'Decimal128') return Number.parseFloat(String(v));
  return Number.NaN;
}

/** NaN sorts below every other number and equals itself. */
function compareNaN(x: number, y: number): number {
  const nx = Number.isNaN(x);
  const ny = Number.isNaN(y);
  return nx === ny ? 0 : nx ? -1 : 1;
}

/** Exact comparison when both sides are Long (beyond 2^53 a double would round). */
function compareNumbers(a: unknown, b: unknown): number {
  const ta = (a as { _bsontype?: string })?._bsontype;
  const tb = (b as { _bsontype?: string })?._bsontype;
  if (ta === 'Long' && tb === 'Long') return (a as Long).compare(b as Long);
  const x = toNumber(a);
  const y = toNumber(b);
  if (x < y) return -1;
  if (x > y) return 1;
  if (x === y) return 0;
  return compareNaN(x, y);
}

/** bson 7 keeps an ObjectId as four 24-bit integers; comparing them avoids building hex strings. */
interface OidLike {
  i0?: number;
  i1?: number;
  i2?: number;
  i3?: number;
  toHexString(): string;
}

function compareObjectIds(a: OidLike, b: OidLike): number {
  if (typeof a.i0 === 'number' && typeof b.i0 === 'number') {
    return cmpPrim(a.i0, b.i0) || cmpPrim(a.i1!, b.i1!) || cmpPrim(a.i2!, b.i2!) || cmpPrim(a.i3!, b.i3!);
  }
  return cmpPrim(a.toHexString(), b.toHexString());
}

function cmpPrim<T extends string | number | boolean>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const b = v as Binary;
  return b.buffer.subarray(0, b.position);
}

function compareBinary(a: unknown, b: unknown): number {
  const x = bytesOf(a);
  const y = bytesOf(b);
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  const sa = (a as Binary).sub_type ?? 0;
  const sb = (b as Binary).sub_type ?? 0;
  if (sa !== sb) return sa < sb ? -1 : 1;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

function compareObjects(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const va = a[ka[i]];
    const vb = b[kb[i]];
    const r = typeRank(va) - typeRank(vb);
    if (r !== 0) return r < 0 ? -1 : 1;
    const k = cmpPrim(ka[i], kb[i]);
    if (k !== 0) return k;
    const c = compareValues(va, vb);
    if (c !== 0) return c;
  }
  return cmpPrim(ka.length, kb.length);
}

function regexParts(v: unknown): [string, string] {
  if (v instanceof RegExp) return [v.source, v.flags];
  const r = v as { pattern: string; options: string };
  return [r.pattern, r.options];
}

/**
 * Compares two BSON values in MongoDB order: negative, zero or positive.
 * Index keys are mostly plain numbers or strings of the same type: those
 * pairs are answered here, in a function small enough for V8 to inline
 * into an index's comparator; the rest by the type ranking.
 */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : a === b ? 0 : compareNaN(a, b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return compareRanked(a, b);
}

/** compareValues without its quick pairs: by type rank, then within the type (exported for the test that the quick pairs agree). */
export function compareRanked(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (a instanceof TypeEdge || b instanceof TypeEdge) {
    const ea = a instanceof TypeEdge ? (a.edge === 'min' ? -1 : 1) : 0;
    const eb = b instanceof TypeEdge ? (b.edge === 'min' ? -1 : 1) : 0;
    return cmpPrim(ea, eb);
  }
  switch (ra) {
    case TypeRank.Null:
    case TypeRank.MinKey:
    case TypeRank.MaxKey:
      return 0;
    case TypeRank.Number:
      return compareNumbers(a, b);
    case TypeRank.String:
      return cmpPrim(String(a), String(b));
    case TypeRank.Boolean:
      return cmpPrim(a as boolean, b as boolean);
    case TypeRank.Date:
      return cmpPrim((a as Date).getTime(), (b as Date).getTime());
    case TypeRank.ObjectId:
      return compareObjectIds(a as OidLike, b as OidLike);
    case TypeRank.Binary:
      return compareBinary(a, b);
    case TypeRank.Timestamp:
      return (a as Timestamp).compare(b as Timestamp);
    case TypeRank.RegExp: {
      const [pa, fa] = regexParts(a);
      const [pb, fb] = regexParts(b);
      return cmpPrim(pa, pb) || cmpPrim(fa, fb);
    }
    case TypeRank.Array: {
      const x = a as unknown[];
      const y = b as unknown[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return cmpPrim(x.length, y.length);
    }
    default:
      return compareObjects(a as Record<string, unknown>, b as Record<string, unknown>);
  }
}

