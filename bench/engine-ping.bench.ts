/** Profiling aid: N pings through the driver. node --cpu-prof --import tsx bench/engine-ping.bench.ts */
import { MongoClient } from 'mongodb';
import { startEngine } from '../src/engine/index.js';

const engine = await startEngine();
const client = new MongoClient(engine.uri);
await client.connect();
const db = client.db('p');
const N = 40_000;
const t0 = performance.now();
for (let i = 0; i < N; i++) await db.command({ ping: 1 });
console.log('ping', Math.round((N / (performance.now() - t0)) * 1000), 'ops/s');
await client.close();
await engine.close();
