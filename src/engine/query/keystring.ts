/**
 * Canonical string form of a BSON value such that two values get the same
 * string exactly when MongoDB considers them equal (1, 1.0 and Long(1) alike).
 * Used as the primary-key map key and for de-duplication (distinct, $addToSet).
 */
import type { Long } from 'bson';
import { TypeRank, toNumber, typeRank } from './order.js';

function numberKey(v: unknown): string {
  const t = (v as { _bsontype?: string })?._bsontype;
  if (t === 'Long') {
    const l = v as Long;
    const n = l.toNumber();
    return Number.isSafeInteger(n) ? String(n) : l.toString();
  }
  const n = toNumber(v);
  if (!heldExactly(n)) return BigInt(n).toString();
  if (Object.is(n, -0)) return '0';
  return String(n);
}

/** Returns the canonical key of a value (see module comment). */
export function keyString(v: unknown): string {
  if (typeof v === 'string') return 's' + v;
  const rank = typeRank(v);
  switch (rank) {
    case TypeRank.Number:
      return 'n' + numberKey(v);
    case TypeRank.String:
      return 's' + String(v);
    case TypeRank.Null:
      return 'z';
    case TypeRank.Boolean:
      return v ? 'b1' : 'b0';
    case TypeRank.Date:
      return 'd' + (v as Date).getTime();
    case TypeRank.ObjectId:
      return 'o' + (v as { toHexString(): string }).toHexString();
    case TypeRank.MinKey:
      return '<';
    case TypeRank.MaxKey:
      return '>';
    case TypeRank.Array:
      return '[' + (v as unknown[]).map(keyString).join(',') + ']';
    case TypeRank.Object: {
      const o = v as Record<string, unknown>;
      return '{' + Object.keys(o).map((k) => JSON.stringify(k) + ':' + keyString(o[k])).join(',') + '}';
    }
    case TypeRank.Binary: {
      const b = v as { sub_type?: number; toString(enc: string): string };
      return 'B' + (b.sub_type ?? 0) + ':' + Buffer.from(b instanceof Uint8Array ? b : (b as unknown as { buffer: Uint8Array; position: number }).buffer.subarray(0, (b as unknown as { position: number }).position)).toString('base64');
    }
    default:
      return 'x' + rank + ':' + String(v);
  }
}

/**
 * A JS number that no distinct Long can equal: anything short of an
 * integer beyond 2^53 (NaN, fractions and infinities included).
 */
export function heldExactly(n: number): boolean {
  return !(Number.isInteger(n) && !Number.isSafeInteger(n));
}

/**
 * The key of an _id in a collection's map of documents: the number itself
 * for a numeric value a double holds exactly (no string to build, and a
 * number hashes cheaply), else {@link keyString}. Two values get keys the
 * map finds equal (SameValueZero: 0 and -0 alike, NaN equal to itself)
 * exactly when their keyStrings are equal.
 */
export function idKey(v: unknown): string | number {
  if (typeof v === 'number') return heldExactly(v) ? v : keyString(v);
  if (typeof v === 'string') return 's' + v;
  if (typeRank(v) !== TypeRank.Number) return keyString(v);
  if ((v as { _bsontype?: string })._bsontype === 'Long') {
    const n = (v as Long).toNumber();
    return Number.isSafeInteger(n) ? n : keyString(v);
  }
  return idKey(toNumber(v));
}
