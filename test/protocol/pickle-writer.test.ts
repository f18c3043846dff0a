import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors';
import { readPickle } from '../../src/protocol/pickle/reader';
import { type PickleInput, pickledSize, writePickle } from '../../src/protocol/pickle/writer';
import { hasPython, python } from '../fixtures/pickle/python';

/** Values as pickle replies hold them (strings without lone surrogates: see writer.ts). */
const pickleValue: fc.Arbitrary<PickleInput> = fc.letrec<{ v: PickleInput }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constantFrom(0, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32 - 1, -(2 ** 53) + 1, 2 ** 53 - 1, -128, -129, 127, 128)),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.array(tie('v'), { maxLength: 6 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), tie('v'), { maxKeys: 6 }),
  ),
})).v;

const EDGE_VALUES: PickleInput[] = [
  {},
  [],
  '',
  0,
  -1,
  2 ** 32 - 1,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  { TYPE: 'REGISTER-SUCCESS', 'RQ#': 4294967295 },
  { a: [1], b: { c: null }, d: [true, false], e: 'héllo ✓ 🎉' },
  { one: { two: { three: [[['deep']]] } } },
  ['x'.repeat(300)],
  Array.from({ length: 1001 }, (_, i) => i), // two APPENDS batches, the second of one item
  Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i])), // two SETITEMS batches
];

describe('writePickle', () => {
  it('starts with PROTO 2 and ends with STOP', () => {
    const b = writePickle({ a: 1 });
    expect([...b.subarray(0, 2)]).toEqual([0x80, 2]);
    expect(b[b.length - 1]).toBe(0x2e);
  });

  it('pickledSize is exact and the reader reads back what was written', () => {
    fc.assert(
      fc.property(pickleValue, (v) => {
        const b = writePickle(v);
        expect(pickledSize(v)).toBe(b.length);
        if (b.length <= 4096) expect(readPickle(b, { maxItems: 1 << 20 })).toEqual(v);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes a lone surrogate as U+FFFD (what Buffer does, and what Python then reads)', () => {
    expect(readPickle(writePickle('a\ud800b'))).toBe('a\ufffdb');
  });

  it.each<[string, unknown]>([
    ['a fraction', 1.5],
    ['NaN', Number.NaN],
    ['2**53', 2 ** 53],
    ['undefined', undefined],
    ['a function', () => 1],
    ['a bigint', 1n],
    ['an undefined field', { a: undefined }],
    ['a Buffer', Buffer.from('x')],
    ['a Date', new Date(0)],
  ])('refuses %s with ProtocolError', (_name, v) => {
    expect(() => writePickle(v as PickleInput)).toThrow(ProtocolError);
  });

  it('refuses a cycle instead of recursing forever', () => {
    const a: unknown[] = [];
    a.push(a);
    expect(() => writePickle(a as PickleInput)).toThrow(ProtocolError);
  });
});

describe.skipIf(!hasPython)('writePickle against CPython (python3)', () => {
  it('pickle.loads reads every value, and the bytes equal CPython dumps(protocol=2) without memo', () => {
    const values = [...EDGE_VALUES, ...fc.sample(pickleValue, { numRuns: 300, seed: 445 })];
    const ours = values.map((v) => writePickle(v));
    const py = python({ loads: ours, dumps: values });
    let compared = 0;
    for (let i = 0; i < values.length; i++) {
      expect(py.loads[i]).toEqual(values[i]);
      const theirs = py.dumps[i];
      if (theirs === null) continue; // CPython shared a string (BINGET); rss never shares
      compared++;
      expect(ours[i]!.toString('hex')).toBe(theirs.toString('hex'));
    }
    expect(compared).toBeGreaterThan(values.length / 2);
  });
});
