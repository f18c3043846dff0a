/**
 * compareValues has a fast path for two plain numbers or two plain strings.
 * These properties hold it to the general path: the same values wrapped as
 * Double / BSONSymbol (which skip the fast path) must compare the same way,
 * alone and mixed with values of other types.
 */
import { BSONSymbol, Double, Int32, Long } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareValues } from '../../src/engine/query/order.js';

const num = fc.oneof(
  fc.double(),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity, 2 ** 53, 0.5),
);
const str = fc.oneof(fc.string({ maxLength: 4 }), fc.string({ unit: 'grapheme', maxLength: 3 }), fc.constantFrom('', 'a', 'A', '\uffff', '\ud83d\ude00'));
const other = fc.oneof(
  fc.constantFrom(null, undefined, true, false),
  fc.integer({ min: -5, max: 5 }).map((n) => new Int32(n)),
  fc.integer({ min: -5, max: 5 }).map((n) => Long.fromNumber(n)),
  fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
  fc.date({ noInvalidDate: true }),
);
const mixed = fc.oneof(num, str, other);

/** The same value in a form that compareValues must take the general path for. */
function wrap(v: unknown): unknown {
  if (typeof v === 'number') return new Double(v);
  if (typeof v === 'string') return new BSONSymbol(v);
  return v;
}

describe('compareValues fast path', () => {
  it('orders plain numbers as their Double wrappers do (NaN, -0, infinities included)', () => {
    fc.assert(
      fc.property(num, num, (a, b) => {
        const want = compareValues(wrap(a), wrap(b));
        expect(compareValues(a, b)).toBe(want);
        expect(compareValues(a, wrap(b))).toBe(want);
      }),
      { numRuns: 5000 },
    );
  });

  it('orders plain strings as their Symbol wrappers do', () => {
    fc.assert(
      fc.property(str, str, (a, b) => {
        expect(compareValues(a, b)).toBe(compareValues(wrap(a), wrap(b)));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the general path on every pair of mixed values, and is antisymmetric', () => {
    fc.assert(
      fc.property(fc.array(mixed, { maxLength: 12 }), (xs) => {
        for (const a of xs) {
          for (const b of xs) {
            const c = compareValues(a, b);
            expect(c).toBe(compareValues(wrap(a), wrap(b)));
            expect(Math.sign(compareValues(b, a)) + 0).toBe(-Math.sign(c) + 0);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the pinned cases', () => {
    expect(compareValues(Number.NaN, -Infinity)).toBe(-1);
    expect(compareValues(Number.NaN, Number.NaN)).toBe(0);
    expect(compareValues(-0, 0)).toBe(0);
    expect(compareValues(1, new Int32(1))).toBe(0);
    expect(compareValues('b', 'a')).toBe(1);
    expect(compareValues(5, 'a')).toBe(-1);
  });
});
