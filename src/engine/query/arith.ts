/**
 * $inc / $mul arithmetic with MongoDB's result-type rules:
 * Decimal128 wins, then Double, then Long; Int32 op Int32 stays Int32 unless
 * it overflows, in which case it widens to Long; Long overflow is an error.
 */
import { Decimal128, Double, Int32, Long } from 'bson';
import { EngineError } from '../errors.js';
import { decimalArith } from './decimal.js';

type Kind = 'int' | 'long' | 'double' | 'decimal';

/** Numeric kind of a value, or undefined for non-numbers. Plain JS numbers follow BSON's serializer rule. */
export function numKind(v: unknown): Kind | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 ? 'int' : 'double';
  if (typeof v === 'bigint') return 'long';
  switch ((v as { _bsontype?: string })?._bsontype) {
    case 'Int32':
      return 'int';
    case 'Long':
      return 'long';
    case 'Double':
      return 'double';
    case 'Decimal128':
      return 'decimal';
  }
  return undefined;
}

const RANK: Record<Kind, number> = { int: 0, long: 1, double: 2, decimal: 3 };

function asBig(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'Long') return (v as Long).toBigInt();
  return BigInt((v as Int32).value);
}

function asFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'Long') return (v as Long).toNumber();
  if (t === 'Decimal128') return Number.parseFloat(String(v));
  return (v as Int32 | Double).value;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Applies `a op b` for two numeric values; the caller has checked both are numeric. */
export function arith(op: 'inc' | 'mul', a: unknown, b: unknown): unknown {
  const ka = numKind(a)!;
  const kb = numKind(b)!;
  const kind = RANK[ka] >= RANK[kb] ? ka : kb;
  if (kind === 'decimal') return decimalArith(op, a, b);
  if (kind === 'double') {
    const d = op === 'inc' ? asFloat(a) + asFloat(b) : asFloat(a) * asFloat(b);
    return Number.isInteger(d) ? new Double(d) : d;
  }
  const r = op === 'inc' ? asBig(a) + asBig(b) : asBig(a) * asBig(b);
  // Int32 results are stored as plain numbers, like every int32 (see compactNumbers).
  if (kind === 'int' && r >= -(2n ** 31n) && r < 2n ** 31n) return Number(r);
  if (r < INT64_MIN || r > INT64_MAX) {
    throw new EngineError('BadValue', `Failed to apply $${op} operations to current value: integer overflow`);
  }
  return Long.fromBigInt(r);
}

/** A zero of the same numeric type as `v` ($mul on a missing field). */
export function zeroLike(v: unknown): unknown {
  switch (numKind(v)) {
    case 'long':
      return Long.fromNumber(0);
    case 'double':
      return new Double(0);
    case 'decimal':
      return Decimal128.fromString('0');
    default:
      return 0;
  }
}
