/**
 * General CRUD behaviour through the official driver that the store (and
 * anyone reading the rss database) relies on. Registered once per engine by
 * contract.test.ts; each test uses a fresh database.
 */
import { MongoClient, MongoServerError, type CommandStartedEvent, type Db } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDuplicateKey } from '../../src/store/store';
import { freshDbName } from './store-contract';

/** Test documents: numeric ids, anything else. */
type D = { _id: number; [field: string]: unknown };
interface Counter {
  _id: number;
  n: number;
  tags?: string[];
  gone?: boolean;
  s?: string;
}

/** Registers the driver CRUD contract against the engine whose URI `uri()` gives. */
export function driverContract(uri: () => string): void {
  let client: MongoClient;
  let db: Db;
  let commands: string[];

  beforeEach(async () => {
    client = new MongoClient(uri(), { serverSelectionTimeoutMS: 5000, monitorCommands: true });
    commands = [];
    client.on('commandStarted', (e: CommandStartedEvent) => commands.push(e.commandName));
    await client.connect();
    db = client.db(freshDbName());
  });
  afterEach(async () => {
    await db.dropDatabase();
    await client.close();
  });

  const seed = async (n: number) => {
    const c = db.collection<D>('c');
    // Inserted in a scrambled order so that natural order differs from _id order.
    const docs = Array.from({ length: n }, (_, i) => ({ _id: (i * 7) % n, g: ((i * 7) % n) % 3, name: `n${(i * 7) % n}`, tags: ['t'] }));
    await c.insertMany(docs);
    return c;
  };

  describe('find', () => {
    it('filter, sort, skip, limit and projection', async () => {
      const c = await seed(10);
      const r = await c.find({ g: 1 }, { projection: { name: 1, _id: 0 } }).sort({ _id: -1 }).skip(1).limit(2).toArray();
      expect(r).toEqual([{ name: 'n4' }, { name: 'n1' }]);
      expect(await c.find({ _id: { $gte: 3, $lt: 6 } }).sort({ _id: 1 }).project({ g: 1 }).toArray()).toEqual([
        { _id: 3, g: 0 },
        { _id: 4, g: 1 },
        { _id: 5, g: 2 },
      ]);
      expect(await c.find({ g: { $in: [0, 2] } }).sort({ g: 1, _id: -1 }).limit(3).map((d) => d._id).toArray()).toEqual([9, 6, 3]);
      expect(await c.countDocuments({ g: 0 })).toBe(4);
      expect(await c.findOne({ _id: 42 })).toBeNull();
    });

    it('a cursor spans several getMore batches and returns everything once, in order', async () => {
      const c = await seed(25);
      commands.length = 0;
      const ids: number[] = [];
      for await (const d of c.find({}).sort({ _id: 1 }).batchSize(4)) ids.push(d._id);
      expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => i));
      expect(commands.filter((n) => n === 'getMore').length).toBeGreaterThanOrEqual(6);
    });

    it('a cursor closed early is killed on the server', async () => {
      const c = await seed(20);
      commands.length = 0;
      const cursor = c.find({}).batchSize(3);
      const first = await cursor.next();
      expect(first).not.toBeNull();
      await cursor.close();
      expect(commands).toContain('killCursors');
    });

    it('a secondary-index query with a descending compound index', async () => {
      const c = await seed(12);
      await c.createIndex({ g: 1, _id: -1 });
      expect(await c.find({ g: 2 }).map((d) => d._id).toArray().then((a) => a.sort((x, y) => x - y))).toEqual([2, 5, 8, 11]);
      expect(await c.find({ g: { $in: [2] } }).sort({ _id: -1 }).limit(2).map((d) => d._id).toArray()).toEqual([11, 8]);
      expect(await c.find({ g: { $in: [0, 1] } }).sort({ _id: -1 }).limit(3).map((d) => d._id).toArray()).toEqual([10, 9, 7]);
    });
  });

  describe('updates', () => {
    it('operators: $set, $inc, $push, $unset; matched vs modified counts', async () => {
      const c = db.collection<Counter>('c');
      await c.insertOne({ _id: 1, n: 1, tags: [], gone: true });
      const r = await c.updateOne({ _id: 1 }, { $set: { s: 'x' }, $inc: { n: 2 }, $push: { tags: 'a' }, $unset: { gone: '' } });
      expect(r.matchedCount).toBe(1);
      expect(r.modifiedCount).toBe(1);
      expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, n: 3, tags: ['a'], s: 'x' });
      const none = await c.updateOne({ _id: 2 }, { $set: { s: 'y' } });
      expect(none.matchedCount).toBe(0);
      expect(await c.countDocuments()).toBe(1);
    });

    it('updateMany and deleteMany report counts', async () => {
      const c = await seed(9);
      expect((await c.updateMany({ g: 1 }, { $set: { hit: true } })).modifiedCount).toBe(3);
      expect(await c.countDocuments({ hit: true })).toBe(3);
      expect((await c.deleteMany({ g: { $ne: 1 } })).deletedCount).toBe(6);
      expect(await c.countDocuments()).toBe(3);
    });

    it('upsert inserts with the equality fields of the filter, then updates', async () => {
      const c = db.collection<{ _id: string; [field: string]: unknown }>('c');
      const first = await c.updateOne({ _id: 'k', kind: 'x' }, { $set: { v: 1 }, $setOnInsert: { created: 5 } }, { upsert: true });
      expect(first.upsertedCount).toBe(1);
      expect(first.upsertedId).toBe('k');
      const second = await c.updateOne({ _id: 'k', kind: 'x' }, { $set: { v: 2 }, $setOnInsert: { created: 9 } }, { upsert: true });
      expect(second.upsertedCount).toBe(0);
      expect(second.matchedCount).toBe(1);
      expect(await c.findOne({ _id: 'k' })).toEqual({ _id: 'k', kind: 'x', v: 2, created: 5 });
    });

    it('findOneAndUpdate returns the document before or after, or null', async () => {
      const c = db.collection<Counter>('c');
      await c.insertOne({ _id: 1, n: 0 });
      expect(await c.findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } })).toEqual({ _id: 1, n: 0 });
      expect(await c.findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } }, { returnDocument: 'after' })).toEqual({ _id: 1, n: 2 });
      expect(await c.findOneAndUpdate({ _id: 1, n: 0 }, { $inc: { n: 1 } }, { returnDocument: 'after' })).toBeNull();
    });
  });

  describe('unique secondary index', () => {
    it('duplicate key 11000 on insertOne and on updates', async () => {
      const c = db.collection<D>('c');
      await c.createIndex({ email: 1 }, { unique: true });
      await c.insertOne({ _id: 1, email: 'a' });
      await c.insertOne({ _id: 2, email: 'b' });
      const err = await c.insertOne({ _id: 3, email: 'a' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MongoServerError);
      expect((err as MongoServerError).code).toBe(11000);
      const upd = await c.updateOne({ _id: 2 }, { $set: { email: 'a' } }).catch((e: unknown) => e);
      expect((upd as MongoServerError).code).toBe(11000);
      expect(await c.find({}).sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, email: 'a' }, { _id: 2, email: 'b' }]);
    });

    it('unordered insertMany inserts the rest and reports only duplicates', async () => {
      const c = db.collection<D>('c');
      await c.createIndex({ k: 1 }, { unique: true });
      await c.insertOne({ _id: 1, k: 1 });
      const err = await c.insertMany([{ _id: 2, k: 1 }, { _id: 3, k: 3 }, { _id: 4, k: 3 }, { _id: 5, k: 5 }], { ordered: false }).catch((e: unknown) => e);
      expect(isDuplicateKey(err)).toBe(true);
      expect(await c.find({}).sort({ _id: 1 }).map((d) => d._id).toArray()).toEqual([1, 3, 5]);
    });
  });
}
