/**
 * The store's share of one publish, in process: the embedded engine and the
 * driver, publishes written in groups as the serving server writes them
 * (allocate, one texts insert per group, then the ACKs' cursors in one
 * update command, as the coalesced flush writes them, here once per group:
 * more often than the server's 200 ms), CPU time per text.
 * `node --import tsx bench/store-path.bench.ts [group] [texts] [fan-out]`
 */
import { startEngine } from '../src/engine';
import { Store } from '../src/store/store';

const group = Number(process.argv[2] ?? 20);
const total = Number(process.argv[3] ?? 20_000);
const fanout = Number(process.argv[4] ?? 1);
const users = Math.max(group, fanout);
const engine = await startEngine({ port: 0 });
const store = await Store.open({ uri: engine.uri, dbName: 'bench' });
const lease = await store.initLease('A');
for (let u = 0; u < users; u++) await store.insertUser({ _id: `u${u}`, host: '127.0.0.1', port: 1, dialect: 'native', subjects: [], createdAt: 0, cursor: 0 });

async function round(base: number, n: number): Promise<void> {
  const first = await store.allocateSeqs('A', lease.epoch, n);
  const writes = [];
  for (let i = 0; i < n; i++) {
    const seq = first + i;
    writes.push(store.storeText({ _id: seq, from: 'pub', subject: `s${i}`, text: `hello ${base + i}`, at: Date.now(), req: `k${seq}`, epoch: lease.epoch }));
  }
  const done = await Promise.all(writes);
  // Every recipient of the group's texts acknowledged them: each user's cursor moves to its last one.
  const cursor = new Map<string, number>();
  done.forEach((d, i) => {
    for (let r = 0; r < fanout; r++) cursor.set(`u${(i + r) % users}`, Math.max(cursor.get(`u${(i + r) % users}`) ?? 0, d.text._id));
  });
  await store.saveCursors([...cursor].map(([user, c]) => ({ user, cursor: c })));
}

for (let i = 0; i < 2000; i += group) await round(i, group);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < total; i += group) await round(i, group);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const perText = (cpu.user + cpu.system) / total;
console.log(`group ${group}, fan-out ${fanout}: ${Math.round(total / (wall / 1000))} texts/s, ${perText.toFixed(1)} µs CPU per text (engine + driver)`);
await store.close();
await engine.close();
