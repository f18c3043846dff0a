/** Driver-level CRUD behaviour of the engine (stage 1 surface used by the rss store). */
import type { Document } from 'mongodb';
import { Long, MongoBulkWriteError, MongoServerError, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, useHarness, type Harness } from './harness.js';

type D = Document;

describe('engine CRUD through the driver', () => {
  const harness = useHarness();
  const coll = (name = 'c') => harness().db.collection<D>(name);

  it('insertOne generates an ObjectId and findOne returns the document', async () => {
    const r = await coll().insertOne({ a: 1 });
    expect(r.insertedId).toBeInstanceOf(ObjectId);
    expect(await coll().findOne({ a: 1 })).toEqual({ _id: r.insertedId, a: 1 });
    expect(await coll().findOne({ a: 2 })).toBeNull();
  });

  it('insertMany and duplicate _id → 11000 with keyValue', async () => {
    await coll().insertMany([{ _id: 1, v: 'a' }, { _id: 2, v: 'b' }] as D[]);
    const err = await coll()
      .insertOne({ _id: 1, v: 'c' } as D)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
    expect((err as MongoServerError).keyValue).toEqual({ _id: 1 });
    const bulk = await coll()
      .insertMany([{ _id: 3 }, { _id: 2 }, { _id: 4 }] as D[], { ordered: false })
      .catch((e: unknown) => e);
    expect(bulk).toBeInstanceOf(MongoBulkWriteError);
    expect((bulk as MongoBulkWriteError).insertedCount).toBe(2);
    expect((bulk as MongoBulkWriteError).writeErrors).toHaveLength(1);
    expect(await coll().countDocuments()).toBe(4);
  });

  it('ordered insertMany stops at the first error', async () => {
    const err = await coll()
      .insertMany([{ _id: 1 }, { _id: 1 }, { _id: 2 }] as D[])
      .catch((e: unknown) => e);
    expect((err as MongoBulkWriteError).code).toBe(11000);
    expect(await coll().countDocuments()).toBe(1);
  });

  it('find with filter, sort, skip, limit, projection', async () => {
    await coll().insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i, n: i % 5, s: `s${i}`, x: { y: i } })) as D[]);
    const docs = await coll().find({ n: { $gte: 2 } }, { projection: { s: 1, 'x.y': 1 } }).sort({ n: -1, _id: 1 }).skip(2).limit(3).toArray();
    expect(docs).toEqual([
      { _id: 14, s: 's14', x: { y: 14 } },
      { _id: 19, s: 's19', x: { y: 19 } },
      { _id: 3, s: 's3', x: { y: 3 } },
    ]);
    const excl = await coll().findOne({ _id: 7 } as D, { projection: { x: 0, _id: 0 } });
    expect(excl).toEqual({ n: 2, s: 's7' });
    expect(await coll().countDocuments({ $or: [{ n: 1 }, { s: 's2' }] })).toBe(5);
  });

  it('batches through getMore with Long cursor ids, and killCursors', async () => {
    await coll().insertMany(Array.from({ length: 250 }, (_, i) => ({ _id: i })) as D[]);
    const cursor = coll().find({}).sort({ _id: 1 }).batchSize(10);
    const seen: unknown[] = [];
    for await (const d of cursor) seen.push(d._id);
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => i));
    const raw = await harness().db.command({ find: 'c', filter: {}, batchSize: 5 });
    expect(raw.cursor.id).toBeInstanceOf(Long);
    expect(raw.cursor.firstBatch).toHaveLength(5);
    const killed = await harness().db.command({ killCursors: 'c', cursors: [raw.cursor.id] });
    expect(killed.cursorsKilled).toHaveLength(1);
    const gone = await harness().db.command({ getMore: raw.cursor.id, collection: 'c' }).catch((e: unknown) => e);
    expect((gone as MongoServerError).code).toBe(43);
    const partial = coll().find({}).batchSize(3);
    await partial.next();
    await partial.close();
  });

  it('updateOne / updateMany with operators', async () => {
    await coll().insertMany([{ _id: 1, n: 1, tags: ['a'] }, { _id: 2, n: 2, tags: [] }] as D[]);
    const r1 = await coll().updateOne({ _id: 1 } as D, { $set: { s: 'x' }, $inc: { n: 5 }, $push: { tags: 'b' } as never, $addToSet: { set: 1 } });
    expect(r1.matchedCount).toBe(1);
    expect(r1.modifiedCount).toBe(1);
    expect(await coll().findOne({ _id: 1 } as D)).toEqual({ _id: 1, n: 6, tags: ['a', 'b'], s: 'x', set: [1] });
    await coll().updateOne({ _id: 1 } as D, { $addToSet: { set: 1 }, $pull: { tags: 'a' } as never, $unset: { s: '' } });
    expect(await coll().findOne({ _id: 1 } as D)).toEqual({ _id: 1, n: 6, tags: ['b'], set: [1] });
    const many = await coll().updateMany({}, { $inc: { n: 1 } });
    expect(many.matchedCount).toBe(2);
    expect((await coll().find().sort({ _id: 1 }).toArray()).map((d) => d.n)).toEqual([7, 3]);
    const noop = await coll().updateOne({ _id: 2 } as D, { $set: { n: 3 } });
    expect(noop.modifiedCount).toBe(0);
    expect(noop.matchedCount).toBe(1);
  });

  it('replacement, upsert and $setOnInsert', async () => {
    const up = await coll().updateOne({ k: 'a' }, { $set: { v: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    expect(up.upsertedCount).toBe(1);
    expect(up.upsertedId).toBeInstanceOf(ObjectId);
    expect(await coll().findOne({ k: 'a' }, { projection: { _id: 0 } })).toEqual({ k: 'a', v: 1, created: true });
    await coll().updateOne({ k: 'a' }, { $set: { v: 2 }, $setOnInsert: { created: false } }, { upsert: true });
    expect(await coll().findOne({ k: 'a' }, { projection: { _id: 0 } })).toEqual({ k: 'a', v: 2, created: true });
    const rep = await coll().replaceOne({ k: 'a' }, { k: 'a', replaced: true });
    expect(rep.modifiedCount).toBe(1);
    expect(await coll().findOne({ k: 'a' }, { projection: { _id: 0 } })).toEqual({ k: 'a', replaced: true });
    await coll().replaceOne({ _id: 'z' } as D, { w: 1 }, { upsert: true });
    expect(await coll().findOne({ _id: 'z' } as D)).toEqual({ _id: 'z', w: 1 });
  });

  it('deleteOne / deleteMany', async () => {
    await coll().insertMany(Array.from({ length: 5 }, (_, i) => ({ _id: i, even: i % 2 === 0 })) as D[]);
    expect((await coll().deleteOne({ even: true })).deletedCount).toBe(1);
    expect((await coll().deleteMany({ even: true })).deletedCount).toBe(2);
    expect(await coll().countDocuments()).toBe(2);
    expect((await coll().deleteMany({})).deletedCount).toBe(2);
  });

  it('findOneAndUpdate / findOneAndDelete', async () => {
    await coll().insertOne({ _id: 1, n: 1 } as D);
    const before = await coll().findOneAndUpdate({ _id: 1 } as D, { $inc: { n: 1 } });
    expect(before).toEqual({ _id: 1, n: 1 });
    const after = await coll().findOneAndUpdate({ _id: 1 } as D, { $inc: { n: 1 } }, { returnDocument: 'after' });
    expect(after).toEqual({ _id: 1, n: 3 });
    const ups = await coll().findOneAndUpdate({ _id: 2 } as D, { $set: { n: 9 } }, { upsert: true, returnDocument: 'after' });
    expect(ups).toEqual({ _id: 2, n: 9 });
    const meta = await coll().findOneAndUpdate({ _id: 5 } as D, { $set: { n: 1 } }, { includeResultMetadata: true });
    expect(meta.value).toBeNull();
    expect(await coll().findOneAndDelete({ _id: 2 } as D)).toEqual({ _id: 2, n: 9 });
    expect(await coll().findOneAndDelete({ _id: 2 } as D)).toBeNull();
  });

  it('countDocuments, estimatedDocumentCount, distinct', async () => {
    await coll().insertMany([{ a: 1, t: ['x', 'y'] }, { a: 2, t: ['y'] }, { a: 2 }, { a: 3 }]);
    expect(await coll().countDocuments({ a: 2 })).toBe(2);
    expect(await coll().countDocuments({}, { skip: 1, limit: 2 })).toBe(2);
    expect(await coll().estimatedDocumentCount()).toBe(4);
    expect(await coll('missing').estimatedDocumentCount()).toBe(0);
    expect(await coll().distinct('a')).toEqual([1, 2, 3]);
    expect(await coll().distinct('t', { a: { $lt: 3 } })).toEqual(['x', 'y']);
  });

  it('collections: create, list, drop; databases: list, drop', async () => {
    await harness().db.createCollection('one');
    const dup = await harness().db.createCollection('one').catch((e: unknown) => e);
    expect((dup as MongoServerError).code).toBe(48);
    await coll('two').insertOne({});
    const names = (await harness().db.listCollections().toArray()).map((c) => c.name).sort();
    expect(names).toEqual(['one', 'two']);
    expect(await harness().db.dropCollection('one')).toBe(true);
    expect((await harness().db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name)).toEqual(['two']);
    const dbs = await harness().client.db('admin').admin().listDatabases();
    expect(dbs.databases.map((d) => d.name)).toContain('t');
    await harness().db.dropDatabase();
    expect((await harness().client.db('admin').admin().listDatabases()).databases.map((d) => d.name)).not.toContain('t');
  });

  it('handshake commands: ping, buildInfo, hello; unknown command → 59', async () => {
    const admin = harness().client.db('admin');
    expect((await admin.command({ ping: 1 })).ok).toBe(1);
    const info = await admin.admin().buildInfo();
    expect(info.version).toMatch(/^\d+\.\d+/);
    const hello = await admin.command({ hello: 1 });
    expect(hello.maxWireVersion).toBe(21);
    expect(hello.logicalSessionTimeoutMinutes).toBe(30);
    expect(hello.setName).toBeUndefined();
    const err = await admin.command({ frobnicate: 1 }).catch((e: unknown) => e);
    expect((err as MongoServerError).code).toBe(59);
    expect((err as MongoServerError).codeName).toBe('CommandNotFound');
  });

  it('explicit sessions are accepted', async () => {
    const session = harness().client.startSession();
    try {
      await coll().insertOne({ s: 1 }, { session });
      expect(await coll().countDocuments({}, { session })).toBe(1);
    } finally {
      await session.endSession();
    }
  });
});

describe('engine document rules', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('stores _id first, as mongod does', async () => {
    const c = h.db.collection<D>('order');
    await c.insertOne({ a: 1, _id: 'x', b: 2 } as D);
    expect(Object.keys((await c.findOne({ _id: 'x' } as D))!)).toEqual(['_id', 'a', 'b']);
  });

  it('refuses an update that would grow a document past 16 MiB (17419)', async () => {
    const c = h.db.collection<D>('big');
    const chunk = 'x'.repeat(6 * 1024 * 1024);
    await c.insertOne({ _id: 1, a: chunk } as D);
    await c.updateOne({ _id: 1 } as D, { $set: { b: chunk } });
    const err = await c.updateOne({ _id: 1 } as D, { $set: { c: chunk } }).catch((e: unknown) => e);
    expect((err as MongoServerError).code).toBe(17419);
    expect(Object.keys((await c.findOne({ _id: 1 } as D, { projection: { _id: 1, a: 1, b: 1, c: 1 } }))!)).toEqual(['_id', 'a', 'b']);
  });
});
