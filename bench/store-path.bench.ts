/**
 * The store's share of one publish, in process: the embedded engine and the
 * driver, CPU time per item. Two parts, as the serving server writes them:
 * texts (numbers allocated in blocks of 256, one texts insert command per
 * group of publishes), then cursors (one update command of `$max` per user for
 * `users` users, as the coalesced flush writes them every 200 ms).
 * `node --import tsx bench/store-path.bench.ts [group] [texts] [users]`
 */
import { createHash } from 'node:crypto';
import { startEngine } from '../src/engine';
import { Store } from '../src/store/store';

const group = Number(process.argv[2] ?? 16);
const total = Number(process.argv[3] ?? 20_000);
const users = Number(process.argv[4] ?? 64);
/** A client id as the native client makes them: request keys are this, then a digest of the datagram. */
const CID = 'Xq3v9RkPz1bW0mYtLc8sAe';
const engine = await startEngine({ port: 0 });
const store = await Store.open({ uri: engine.uri, dbName: 'bench' });
const lease = await store.initLease('A');
for (let u = 0; u < users; u++) await store.insertUser({ _id: `u${u}`, host: '127.0.0.1', port: 1, dialect: 'native', subjects: [`s${u}`], createdAt: 0, cursor: 0 });

/** Numbers come in blocks of 256, as the sequencer's largest. */
let next = 0;
let end = 0;
async function texts(base: number, n: number): Promise<void> {
  const writes = [];
  for (let i = 0; i < n; i++) {
    if (next === end) {
      next = await store.allocateSeqs('A', lease.epoch, 256);
      end = next + 256;
    }
    const seq = next++;
    // Keys of random digests land all over the unique index, as the server's do.
    const req = `n:${CID}:${createHash('sha1').update(String(seq)).digest('base64url').slice(0, 22)}`;
    writes.push(store.storeText({ _id: seq, from: `u${i % users}`, subject: `s${i % users}`, text: `hello world ${base + i}`, at: Date.now(), req, epoch: lease.epoch }));
  }
  await Promise.all(writes);
}

let cursor = 0;
async function cursors(): Promise<void> {
  cursor++;
  await store.saveCursors(Array.from({ length: users }, (_, u) => ({ user: `u${u}`, cursor: cursor * users + u })));
}

async function measure(label: string, items: number, run: () => Promise<void>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(`${label}: ${Math.round(items / (wall / 1000))}/s, ${((cpu.user + cpu.system) / items).toFixed(1)} µs CPU each (engine + driver)`);
}

for (let i = 0; i < 2000; i += group) await texts(i, group);
for (let i = 0; i < 20; i++) await cursors();
await measure(`texts in groups of ${group}`, total, async () => {
  for (let i = 0; i < total; i += group) await texts(i, group);
});
const flushes = Math.max(10, Math.round(total / users / 4));
await measure(`cursors, ${users} per update command`, flushes * users, async () => {
  for (let i = 0; i < flushes; i++) await cursors();
});
await store.close();
await engine.close();
