/**
 * Recovery time: load N documents (one secondary index) into an engine with
 * a data directory, snapshot, close, and time the restart.
 * Run: node --import tsx bench/engine-recovery.bench.ts [docs]
 */
import { MongoClient } from 'mongodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { launchEngine } from '../src/engine/launch.js';

const N = Number(process.argv[2] ?? 1_000_000);
const dir = await mkdtemp(path.join(tmpdir(), 'rss-engine-recovery-'));
try {
  let t0 = performance.now();
  const engine = await launchEngine({ dataDir: dir });
  const client = new MongoClient(engine.uri);
  await client.connect();
  const c = client.db('r').collection<{ _id: number; k: number; s: string }>('c');
  await c.createIndex({ k: 1 });
  for (let i = 0; i < N; i += 10_000) {
    const docs = [];
    for (let j = i; j < Math.min(N, i + 10_000); j++) docs.push({ _id: j, k: (j * 2654435761) % N, s: `v${j}` });
    await c.insertMany(docs, { ordered: false });
  }
  console.log(`load ${N} docs (journaled): ${Math.round(performance.now() - t0)} ms`);
  t0 = performance.now();
  await engine.compact();
  console.log(`snapshot: ${Math.round(performance.now() - t0)} ms`);
  await client.close();
  await engine.close();
  t0 = performance.now();
  const again = await launchEngine({ dataDir: dir });
  console.log(`restart (snapshot → documents → indexes): ${Math.round(performance.now() - t0)} ms, heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`);
  await again.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
