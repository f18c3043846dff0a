/** Profiling helper: node --cpu-prof --import tsx bench/engine-profile.bench.ts [find|insert|update] */
import { MongoClient } from 'mongodb';
import { startEngine } from '../src/engine/index.js';

const mode = process.argv[2] ?? 'find';
const engine = await startEngine();
const client = new MongoClient(engine.uri);
await client.connect();
const c = client.db('p').collection<{ k: number; n?: number }>('c');
await c.createIndex({ k: 1 });
const N = 10_000;
for (let i = 0; i < N; i++) await c.insertOne({ k: i });
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  if (mode === 'find') await c.findOne({ k: i });
  else if (mode === 'update') await c.updateOne({ k: i }, { $inc: { n: 1 } });
  else await c.insertOne({ k: i });
}
console.log(mode, Math.round((N / (performance.now() - t0)) * 1000), 'ops/s');
await client.close();
await engine.close();
