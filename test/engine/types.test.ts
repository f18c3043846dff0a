/** BSON type fidelity and MongoDB numeric semantics through the driver. */
import { Binary, Decimal128, Double, Int32, Long, MongoServerError, ObjectId, type Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useHarness } from './harness.js';

describe('engine type fidelity', () => {
  const harness = useHarness();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests use arbitrary _id types
  const coll = () => harness().db.collection<any>('ty');
  /** Reads documents back without promotion so the stored BSON types are visible. */
  const raw = (filter: Document = {}) => coll().findOne(filter, { promoteValues: false, promoteLongs: false });

  it('round-trips Int32, Int64, Double, Decimal128, Date, ObjectId, Binary, nested documents and arrays', async () => {
    const oid = new ObjectId();
    const when = new Date('2026-01-02T03:04:05.678Z');
    const doc = {
      _id: 1,
      i: new Int32(7),
      l: Long.fromString('9007199254740993'),
      d: new Double(2),
      dec: Decimal128.fromString('1.10'),
      when,
      oid,
      bin: new Binary(Buffer.from([1, 2, 3]), 4),
      nested: { a: [new Int32(1), new Double(1.5), { deep: Long.fromNumber(5) }] },
    };
    await coll().insertOne(doc);
    const back = await raw({ _id: 1 });
    expect(back!.i).toBeInstanceOf(Int32);
    expect(back!.l).toBeInstanceOf(Long);
    expect((back!.l as Long).toString()).toBe('9007199254740993');
    expect(back!.d).toBeInstanceOf(Double);
    expect((back!.d as Double).value).toBe(2);
    expect(back!.dec.toString()).toBe('1.10');
    expect(back!.when).toEqual(when);
    expect(back!.oid.equals(oid)).toBe(true);
    expect(back!.bin.sub_type).toBe(4);
    expect([...back!.bin.buffer]).toEqual([1, 2, 3]);
    expect(back!.nested.a[0]).toBeInstanceOf(Int32);
    expect(back!.nested.a[1]).toBeInstanceOf(Double);
    expect(back!.nested.a[2].deep).toBeInstanceOf(Long);
  });

  it('compares numbers by value across Int32, Int64, Double and Decimal128', async () => {
    await coll().insertMany([
      { _id: 'i', v: new Int32(5) },
      { _id: 'l', v: Long.fromNumber(6) },
      { _id: 'd', v: new Double(4.5) },
      { _id: 'm', v: Decimal128.fromString('7.25') },
      { _id: 's', v: 'text' },
    ]);
    const asc = await coll().find({}).sort({ v: 1 }).toArray();
    expect(asc.map((d) => d._id)).toEqual(['d', 'i', 'l', 'm', 's']);
    const gt = await coll().find({ v: { $gt: 5 } }).sort({ _id: 1 }).toArray();
    expect(gt.map((d) => d._id)).toEqual(['l', 'm']);
    expect((await coll().findOne({ v: 6 }))!._id).toBe('l');
    expect((await coll().findOne({ v: new Double(5) }))!._id).toBe('i');
    // A stored 1.0 double and an int 1 are the same _id to MongoDB.
    await coll().insertOne({ _id: new Double(1) as unknown as number });
    const dup = await coll().insertOne({ _id: 1 }).catch((e: unknown) => e);
    expect((dup as MongoServerError).code).toBe(11000);
  });

  it('sorts mixed types in BSON order', async () => {
    const values = [true, 'b', new Date(0), null, { a: 1 }, [0], new ObjectId('000000000000000000000001'), 3, new Binary(Buffer.from([1]))];
    await coll().insertMany(values.map((v, i) => ({ _id: i, v })));
    const order = (await coll().find({}).sort({ v: 1 }).toArray()).map((d) => d._id);
    // null < numbers < strings < objects < arrays(by min element: 0 → number) ... mongod sorts [0] by its element
    expect(order).toEqual([3, 5, 7, 1, 4, 8, 6, 0, 2]);
  });

  it('$inc follows MongoDB type rules', async () => {
    await coll().insertOne({ _id: 1, i: new Int32(2147483646), l: Long.fromNumber(1), d: new Double(1), s: 'x', small: new Int32(1) });
    await coll().updateOne({ _id: 1 }, { $inc: { i: new Int32(5), l: new Int32(1), d: new Int32(1), small: new Int32(1), fresh: Long.fromNumber(3) } });
    const d = await raw({ _id: 1 });
    expect(d!.i).toBeInstanceOf(Long); // int32 overflow widens to int64
    expect((d!.i as Long).toNumber()).toBe(2147483651);
    expect(d!.l).toBeInstanceOf(Long);
    expect((d!.l as Long).toNumber()).toBe(2);
    expect(d!.d).toBeInstanceOf(Double);
    expect(d!.small).toBeInstanceOf(Int32);
    expect(d!.fresh).toBeInstanceOf(Long);
    await coll().updateOne({ _id: 1 }, { $inc: { small: 0.5 } });
    expect((await raw({ _id: 1 }))!.small).toBeInstanceOf(Double);
    const err = await coll().updateOne({ _id: 1 }, { $inc: { s: 1 } }).catch((e: unknown) => e);
    expect((err as MongoServerError).code).toBe(14);
    const arg = await coll().updateOne({ _id: 1 }, { $inc: { d: 'one' as never } }).catch((e: unknown) => e);
    expect((arg as MongoServerError).code).toBe(14);
    await coll().updateOne({ _id: 1 }, { $mul: { l: new Int32(3), none: new Int32(2) } });
    const m = await raw({ _id: 1 });
    expect((m!.l as Long).toNumber()).toBe(6);
    expect((m!.none as Int32).value).toBe(0);
  });

  it('$min, $max, $rename, $pop, $pullAll, $push with modifiers', async () => {
    await coll().insertOne({ _id: 1, lo: 5, hi: 5, old: 'v', arr: [3, 1, 2], p: [1, 2, 3, 1] });
    await coll().updateOne({ _id: 1 }, { $min: { lo: 2 }, $max: { hi: 9 }, $rename: { old: 'neu' }, $pop: { arr: -1 }, $pullAll: { p: [1] } as never });
    expect(await coll().findOne({ _id: 1 })).toEqual({ _id: 1, lo: 2, hi: 9, arr: [1, 2], p: [2, 3], neu: 'v' });
    await coll().updateOne({ _id: 1 }, { $push: { arr: { $each: [5, 0], $sort: -1, $slice: 3 } } as never });
    expect((await coll().findOne({ _id: 1 }))!.arr).toEqual([5, 2, 1]);
    await coll().updateOne({ _id: 1 }, { $pull: { arr: { $gte: 2 } } as never });
    expect((await coll().findOne({ _id: 1 }))!.arr).toEqual([1]);
  });
});
