/**
 * Engine micro-benchmarks through the official driver, in one process.
 * Run: node --import tsx bench/engine.bench.ts [--docs 1000000] [--ops 20000]
 * Not part of the test run. Prints a table of operations per second.
 */
import { MongoClient } from 'mongodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { startEngine } from '../src/engine/index.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const OPS = arg('ops', 20_000);
const BIG = arg('docs', 1_000_000);
const rows: { name: string; ops: number; ms: number; note?: string }[] = [];

async function timed(name: string, ops: number, fn: () => Promise<void>, note?: string): Promise<void> {
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  rows.push({ name, ops, ms, note });
  process.stderr.write(`${name}: ${Math.round((ops / ms) * 1000)} ops/s\n`);
}

async function inMemory(): Promise<void> {
  const engine = await startEngine();
  const client = new MongoClient(engine.uri);
  await client.connect();
  const c = client.db('bench').collection<{ _id?: unknown; k: number; s: string; n?: number }>('c');
  await c.createIndex({ k: 1 });
  // Warm-up so JIT and connection pool are ready.
  for (let i = 0; i < 2000; i++) await c.insertOne({ k: -1 - i, s: 'warm' });
  await timed('ping (driver round-trip floor)', OPS, async () => {
    const db = client.db('bench');
    for (let i = 0; i < OPS; i++) await db.command({ ping: 1 });
  });
  await timed('insertOne sequential', OPS, async () => {
    for (let i = 0; i < OPS; i++) await c.insertOne({ k: i, s: `v${i}` });
  });
  await timed('findOne by indexed field', OPS, async () => {
    for (let i = 0; i < OPS; i++) {
      const d = await c.findOne({ k: (i * 7919) % OPS });
      if (!d) throw new Error('missing');
    }
  });
  const ids = (await c.find({ k: { $gte: 0 } }, { projection: { _id: 1 } }).toArray()).map((d) => d._id);
  await timed('findOne by _id', OPS, async () => {
    for (let i = 0; i < OPS; i++) await c.findOne({ _id: ids[(i * 7919) % ids.length] });
  });
  await timed('updateOne $inc by indexed field', OPS, async () => {
    for (let i = 0; i < OPS; i++) await c.updateOne({ k: (i * 7919) % OPS }, { $inc: { n: 1 } });
  });
  await timed('insertOne pipelined (64 in flight)', OPS, async () => {
    let next = 0;
    const worker = async () => {
      while (next < OPS) {
        const i = next++;
        await c.insertOne({ k: OPS + i, s: 'p' });
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
  });
  await client.close();
  await engine.close();
}

async function big(): Promise<void> {
  const engine = await startEngine();
  const client = new MongoClient(engine.uri);
  await client.connect();
  const c = client.db('bench').collection<{ _id: number; k: number; g: number }>('big');
  await c.createIndex({ k: 1 });
  const batch = 10_000;
  await timed(`insertMany ${BIG.toLocaleString('en')} docs (batches of ${batch}, indexed)`, BIG, async () => {
    for (let i = 0; i < BIG; i += batch) {
      const docs = [];
      for (let j = i; j < Math.min(BIG, i + batch); j++) docs.push({ _id: j, k: (j * 2654435761) % BIG, g: j % 100 });
      await c.insertMany(docs, { ordered: false });
    }
  });
  const Q = 2000;
  let returned = 0;
  await timed(`indexed range query (100 docs each) over ${BIG.toLocaleString('en')}`, Q, async () => {
    for (let i = 0; i < Q; i++) {
      const lo = (i * 104729) % (BIG - 100);
      returned += (await c.find({ k: { $gte: lo, $lt: lo + 100 } }).toArray()).length;
    }
  }, `${returned} docs`);
  const explain = await c.find({ k: { $gte: 5000, $lt: 5100 } }).explain('executionStats');
  rows[rows.length - 1].note = `docsExamined/query=${explain.executionStats.totalDocsExamined}`;
  await client.close();
  await engine.close();
}

async function durable(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rss-engine-bench-'));
  const engine = await startEngine({ dataDir: dir });
  const client = new MongoClient(engine.uri, { maxPoolSize: 64 });
  await client.connect();
  const c = client.db('bench').collection<{ k: number }>('d');
  const N = Math.min(OPS, 2000);
  await timed('journaled insertOne sequential (fsync each)', N, async () => {
    for (let i = 0; i < N; i++) await c.insertOne({ k: i });
  });
  await timed('journaled insertOne, 64 in flight (group commit)', OPS, async () => {
    let next = 0;
    const worker = async () => {
      while (next < OPS) {
        next++;
        await c.insertOne({ k: next });
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
  });
  await client.close();
  await engine.close();
  await rm(dir, { recursive: true, force: true });
}

await inMemory();
await big();
await durable();
console.log(`\nengine bench — ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
console.log('| scenario | ops | ms | ops/s | note |');
console.log('|---|---:|---:|---:|---|');
for (const r of rows) console.log(`| ${r.name} | ${r.ops} | ${Math.round(r.ms)} | ${Math.round((r.ops / r.ms) * 1000)} | ${r.note ?? ''} |`);
