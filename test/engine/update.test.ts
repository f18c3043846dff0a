/** Positional updates, arrayFilters and $type through the driver. */
import { Double, Int32, Long, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useHarness } from './harness.js';

describe('engine positional updates and $type', () => {
  const harness = useHarness();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests use arbitrary shapes
  const coll = () => harness().db.collection<any>('u');

  it('$ updates the element the query matched', async () => {
    await coll().insertOne({ _id: 1, items: [{ sku: 'a', q: 1 }, { sku: 'b', q: 2 }], nums: [5, 8, 9] });
    await coll().updateOne({ _id: 1, 'items.sku': 'b' }, { $inc: { 'items.$.q': 10 } });
    await coll().updateOne({ _id: 1, nums: { $gt: 6 } }, { $set: { 'nums.$': 0 } });
    expect(await coll().findOne({ _id: 1 })).toEqual({ _id: 1, items: [{ sku: 'a', q: 1 }, { sku: 'b', q: 12 }], nums: [5, 0, 9] });
    const err = await coll().updateOne({ _id: 1 }, { $set: { 'nums.$': 1 } }).catch((e: unknown) => e);
    expect((err as MongoServerError).code).toBe(2);
  });

  it('$[] updates every element and $[id] those passing arrayFilters', async () => {
    await coll().insertOne({ _id: 1, grades: [80, 95, 100], kids: [{ age: 3 }, { age: 12 }] });
    await coll().updateOne({ _id: 1 }, { $inc: { 'grades.$[]': 1 } });
    await coll().updateOne({ _id: 1 }, { $set: { 'grades.$[hi]': 100, 'kids.$[k].teen': true } }, { arrayFilters: [{ hi: { $gte: 96 } }, { 'k.age': { $gt: 10 } }] });
    expect(await coll().findOne({ _id: 1 })).toEqual({ _id: 1, grades: [81, 100, 100], kids: [{ age: 3 }, { age: 12, teen: true }] });
    const missing = await coll().updateOne({ _id: 1 }, { $set: { 'grades.$[zz]': 0 } }).catch((e: unknown) => e);
    expect((missing as MongoServerError).code).toBe(2);
  });

  it('$type distinguishes int, long, double and decimal', async () => {
    await coll().insertMany([
      { _id: 'i', v: new Int32(1) },
      { _id: 'l', v: Long.fromNumber(1) },
      { _id: 'd', v: new Double(1) },
      { _id: 's', v: '1' },
      { _id: 'a', v: [new Int32(1), 'x'] },
    ]);
    const ids = async (t: unknown) => (await coll().find({ v: { $type: t } }).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await ids('int')).toEqual(['a', 'i']);
    expect(await ids('long')).toEqual(['l']);
    expect(await ids('double')).toEqual(['d']);
    expect(await ids(18)).toEqual(['l']);
    expect(await ids('number')).toEqual(['a', 'd', 'i', 'l']);
    expect(await ids(['string', 'long'])).toEqual(['a', 'l', 's']);
    expect(await ids('array')).toEqual(['a']);
    const bad = await coll().findOne({ v: { $type: 'nonsense' } }).catch((e: unknown) => e);
    expect((bad as MongoServerError).code).toBe(2);
  });
});
