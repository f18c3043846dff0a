/**
 * Exact Decimal128 addition and multiplication. bson has no decimal
 * arithmetic, so values are taken apart into a BigInt coefficient and a
 * power-of-ten exponent, combined exactly, and rebuilt with bson's rounding
 * to 34 significant digits. NaN and infinities follow IEEE 754-2008.
 */
import { Decimal128, type Long } from 'bson';

interface Dec {
  /** Signed coefficient. */
  c: bigint;
  /** Exponent: value = c × 10^e. */
  e: number;
  /** Set for NaN and ±Infinity. */
  special?: 'NaN' | 'Infinity' | '-Infinity';
  /** Negative zero. */
  negZero?: boolean;
}

function parse(s: string): Dec {
  if (s === 'NaN' || s === 'Infinity' || s === '-Infinity') return { c: 0n, e: 0, special: s };
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) return { c: 0n, e: 0, special: 'NaN' };
  const [, sign, int, frac = '', exp = '0'] = m;
  const c = BigInt((int || '0') + frac) * (sign === '-' ? -1n : 1n);
  return { c, e: Number(exp) - frac.length, negZero: sign === '-' && c === 0n };
}

/** Decimal view of any numeric BSON value (doubles via their shortest round-trip string). */
function toDec(v: unknown): Dec {
  if (typeof v === 'number') return parse(Number.isFinite(v) ? v.toExponential().replace('e', 'E') : String(v));
  if (typeof v === 'bigint') return { c: v, e: 0 };
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'Long') return { c: (v as Long).toBigInt(), e: 0 };
  if (t === 'Int32' || t === 'Double') return toDec((v as { value: number }).value);
  return parse(String(v));
}

function build(d: Dec): Decimal128 {
  if (d.special) return Decimal128.fromString(d.special);
  if (d.c === 0n && d.negZero) return Decimal128.fromString(`-0E${d.e}`);
  return Decimal128.fromStringWithRounding(`${d.c}E${d.e}`);
}

function special(a: Dec, b: Dec, op: 'inc' | 'mul'): Dec | undefined {
  if (!a.special && !b.special) return undefined;
  if (a.special === 'NaN' || b.special === 'NaN') return { c: 0n, e: 0, special: 'NaN' };
  const sign = (d: Dec) => (d.special === '-Infinity' || d.c < 0n || d.negZero ? -1 : 1);
  if (op === 'inc') {
    if (a.special && b.special && a.special !== b.special) return { c: 0n, e: 0, special: 'NaN' };
    return { c: 0n, e: 0, special: (a.special ?? b.special)! };
  }
  const zero = (d: Dec) => !d.special && d.c === 0n;
  if (zero(a) || zero(b)) return { c: 0n, e: 0, special: 'NaN' };
  return { c: 0n, e: 0, special: sign(a) * sign(b) < 0 ? '-Infinity' : 'Infinity' };
}

/** a + b or a × b where at least one side is Decimal128; the result is Decimal128. */
export function decimalArith(op: 'inc' | 'mul', a: unknown, b: unknown): Decimal128 {
  const x = toDec(a);
  const y = toDec(b);
  const s = special(x, y, op);
  if (s) return build(s);
  if (op === 'mul') return build({ c: x.c * y.c, e: x.e + y.e, negZero: x.c * y.c === 0n && (x.c < 0n || x.negZero) !== (y.c < 0n || y.negZero) });
  const e = Math.min(x.e, y.e);
  const c = x.c * 10n ** BigInt(x.e - e) + y.c * 10n ** BigInt(y.e - e);
  return build({ c, e, negZero: c === 0n && !!x.negZero && !!y.negZero });
}
