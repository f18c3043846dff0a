/**
 * Regression (engine): with a descending component in a compound index, e.g.
 * the store's `{subject: 1, _id: -1}`, `find({subject: 'x'})` and
 * `find({subject: {$in: ['x']}}).sort({_id: -1})` returned [] although
 * matching documents existed. indexOrder() in src/engine/query/plan.ts turned
 * the open ends (ABS_MIN/ABS_MAX) of a descending field around AND swapped
 * start and end, so the scan started past every key. Each query here must
 * give the same answer with and without the index.
 */
import { MongoClient, type Collection, type Db, type Filter, type Sort } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type RunningEngine } from '../../src/engine';

interface Doc {
  _id: number;
  s: string;
  n: number;
}

const docs: Doc[] = Array.from({ length: 30 }, (_, i) => {
  const id = (i * 11) % 30;
  return { _id: id, s: ['x', 'y', 'z'][id % 3]!, n: id % 7 };
});

const queries: Array<{ filter: Filter<Doc>; sort?: Sort; limit?: number }> = [
  { filter: { s: 'x' } },
  { filter: { s: 'x' }, sort: { _id: -1 } },
  { filter: { s: 'x' }, sort: { _id: 1 }, limit: 3 },
  { filter: { s: { $in: ['x'] } }, sort: { _id: -1 }, limit: 4 },
  { filter: { s: { $in: ['x', 'z'] } }, sort: { _id: -1 }, limit: 5 },
  { filter: { s: 'y', _id: { $gt: 10 } }, sort: { _id: -1 } },
  { filter: { s: 'y', _id: { $gte: 10, $lt: 22 } } },
  { filter: { s: 'z', _id: { $lte: 14 } }, sort: { _id: 1 } },
  { filter: {}, sort: { n: -1, _id: 1 } },
  { filter: {}, sort: { n: 1, _id: -1 }, limit: 6 },
  { filter: { n: { $gt: 3 } }, sort: { n: -1, _id: 1 } },
  { filter: { n: 2 } },
];

describe('engine: descending fields in compound indexes', () => {
  let engine: RunningEngine;
  let client: MongoClient;
  let db: Db;
  let plain: Collection<Doc>;
  let indexed: Collection<Doc>;

  beforeAll(async () => {
    engine = await startEngine({ port: 0 });
    client = new MongoClient(engine.uri, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    db = client.db(`desc_index_${process.pid}`);
    plain = db.collection<Doc>('plain');
    indexed = db.collection<Doc>('indexed');
    await plain.insertMany(docs);
    await indexed.insertMany(docs);
    await indexed.createIndex({ s: 1, _id: -1 });
    await indexed.createIndex({ n: -1, _id: 1 });
  });
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
    await engine.close();
  });

  const run = (c: Collection<Doc>, q: (typeof queries)[number]) => {
    let cursor = c.find(q.filter);
    if (q.sort) cursor = cursor.sort(q.sort);
    if (q.limit) cursor = cursor.limit(q.limit);
    return cursor.map((d) => d._id).toArray();
  };

  it.each(queries.map((q) => [JSON.stringify(q), q] as const))('%s', async (_name, q) => {
    const expected = await run(plain, q);
    const got = await run(indexed, q);
    // Without a sort the order is unspecified: compare as sets.
    if (q.sort) expect(got).toEqual(expected);
    else expect([...got].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
    expect(expected.length).toBeGreaterThan(0);
  });

  it('the store’s lastTexts query: newest first from the subject index', async () => {
    expect(await indexed.find({ s: { $in: ['x'] } }).sort({ _id: -1 }).limit(3).map((d) => d._id).toArray()).toEqual([27, 24, 21]);
  });
});
