/** Concurrency sweep: insertOne with K operations in flight (one client). node --import tsx bench/engine-pipelined.bench.ts */
import { MongoClient } from 'mongodb';
import { startEngine } from '../src/engine/index.js';

const engine = await startEngine();
const N = 20_000;
for (const k of [1, 4, 16, 64]) {
  const client = new MongoClient(engine.uri, { maxPoolSize: k });
  await client.connect();
  const c = client.db('p').collection<{ k: number }>(`c${k}`);
  let next = 0;
  const worker = async () => {
    while (next < N) {
      next++;
      await c.insertOne({ k: next });
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: k }, worker));
  console.log(`in flight ${k}: ${Math.round((N / (performance.now() - t0)) * 1000)} ops/s`);
  await client.close();
}
await engine.close();
