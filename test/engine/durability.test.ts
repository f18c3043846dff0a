/** Restart and compaction behaviour of the engine with a data directory. */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Decimal128, Int32, Long, MongoClient, MongoServerError } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { launchEngine, type LaunchedEngine } from '../../src/engine/launch.js';

describe('engine durability', () => {
  let dir: string;
  const open: { engine: LaunchedEngine; client: MongoClient }[] = [];
  const warnings: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rss-engine-'));
    warnings.length = 0;
  });
  afterEach(async () => {
    for (const { engine, client } of open.splice(0)) {
      await client.close();
      await engine.close();
    }
    await rm(dir, { recursive: true, force: true });
  });

  async function boot(compactBytes?: number) {
    const engine = await launchEngine({ dataDir: dir, onWarning: (m) => warnings.push(m) }, compactBytes ? { compactBytes, chunkDocs: 50 } : {});
    const client = new MongoClient(engine.uri);
    await client.connect();
    open.push({ engine, client });
    return { engine, client, db: client.db('d') };
  }

  async function shutdown() {
    const last = open.pop()!;
    await last.client.close();
    await last.engine.close();
  }

  it('keeps documents, updates, deletes, indexes and types across a restart', async () => {
    const { db } = await boot();
    const c = db.collection<Record<string, unknown>>('c');
    await c.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i as never, n: new Int32(i), l: Long.fromNumber(i * 1e12), dec: Decimal128.fromString(`${i}.5`) })));
    await c.updateOne({ _id: 3 as never }, { $set: { changed: true } });
    await c.deleteOne({ _id: 4 as never });
    await c.createIndex({ email: 1 }, { unique: true, sparse: true });
    await db.createCollection('empty');
    await db.collection('gone').insertOne({});
    await db.dropCollection('gone');
    await shutdown();

    const again = await boot();
    const c2 = again.db.collection<Record<string, unknown>>('c');
    expect(await c2.countDocuments()).toBe(19);
    expect(await c2.findOne({ _id: 4 as never })).toBeNull();
    expect((await c2.findOne({ _id: 3 as never }))!.changed).toBe(true);
    const raw = await c2.findOne({ _id: 7 as never }, { promoteValues: false });
    expect(raw!.n).toBeInstanceOf(Int32);
    expect(raw!.l).toBeInstanceOf(Long);
    expect(String(raw!.dec)).toBe('7.5');
    expect((await c2.indexes()).map((i) => i.name)).toEqual(['_id_', 'email_1']);
    await c2.insertOne({ _id: 100 as never, email: 'x' });
    const dup = await c2.insertOne({ _id: 101 as never, email: 'x' }).catch((e: unknown) => e);
    expect((dup as MongoServerError).code).toBe(11000);
    const names = (await again.db.listCollections().toArray()).map((x) => x.name).sort();
    expect(names).toEqual(['c', 'empty']);
  });

  it('compacts into a snapshot past the threshold and recovers snapshot plus journal tail', async () => {
    const { db, engine } = await boot(4096);
    const c = db.collection<Record<string, unknown>>('c');
    await c.createIndex({ k: 1 });
    for (let i = 0; i < 300; i++) await c.insertOne({ _id: i as never, k: i % 7, pad: 'x'.repeat(50) });
    await c.updateMany({ k: 0 }, { $set: { zero: true } });
    await engine.compact();
    await c.deleteMany({ k: 1 });
    await shutdown();
    const files = await readdir(dir);
    expect(files.some((f) => f.startsWith('snapshot-'))).toBe(true);

    const again = await boot(4096);
    const c2 = again.db.collection<Record<string, unknown>>('c');
    expect(await c2.countDocuments()).toBe(300 - 43);
    expect(await c2.countDocuments({ zero: true })).toBe(43);
    expect(await c2.countDocuments({ k: 1 })).toBe(0);
    const plan = await c2.find({ k: 2 }).explain('executionStats');
    expect(plan.executionStats.totalDocsExamined).toBe(43);
    expect(warnings).toEqual([]);
  });

  it('refuses a data directory another live engine holds, and takes over a stale lock', async () => {
    await boot();
    const second = await launchEngine({ dataDir: dir }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(Error);
    expect((second as Error).message).toMatch(/in use by another engine/);
    await shutdown();
    // A lock left by a process that no longer exists (SIGKILL) does not block a restart.
    await writeFile(path.join(dir, 'engine.lock'), '2147483646\n');
    const again = await boot();
    expect(await again.db.collection('c').countDocuments()).toBe(0);
  });
});
