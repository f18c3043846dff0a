/** Index commands and unique constraints through the driver. */
import type { Document } from 'mongodb';
import { MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useHarness } from './harness.js';

type D = Document;

describe('engine indexes', () => {
  const harness = useHarness();
  const coll = () => harness().db.collection<D>('ix');

  it('createIndexes, listIndexes, dropIndexes', async () => {
    expect(await coll().createIndex({ a: 1 })).toBe('a_1');
    expect(await coll().createIndex({ b: 1, c: -1 }, { unique: true, name: 'bc' })).toBe('bc');
    const list = await coll().listIndexes().toArray();
    expect(list.map((i) => i.name)).toEqual(['_id_', 'a_1', 'bc']);
    expect(list[2]).toMatchObject({ key: { b: 1, c: -1 }, unique: true });
    await coll().dropIndex('a_1');
    expect((await coll().indexes()).map((i) => i.name)).toEqual(['_id_', 'bc']);
    await coll().dropIndexes();
    expect((await coll().indexes()).map((i) => i.name)).toEqual(['_id_']);
    const missing = await harness().db.collection('nope').listIndexes().toArray().catch((e: unknown) => e);
    expect((missing as MongoServerError).code).toBe(26);
    const bad = await coll().dropIndex('zzz').catch((e: unknown) => e);
    expect((bad as MongoServerError).code).toBe(27);
  });

  it('a unique index rejects duplicates on insert, update and upsert with 11000', async () => {
    await coll().createIndex({ email: 1 }, { unique: true });
    await coll().insertOne({ _id: 1, email: 'a@x' } as D);
    await coll().insertOne({ _id: 2, email: 'b@x' } as D);
    const ins = await coll().insertOne({ _id: 3, email: 'a@x' } as D).catch((e: unknown) => e);
    expect((ins as MongoServerError).code).toBe(11000);
    expect((ins as MongoServerError).keyValue).toEqual({ email: 'a@x' });
    const upd = await coll().updateOne({ _id: 2 } as D, { $set: { email: 'a@x' } }).catch((e: unknown) => e);
    expect((upd as MongoServerError).code).toBe(11000);
    const ups = await coll().updateOne({ _id: 9 } as D, { $set: { email: 'b@x' } }, { upsert: true }).catch((e: unknown) => e);
    expect((ups as MongoServerError).code).toBe(11000);
    const fam = await coll().findOneAndUpdate({ _id: 2 } as D, { $set: { email: 'a@x' } }).catch((e: unknown) => e);
    expect((fam as MongoServerError).code).toBe(11000);
    expect(await coll().find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, email: 'a@x' },
      { _id: 2, email: 'b@x' },
    ]);
    // The constraint follows the document: after a change the old value is free again.
    await coll().updateOne({ _id: 1 } as D, { $set: { email: 'c@x' } });
    await coll().insertOne({ _id: 4, email: 'a@x' } as D);
  });

  it('compound unique index and non-unique index allow what they should', async () => {
    await coll().createIndex({ s: 1, n: 1 }, { unique: true });
    await coll().createIndex({ tag: 1 });
    await coll().insertMany([{ s: 'a', n: 1, tag: 't' }, { s: 'a', n: 2, tag: 't' }, { s: 'b', n: 1, tag: 't' }]);
    const dup = await coll().insertOne({ s: 'a', n: 1 }).catch((e: unknown) => e);
    expect((dup as MongoServerError).code).toBe(11000);
    expect((dup as MongoServerError).keyValue).toEqual({ s: 'a', n: 1 });
    expect(await coll().countDocuments({ tag: 't' })).toBe(3);
  });

  it('building a unique index over duplicates fails with 11000', async () => {
    await coll().insertMany([{ u: 1 }, { u: 1 }]);
    const err = await coll().createIndex({ u: 1 }, { unique: true }).catch((e: unknown) => e);
    expect((err as MongoServerError).code).toBe(11000);
    expect((await coll().indexes()).map((i) => i.name)).toEqual(['_id_']);
  });
});
