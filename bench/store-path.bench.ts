/**
 * The store's share of one publish, in process: the embedded engine and the
 * driver, publishes written in groups as the serving server writes them
 * (allocate, texts insertMany, inbox insertMany, then the ACKs' deleteMany),
 * CPU time per text. `node --import tsx bench/store-path.bench.ts [group] [texts]`
 */
import { startEngine } from '../src/engine';
import { Store } from '../src/store/store';

const group = Number(process.argv[2] ?? 20);
const total = Number(process.argv[3] ?? 20_000);
const engine = await startEngine({ port: 0 });
const store = await Store.open({ uri: engine.uri, dbName: 'bench' });
const lease = await store.initLease('A');

async function round(base: number, n: number): Promise<void> {
  const first = await store.allocateSeqs('A', lease.epoch, n);
  const writes = [];
  for (let i = 0; i < n; i++) {
    const seq = first + i;
    writes.push(store.storeText({ _id: seq, from: 'pub', subject: `s${i}`, text: `hello ${base + i}`, at: Date.now(), req: `k${seq}`, epoch: lease.epoch }, [`u${i}`]));
  }
  const done = await Promise.all(writes);
  await Promise.all(done.map((d, i) => store.removeInbox(`u${i}`, [d.text._id])));
}

for (let i = 0; i < 2000; i += group) await round(i, group);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < total; i += group) await round(i, group);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const perText = (cpu.user + cpu.system) / total;
console.log(`group ${group}: ${Math.round(total / (wall / 1000))} texts/s, ${perText.toFixed(1)} µs CPU per text (engine + driver)`);
await store.close();
await engine.close();
