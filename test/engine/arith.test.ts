/** $inc/$mul arithmetic: result types and exact Decimal128. */
import { Decimal128, Double, Long } from 'bson';
import { describe, expect, it } from 'vitest';
import { arith } from '../../src/engine/query/arith.js';

const dec = (s: string) => Decimal128.fromString(s);
const str = (v: unknown) => String(v);

describe('arith', () => {
  it('int32 stays int32 until it overflows into int64', () => {
    expect(arith('inc', 1, 2)).toBe(3);
    const big = arith('inc', 2147483647, 1);
    expect(big).toBeInstanceOf(Long);
    expect(str(big)).toBe('2147483648');
    expect(str(arith('mul', 65536, 65536))).toBe('4294967296');
  });

  it('int64 overflow is an error; doubles win over integers', () => {
    expect(() => arith('inc', Long.MAX_VALUE, 1)).toThrow(/overflow/);
    expect(arith('inc', 1, 0.5)).toBe(1.5);
    const d = arith('inc', new Double(1), 1);
    expect(d).toBeInstanceOf(Double);
    expect((d as Double).value).toBe(2);
  });

  it('Decimal128 arithmetic is exact', () => {
    expect(str(arith('inc', dec('0.1'), dec('0.2')))).toBe('0.3');
    expect(str(arith('inc', dec('1.10'), 1))).toBe('2.10');
    expect(str(arith('mul', dec('1.5'), dec('-2')))).toBe('-3.0');
    expect(str(arith('inc', dec('9999999999999999999999999999999999'), dec('1')))).toBe('1.000000000000000000000000000000000E+34');
    expect(str(arith('inc', Long.fromString('9007199254740993'), dec('0')))).toBe('9007199254740993');
    expect(str(arith('inc', 0.1, dec('0')))).toBe('0.1');
  });

  it('Decimal128 specials follow IEEE 754', () => {
    expect(str(arith('inc', dec('Infinity'), dec('-Infinity')))).toBe('NaN');
    expect(str(arith('mul', dec('Infinity'), dec('-2')))).toBe('-Infinity');
    expect(str(arith('mul', dec('0'), dec('Infinity')))).toBe('NaN');
    expect(str(arith('inc', dec('NaN'), 1))).toBe('NaN');
  });
});
