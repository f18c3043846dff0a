/**
 * The native matcher (hot path) must agree with mingo (the reference used
 * for every other filter) on the filter shapes it accepts, and both must
 * treat bson number wrappers by value.
 */
import { BSONSymbol, Double, Int32, Long } from 'bson';
import fc from 'fast-check';
import { Query } from 'mingo';
import { describe, expect, it } from 'vitest';
import { compileNative } from '../../src/engine/query/native-match.js';
import { toPlain } from '../../src/engine/query/normalize.js';
import { compareValues } from '../../src/engine/query/order.js';

const num = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.integer({ min: -3, max: 3 }).map((n) => new Int32(n)),
  fc.integer({ min: -3, max: 3 }).map((n) => new Double(n + 0.5)),
  fc.integer({ min: -3, max: 3 }).map((n) => Long.fromNumber(n)),
);
const scalar = fc.oneof(num, fc.constantFrom('a', 'b', 'c'), fc.constant(null), fc.boolean());
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.record({ c: scalar }).map((o) => ({ ...o })), fc.array(fc.record({ c: scalar }).map((o) => ({ ...o })), { maxLength: 3 }));
const doc = fc.record({ a: value, b: value }, { requiredKeys: [] }).map((o) => ({ ...o }));
const field = fc.constantFrom('a', 'b', 'a.c', 'b.c', 'a.0');
const cond = fc.oneof(
  scalar,
  fc.record({ $eq: scalar }).map((o) => ({ ...o })),
  fc.record({ $ne: scalar }).map((o) => ({ ...o })),
  fc.record({ $gt: num }).map((o) => ({ ...o })),
  fc.record({ $gte: num, $lt: num }).map((o) => ({ ...o })),
  fc.record({ $lte: fc.constantFrom('b', 'c') }).map((o) => ({ ...o })),
  fc.record({ $in: fc.array(scalar, { maxLength: 3 }) }).map((o) => ({ ...o })),
  fc.record({ $nin: fc.array(scalar, { maxLength: 3 }) }).map((o) => ({ ...o })),
  fc.record({ $exists: fc.boolean() }).map((o) => ({ ...o })),
);
const leaf = fc.tuple(field, cond).map(([f, c]) => ({ [f]: c }));
const filter = fc.oneof(leaf, fc.tuple(leaf, leaf).map(([x, y]) => ({ $or: [x, y] })), fc.tuple(leaf, leaf).map(([x, y]) => ({ ...x, ...y })));

describe('native matcher', () => {
  it('agrees with mingo on the plain view', () => {
    fc.assert(
      fc.property(doc, filter, (d, f) => {
        const native = compileNative(f);
        expect(native).toBeDefined();
        const ref = new Query(toPlain(f) as Record<string, unknown>).test(toPlain(d) as Record<string, unknown>);
        expect(native!(d)).toBe(ref);
      }),
      { numRuns: 3000 },
    );
  });

  it('$in/$nin over long lists of strings and numbers (looked up in a Set) agree with $or/$nor of $eq', () => {
    const listItem = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('a', 'b', 'c', '', 0.5, -0, Number.NaN, Infinity));
    const probe = fc.oneof(
      listItem,
      num,
      fc.constantFrom('a', 'b').map((x) => new BSONSymbol(x)),
      fc.constantFrom(null, true, Number.NaN, 0).map((x) => (typeof x === 'number' ? new Double(x) : x)),
      fc.array(listItem, { maxLength: 3 }),
    );
    const probeDoc = fc.record({ a: probe, b: probe }, { requiredKeys: [] }).map((o) => ({ ...o }));
    fc.assert(
      fc.property(probeDoc, fc.constantFrom('a', 'b'), fc.array(listItem, { minLength: 1, maxLength: 10 }), fc.boolean(), (d, f, list, negate) => {
        const eqs = list.map((x) => ({ [f]: { $eq: x } }));
        const set = compileNative({ [f]: { [negate ? '$nin' : '$in']: list } })!;
        const ref = compileNative({ [negate ? '$nor' : '$or']: eqs })!;
        expect(set(d)).toBe(ref(d));
      }),
      { numRuns: 5000 },
    );
  });

  it('compares wrapped numbers by value', () => {
    const m = compileNative({ x: { $gte: new Int32(2), $lt: Long.fromNumber(3) } })!;
    expect(m({ x: new Double(2.5) })).toBe(true);
    expect(m({ x: Long.fromNumber(3) })).toBe(false);
    expect(m({ x: '2.5' })).toBe(false);
    expect(compareValues(new Int32(1), new Double(1))).toBe(0);
    expect(compareValues(Long.fromString('9223372036854775807'), Long.fromString('9223372036854775806'))).toBe(1);
  });

  it('leaves regex and other operators to mingo', () => {
    expect(compileNative({ a: /x/ })).toBeUndefined();
    expect(compileNative({ a: { $size: 1 } })).toBeUndefined();
    expect(compileNative({ $expr: { $gt: ['$a', 1] } })).toBeUndefined();
  });
});
