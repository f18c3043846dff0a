/** Query planning (indexes must avoid scans), aggregation and compression through the driver. */
import type { Document } from 'mongodb';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openHarness, useHarness, type Harness } from './harness.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests use arbitrary _id types
type Coll = ReturnType<Harness['db']['collection']> & any;

async function examined(c: Coll, filter: Document, sort?: Document, limit?: number) {
  let cursor = c.find(filter);
  if (sort) cursor = cursor.sort(sort);
  if (limit) cursor = cursor.limit(limit);
  const plan = await cursor.explain('executionStats');
  return { docs: plan.executionStats.totalDocsExamined as number, n: plan.executionStats.nReturned as number, stage: plan.executionStats.executionStages.stage as string };
}

describe('engine query planning', () => {
  let h: Harness;
  let c: Coll;
  beforeAll(async () => {
    h = await openHarness();
    c = h.db.collection('q');
    await c.insertMany(Array.from({ length: 1000 }, (_, i) => ({ _id: i, k: i % 100, s: `s${i % 10}`, t: i, tags: [`a${i % 3}`, `b${i % 5}`] })));
    await c.createIndex({ k: 1 });
    await c.createIndex({ s: 1, t: -1 });
    await c.createIndex({ tags: 1 });
  });
  afterAll(async () => {
    await h.close();
  });

  it('equality on an indexed field examines only the matching documents', async () => {
    expect(await examined(c, { k: 42 })).toEqual({ docs: 10, n: 10, stage: 'IXSCAN k_1' });
  });

  it('$in on a field and a range on the next field of a compound index bound every point\'s run, merged in order', async () => {
    // {s: 1, t: -1}: s0 holds t = 0, 10, 20, ...; s3 holds 3, 13, 23, ...
    const filter = { s: { $in: ['s0', 's3'] }, t: { $gt: 900, $lte: 960 } };
    expect(await examined(c, filter, { t: 1 })).toEqual({ docs: 12, n: 12, stage: 'IXSCAN s_1_t_-1' });
    const got = await c.find(filter).sort({ t: 1 }).toArray();
    expect(got.map((d: Document) => d.t)).toEqual([903, 910, 913, 920, 923, 930, 933, 940, 943, 950, 953, 960]);
    expect((await c.find(filter).sort({ t: -1 }).limit(3).toArray()).map((d: Document) => d.t)).toEqual([960, 953, 950]);
    // Exclusive at both ends: 910 and 960 themselves are out.
    const open = (await c.find({ s: { $in: ['s0', 's3'] }, t: { $gt: 910, $lt: 960 } }).sort({ t: 1 }).toArray()).map((d: Document) => d.t);
    expect(open).toEqual([913, 920, 923, 930, 933, 940, 943, 950, 953]);
  });

  it('$in and ranges use the index; exclusive bounds are honoured', async () => {
    expect(await examined(c, { k: { $in: [1, 2, 3] } })).toMatchObject({ docs: 30, n: 30 });
    expect(await examined(c, { k: { $gt: 10, $lte: 12 } })).toMatchObject({ docs: 20, n: 20 });
    expect(await examined(c, { k: { $gte: 98 } })).toMatchObject({ docs: 20, n: 20 });
    expect(await examined(c, { k: { $lt: 1 } })).toMatchObject({ docs: 10, n: 10 });
  });

  it('compound index: equality prefix plus range on a descending field', async () => {
    expect(await examined(c, { s: 's3', t: { $lt: 100 } })).toMatchObject({ docs: 10, n: 10 });
    const docs = await c.find({ s: 's3' }).sort({ t: -1 }).limit(3).toArray();
    expect(docs.map((d: Document) => d.t)).toEqual([993, 983, 973]);
    expect(await examined(c, { s: 's3' }, { t: -1 }, 3)).toMatchObject({ docs: 3, n: 3 });
    const asc = await c.find({ s: 's3' }).sort({ t: 1 }).limit(2).toArray();
    expect(asc.map((d: Document) => d.t)).toEqual([3, 13]);
  });

  it('sort on an indexed field with a limit walks the index instead of sorting everything', async () => {
    expect(await examined(c, {}, { k: -1 }, 5)).toMatchObject({ docs: 5, n: 5 });
    expect((await c.find({}).sort({ k: -1, _id: 1 }).limit(1).toArray())[0]).toMatchObject({ k: 99 });
  });

  it('multikey index matches array elements without duplicates', async () => {
    expect(await examined(c, { tags: 'a1' })).toMatchObject({ n: 333, docs: 333 });
    expect(await examined(c, { tags: { $in: ['a1', 'b1'] } })).toMatchObject({ n: 333 + 200 - 67 });
  });

  it('a filter without a usable index scans the collection', async () => {
    expect(await examined(c, { t: 5 })).toMatchObject({ docs: 1000, n: 1, stage: 'COLLSCAN' });
    expect(await examined(c, { _id: 7 })).toMatchObject({ docs: 1, n: 1, stage: 'IDHACK' });
  });

  it('a cursor walking an index sees each document once while others insert and delete', async () => {
    const live: Coll = h.db.collection('live');
    await live.createIndex({ n: 1 });
    await live.insertMany(Array.from({ length: 600 }, (_, i) => ({ _id: i, n: i * 2 })));
    const seen: number[] = [];
    let extra = 10_000;
    for await (const d of live.find({ n: { $gte: 0 } }).sort({ n: 1 }).batchSize(25)) {
      seen.push(d._id as number);
      if (seen.length % 25 === 0) {
        // Shift the index under the open cursor: inserts ahead and behind, deletes of new entries.
        await live.insertMany([{ _id: extra++, n: d.n + 1 }, { _id: extra++, n: 1 }, { _id: extra++, n: 5000 + extra }]);
        await live.deleteOne({ _id: extra - 3 });
      }
    }
    const original = seen.filter((id) => id < 600);
    expect(original).toEqual(Array.from({ length: 600 }, (_, i) => i));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('index results equal a full scan for random filters', async () => {
    for (let i = 0; i < 50; i++) {
      const lo = (i * 37) % 100;
      const filter = { k: { $gte: lo, $lt: lo + 7 }, t: { $mod: [3, 0] } };
      const viaIndex = await c.find(filter).sort({ _id: 1 }).toArray();
      const all = (await c.find({}).sort({ _id: 1 }).toArray()).filter((d: Document) => d.k >= lo && d.k < lo + 7 && d.t % 3 === 0);
      expect(viaIndex).toEqual(all);
    }
  });
});

describe('engine aggregation', () => {
  const harness = useHarness();
  beforeEach(async () => {
    await harness().db.collection('a').insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: i, g: i % 3, v: i })) as Document[]);
  });

  it('$match $group $sort $project $count and batching', async () => {
    const c = harness().db.collection('a');
    const groups = await c
      .aggregate([{ $match: { v: { $gte: 30 } } }, { $group: { _id: '$g', n: { $sum: 1 }, total: { $sum: '$v' } } }, { $sort: { _id: 1 } }, { $project: { _id: 0, g: '$_id', n: 1, total: 1 } }])
      .toArray();
    expect(groups).toEqual([
      { n: 90, total: 90 * 30 + 3 * (89 * 90) / 2, g: 0 },
      { n: 90, total: 90 * 31 + 3 * (89 * 90) / 2, g: 1 },
      { n: 90, total: 90 * 32 + 3 * (89 * 90) / 2, g: 2 },
    ].map(({ n, total, g }) => ({ n, total, g })));
    expect(await c.aggregate([{ $match: { g: 1 } }, { $count: 'n' }]).toArray()).toEqual([{ n: 100 }]);
    const cursor = c.aggregate([{ $sort: { v: -1 } }, { $skip: 5 }, { $limit: 150 }], { batchSize: 20 });
    const got: number[] = [];
    for await (const d of cursor) got.push(d.v);
    expect(got).toEqual(Array.from({ length: 150 }, (_, i) => 294 - i));
  });
});

describe('engine wire compression', () => {
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.close();
  });

  it('works with compressors=zlib in the URI', async () => {
    h = await openHarness({}, '?compressors=zlib');
    const c = h.db.collection('z');
    const big = 'x'.repeat(100_000);
    await c.insertOne({ _id: 1, big } as Document);
    expect((await c.findOne({ _id: 1 } as Document))!.big).toBe(big);
    const hello = await h.client.db('admin').command({ hello: 1, compression: ['zlib'] });
    expect(hello.compression).toEqual(['zlib']);
  });

  it('a second client without compression shares the engine', async () => {
    const plain = new MongoClient(h!.engine.uri);
    try {
      expect(await plain.db('t').collection('z').countDocuments()).toBe(1);
    } finally {
      await plain.close();
    }
  });
});
