/**
 * Index.keysOf reads the keys of top-level fields straight off the document
 * when no indexed field holds an array. The same document nested one level
 * down ({w: doc}, index on w.a, w.b) must take the general path walk and give
 * the same keys, the same multikey flag and the same sparse skipping.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DocRecord } from '../../src/engine/storage/record.js';
import { Index } from '../../src/engine/storage/sorted-index.js';

const scalar = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', 'y', null, true), fc.double({ noNaN: true }));
const value = fc.oneof(
  { weight: 5, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.record({ c: scalar }) },
);
const doc = fc.record({ _id: fc.nat(), a: value, b: value, c: scalar }, { requiredKeys: ['_id'] });
const fields = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', '_id'), { minLength: 1, maxLength: 3 });

function keysOrError(ix: Index, d: Record<string, unknown>): unknown {
  try {
    return { keys: ix.keysOf(new DocRecord(d, 1)), multikey: ix.multikey };
  } catch (err) {
    return { error: (err as { code?: number }).code };
  }
}

describe('Index.keysOf', () => {
  it('gives the same keys for top-level fields as the general path does for the nested copy', () => {
    fc.assert(
      fc.property(doc, fields, fc.boolean(), fc.array(fc.constantFrom(1, -1), { minLength: 3, maxLength: 3 }), (d, fs, sparse, dirs) => {
        const top = new Index({ v: 2, key: Object.fromEntries(fs.map((f, i) => [f, dirs[i]])), name: 't', sparse }, 'db.c');
        const nested = new Index({ v: 2, key: Object.fromEntries(fs.map((f, i) => [`w.${f}`, dirs[i]])), name: 'n', sparse }, 'db.c');
        expect(keysOrError(top, d)).toEqual(keysOrError(nested, { w: d }));
      }),
      { numRuns: 3000 },
    );
  });
});
