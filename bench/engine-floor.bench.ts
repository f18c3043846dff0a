/** Driver floor: how fast can the driver round-trip the cheapest command (ping) to the engine in one process? */
import { MongoClient } from 'mongodb';
import { startEngine } from '../src/engine/index.js';

const engine = await startEngine();
const client = new MongoClient(engine.uri);
await client.connect();
const db = client.db('p');
const N = 20_000;
/** Wall-clock rate and CPU-time rate (robust when other processes share the cores). */
function rate(label: string, t0: number, c0: NodeJS.CpuUsage): void {
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(label.padEnd(14), Math.round((N / wall) * 1000), 'ops/s wall,', Math.round((N / cpuMs) * 1000), 'ops/cpu-s');
}
for (let round = 0; round < 2; round++) {
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await db.command({ ping: 1 });
  rate('ping', t0, c0);
  await db.collection('c').insertOne({ _id: 1 as never, k: 1 }).catch(() => {});
  t0 = performance.now();
  c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await db.collection('c').findOne({ _id: 1 as never });
  rate('findOne _id', t0, c0);
  t0 = performance.now();
  c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await db.collection('c').insertOne({ k: i });
  rate('insertOne', t0, c0);
}
await client.close();
await engine.close();
