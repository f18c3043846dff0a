/** Error replies carry mongod's codes; unsupported features fail loudly. */
import { MongoServerError, type Document } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openHarness, useHarness, type Harness } from './harness.js';

async function codeOf(p: Promise<unknown>): Promise<number | undefined> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MongoServerError);
  return (e as MongoServerError).code as number;
}

describe('engine errors', () => {
  const harness = useHarness();
  beforeEach(async () => {
    await harness().db.collection('e').insertOne({ _id: 1, s: 'x', n: 1, arr: [1] } as Document);
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests use arbitrary _id types
  const coll = () => harness().db.collection<any>('e');

  it('unknown query operator → BadValue (2)', async () => {
    expect(await codeOf(coll().findOne({ n: { $frob: 1 } }))).toBe(2);
  });

  it('unknown update modifier → FailedToParse (9)', async () => {
    expect(await codeOf(coll().updateOne({ _id: 1 }, { $frob: { n: 1 } } as Document))).toBe(9);
  });

  it('conflicting update paths → 40, changing _id → 66', async () => {
    expect(await codeOf(coll().updateOne({ _id: 1 }, { $set: { n: 1 }, $inc: { n: 1 } }))).toBe(40);
    expect(await codeOf(coll().updateOne({ _id: 1 }, { $set: { _id: 2 } }))).toBe(66);
    expect(await codeOf(coll().replaceOne({ _id: 1 }, { _id: 2, s: 'y' }))).toBe(66);
  });

  it('$push onto a non-array → BadValue (2); creating a field inside a string → 28', async () => {
    expect(await codeOf(coll().updateOne({ _id: 1 }, { $push: { s: 1 } } as Document))).toBe(2);
    expect(await codeOf(coll().updateOne({ _id: 1 }, { $set: { 's.x': 1 } }))).toBe(28);
  });

  it('unknown aggregation stage → 40324; missing namespace → 26', async () => {
    expect(await codeOf(coll().aggregate([{ $frob: {} }]).toArray())).toBe(40324);
    expect(await codeOf(harness().db.collection('none').dropIndex('x_1'))).toBe(26);
  });

  it('unsupported features fail instead of misbehaving', async () => {
    expect(await codeOf(coll().updateOne({ _id: 1 }, [{ $set: { n: 2 } }]))).toBe(238);
    expect(await codeOf(coll().createIndex({ s: 'text' }))).toBe(238);
    expect(await codeOf(coll().findOne({ $where: 'true' } as Document))).toBe(2);
  });

  it('bad projection mix → 31254; bad sort → 2', async () => {
    expect(await codeOf(coll().findOne({}, { projection: { s: 1, n: 0 } }))).toBe(31254);
    expect(await codeOf(harness().db.command({ find: 'e', sort: { n: 2 } }))).toBe(2);
  });
});

describe('engine refuses options it would otherwise silently ignore', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('collation, tailable cursors and validators → NotImplemented (238)', async () => {
    const c = h.db.collection('r');
    expect(await codeOf(c.find({}, { collation: { locale: 'fr' } }).toArray())).toBe(238);
    expect(await codeOf(h.db.command({ find: 'r', tailable: true }))).toBe(238);
    expect(await codeOf(h.db.createCollection('v', { validator: { a: { $exists: true } } }))).toBe(238);
    expect(await codeOf(c.updateOne({}, { $set: { a: 1 } }, { collation: { locale: 'fr' } }))).toBe(238);
  });
});
