/**
 * The insert fast path: SortedList's lead keys (searched in arrays beside
 * the elements) and Index.place (one search for the uniqueness check and
 * the insert). Checked against models, with the cases the general path
 * handled: mixed key types, numbers of several BSON types that are equal,
 * multikey documents, descending and compound keys, duplicates refused with
 * 11000 and nothing changed.
 */
import { BSON, Decimal128, Double, Int32, Long, ObjectId } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EngineCore } from '../../src/engine/core.js';
import { idKey, keyString } from '../../src/engine/query/keystring.js';
import { compareRanked, compareValues } from '../../src/engine/query/order.js';
import { SortedList } from '../../src/engine/storage/sorted-list.js';
import { run, wire } from './core-commands.js';
import { replayOnModel } from './sorted-list-model.js';

type Pair = [number, number];
const byPair = (a: Pair, b: Pair) => a[0] - b[0] || a[1] - b[1];

describe('SortedList with a lead key', () => {
  it('keeps any insert/delete sequence sorted, ties of the lead decided by the full order (model: a sorted array)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 50 })), { maxLength: 2000 }), (ops) => {
        const s = new SortedList<Pair>(byPair, { of: (p) => p[0], cmp: (a, b) => (a as number) - (b as number), rest: (a, b) => a[1] - b[1] });
        const placeThenInsert = (x: Pair, model: Pair[]) => {
          const at = s.locate(x);
          // The place is after every element not greater than x.
          expect(s.before(at)).toEqual(model.filter((m) => byPair(m, x) <= 0).sort(byPair).at(-1));
          s.insertAt(at, x);
        };
        replayOnModel(s, byPair, ops.map(([ins, lead, tie]): [boolean, Pair] => [ins, [lead, tie]]), placeThenInsert);
      }),
      { numRuns: 40 },
    );
  });

  it('appends in order with one comparison, and stays sorted across chunk splits and a load', () => {
    let calls = 0;
    const s = new SortedList<number>((a, b) => a - b, { of: (x) => x, cmp: (a, b) => (calls++, (a as number) - (b as number)), rest: () => 0 });
    for (let i = 0; i < 5000; i++) s.insert(i);
    expect(calls).toBe(4999);
    for (let i = 0; i < 5000; i += 7) s.insert(i + 0.5);
    const all = [...s.forward()];
    expect(all).toEqual([...all].sort((a, b) => a - b));
    s.load(all.filter((x) => x % 2 === 0));
    s.insert(3);
    expect([...s.forward()].slice(0, 4)).toEqual([0, 2, 3, 4]);
    expect(s.delete(2)).toBe(true);
    expect(s.delete(2)).toBe(false);
  });
});

describe('compareValues', () => {
  // Pairs its quick lines answer and pairs they hand on: the order must be the type ranking's in every case.
  const value = fc.oneof(
    fc.integer({ min: -5, max: 5 }),
    fc.double(),
    fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity, '', 'a', 'b', 'ab', null, true, new Int32(2), new Double(2), Long.fromNumber(2), Decimal128.fromString('2')),
    fc.string({ maxLength: 3 }),
  );
  it('orders every pair as the type ranking does', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(Math.sign(compareValues(a, b))).toBe(Math.sign(compareRanked(a, b)));
      }),
      { numRuns: 3000 },
    );
  });
});

/** A key value from a small pool of mixed types, with equal numbers of different BSON types. */
const key = fc.oneof(
  fc.constantFrom(1, 2, 2.5, -0, 'a', 'b', 'B', '', null, true, false),
  fc.constantFrom('int2', 'long2', 'double2', 'dec2', 'oid', 'date', 'obj', 'arr', 'emptyArr', 'missing'),
);
function keyValue(k: unknown): unknown {
  switch (k) {
    case 'int2': return new Int32(2);
    case 'long2': return Long.fromNumber(2);
    case 'double2': return new Double(2);
    case 'dec2': return Decimal128.fromString('2');
    case 'oid': return new ObjectId('65f000000000000000000001');
    case 'date': return new Date(5);
    case 'obj': return { x: 1 };
    case 'arr': return [1, 'a'];
    case 'emptyArr': return [];
    default: return k;
  }
}

/** The keys a document's value gives a single-field index (multikey: one per element; [] and missing: null). */
function modelKeys(v: unknown): string[] {
  if (v === 'missing' || v === undefined) return [keyString(null)];
  if (Array.isArray(v)) return v.length === 0 ? [keyString(null)] : [...new Set(v.map(keyString))];
  return [keyString(v)];
}

describe('inserts into a unique index (place: one search for the check and the insert)', () => {
  it('refuses exactly the documents whose key is taken, with 11000 and its keyValue, changing nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.boolean()), { minLength: 1, maxLength: 60 }), fc.constantFrom(1, -1), (items, dir) => {
        const core = new EngineCore();
        run(core, { createIndexes: 'c', indexes: [{ key: { k: dir }, name: 'k_u', unique: true }, { key: { k: 1, _id: -1 }, name: 'k_id' }] });
        const taken = new Set<string>();
        let stored = 0;
        items.forEach(([k, asGroup], i) => {
          const v = keyValue(k);
          const doc = v === 'missing' ? { _id: i } : { _id: i, k: v };
          // One document alone, or in an unordered batch after a document with a key of its own (placed first, then this one).
          const docs = asGroup ? [{ _id: 1000 + i, k: `own${i}` }, doc] : [doc];
          const { reply } = core.execute('p', wire({ insert: 'c', documents: docs, ordered: false }), 1);
          const keys = modelKeys(v);
          const clash = keys.some((s) => taken.has(s));
          if (asGroup) stored++;
          if (clash) {
            expect(reply.writeErrors).toHaveLength(1);
            expect(reply.writeErrors[0]).toMatchObject({ index: docs.length - 1, code: 11000, keyPattern: { k: dir } });
            expect(reply.writeErrors[0].errmsg).toMatch(/^E11000 duplicate key error collection: p\.c index: k_u dup key: /);
          } else {
            expect(reply.writeErrors).toBeUndefined();
            for (const s of keys) taken.add(s);
            stored++;
          }
        });
        const c = core.catalog.get('p', 'c')!;
        expect(c.docs.size).toBe(stored);
        // Every index holds exactly the stored documents' keys, in its order.
        for (const ix of c.indexes) {
          const entries = [...ix.entries.forward()];
          const recs = new Set(entries.map((e) => e.rec));
          expect(recs.size).toBe(stored);
          for (let j = 1; j < entries.length; j++) expect(ix.compareKeys(entries[j - 1].k, entries[j].k)).toBeLessThanOrEqual(0);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a multikey document is refused when any of its keys is taken, also by its own earlier batch mate', () => {
    const core = new EngineCore();
    run(core, { createIndexes: 'c', indexes: [{ key: { tags: 1 }, name: 'tags_u', unique: true }] });
    const { reply } = core.execute('p', wire({ insert: 'c', documents: [{ _id: 1, tags: ['a', 'b', 'a'] }, { _id: 2, tags: ['c', 'b'] }, { _id: 3, tags: 'c' }], ordered: false }), 1);
    expect(reply.n).toBe(2);
    expect(reply.writeErrors).toEqual([expect.objectContaining({ index: 1, code: 11000, keyValue: { tags: 'b' } })]);
    expect(run(core, { find: 'c', filter: { tags: 'c' } }).cursor.firstBatch).toEqual([{ _id: 3, tags: 'c' }]);
  });
});

describe('updates that write top-level fields share the rest with the stored version', () => {
  it('a later in-place change (an array operator) never reaches an earlier version', () => {
    const core = new EngineCore();
    run(core, { insert: 'u', documents: [{ _id: 'a', cursor: 1, since: [{ subject: 's', seq: 1 }], tags: ['x'], nested: { deep: [1] } }] });
    const c = core.catalog.get('p', 'u')!;
    const v1 = c.getById('a')!.doc;
    const r1 = run(core, { update: 'u', updates: [{ q: { _id: 'a' }, u: { $max: { cursor: 5 }, $set: { seen: true } } }] });
    expect(r1).toMatchObject({ n: 1, nModified: 1 });
    const v2 = c.getById('a')!.doc;
    expect(v2).not.toBe(v1);
    expect(v1).toEqual({ _id: 'a', cursor: 1, since: [{ subject: 's', seq: 1 }], tags: ['x'], nested: { deep: [1] } });
    // Array operators and nested paths copy before they change anything: v1 and v2 keep their arrays.
    run(core, { update: 'u', updates: [{ q: { _id: 'a' }, u: { $push: { tags: 'y', 'nested.deep': 2 }, $set: { 'since.0.seq': 9 } } }] });
    const v3 = c.getById('a')!.doc;
    expect(v3).toEqual({ _id: 'a', cursor: 5, since: [{ subject: 's', seq: 9 }], tags: ['x', 'y'], nested: { deep: [1, 2] }, seen: true });
    expect(v1.tags).toEqual(['x']);
    expect(v2.tags).toEqual(['x']);
    expect(v2.nested).toEqual({ deep: [1] });
    expect(v2.since).toEqual([{ subject: 's', seq: 1 }]);
    // A $max that changes nothing is no modification; $rename and $unset at the top level work on the copy.
    expect(run(core, { update: 'u', updates: [{ q: { _id: 'a' }, u: { $max: { cursor: 2 } } }] })).toMatchObject({ n: 1, nModified: 0 });
    run(core, { update: 'u', updates: [{ q: { _id: 'a' }, u: { $rename: { tags: 'labels' }, $unset: { seen: '' } } }] });
    expect(c.getById('a')!.doc).toEqual({ _id: 'a', cursor: 5, since: [{ subject: 's', seq: 9 }], nested: { deep: [1, 2] }, labels: ['x', 'y'] });
    expect(v3.tags).toEqual(['x', 'y']);
    expect(v3.seen).toBe(true);
  });
});

describe('idKey (the documents map key of an _id)', () => {
  const num = fc.oneof(
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom(0, -0, 0.5, Number.NaN, Infinity, -Infinity, 2 ** 53, 2 ** 53 + 2, 2 ** 60, -(2 ** 60)),
    fc.double(),
  );
  const value = fc.oneof(
    num,
    num.map((n) => (Number.isInteger(n) ? new Int32(Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, n))) : n)),
    num.map((n) => new Double(n)),
    num.filter((n) => Number.isFinite(n) && Number.isInteger(n)).map((n) => Long.fromNumber(n)),
    fc.constantFrom(Long.fromString('9007199254740993'), Long.fromString('1152921504606846976'), Decimal128.fromString('2'), Decimal128.fromString('0.5'), Decimal128.fromString('-0')),
    fc.constantFrom('2', 's2', 'n2', '', null, true, new Date(2), new ObjectId('65f000000000000000000001')),
  );
  it('gives two values keys the map finds equal exactly when their canonical keys (keyString) are equal', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        const m = new Map([[idKey(a), 1]]);
        expect(m.has(idKey(b))).toBe(keyString(a) === keyString(b));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('the size of an updated document (measured from the fields that changed once known)', () => {
  const fieldName = fc.constantFrom('cursor', 'ctrHigh', 'host', 'flag', 'extra', 'é');
  const fieldValue = fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.string({ maxLength: 40 }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 4 }), fc.constant(Long.fromNumber(7)), fc.constant(new Date(3)));
  const op = fc.oneof(
    fc.record({ $set: fc.dictionary(fieldName, fieldValue, { minKeys: 1, maxKeys: 2 }) }),
    fc.record({ $max: fc.dictionary(fieldName, fc.oneof(fc.integer(), fc.double({ noNaN: true })), { minKeys: 1, maxKeys: 1 }) }),
    fc.record({ $inc: fc.dictionary(fc.constantFrom('cursor', 'ctrHigh'), fc.integer({ min: -5, max: 5 }), { minKeys: 1, maxKeys: 1 }) }),
    fc.record({ $unset: fc.dictionary(fieldName, fc.constant(''), { minKeys: 1, maxKeys: 1 }) }),
    fc.record({ $rename: fc.constantFrom({ extra: 'moved' }, { moved: 'extra' }, { host: 'h2' }) }),
    fc.record({ $push: fc.constantFrom({ list: 1 }, { list: 'two' }) }),
    fc.record({ $set: fc.constantFrom({ 'nested.a': 1 }, { 'nested.b': 'x' }) }),
  );
  it('agrees with the whole document measured again, whatever the updates', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(op, fc.boolean()), { minLength: 1, maxLength: 12 }), (ops) => {
        const core = new EngineCore();
        run(core, { insert: 'u', documents: [{ _id: 'a', host: 'h', cursor: 0, ctrHigh: 1, list: [], nested: {} }] });
        const rec = core.catalog.get('p', 'u')!.getById('a')!;
        for (const [u, viaFindAndModify] of ops) {
          // Some draws conflict (the same field twice, a $inc on a string): those statements fail and change nothing.
          // findAndModify changes the document by its own path: a size known before must not survive it.
          const cmd = viaFindAndModify ? { findAndModify: 'u', query: { _id: 'a' }, update: u } : { update: 'u', updates: [{ q: { _id: 'a' }, u }] };
          core.execute('p', wire(cmd), 1);
          if (rec.size !== undefined) expect(rec.size).toBe(BSON.calculateObjectSize(rec.doc));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuses with 17419 an update that takes a measured document past 16 MiB', () => {
    const core = new EngineCore();
    const big = 'x'.repeat(16 * 1024 * 1024 - 100);
    run(core, { insert: 'u', documents: [{ _id: 'a', big, cursor: 0 }] });
    run(core, { update: 'u', updates: [{ q: { _id: 'a' }, u: { $max: { cursor: 1 } } }] });
    expect(core.catalog.get('p', 'u')!.getById('a')!.size).toBeGreaterThan(16 * 1024 * 1024 - 100);
    const r = core.execute('p', wire({ update: 'u', updates: [{ q: { _id: 'a' }, u: { $set: { more: 'y'.repeat(200) } } }] }), 1).reply;
    expect(r.writeErrors).toEqual([expect.objectContaining({ code: 17419 })]);
    expect(core.catalog.get('p', 'u')!.getById('a')!.doc.more).toBeUndefined();
  });
});
