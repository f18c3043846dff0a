/**
 * The RETRIEVE-TEXTS path in one process, for profiling: the embedded
 * engine, the demo's pair and an RssClient reader at a validated address;
 * `stored` texts seeded through the driver, then each round owes the reader
 * 100 random ones (untimed) and times its retrieve.
 * `node --import tsx bench/retrieve-path.bench.ts [stored] [rounds]`
 */
import { MongoClient } from 'mongodb';
import { startPair } from '../src/app/pair';
import { RssClient } from '../src/client/client';
import { startEngine } from '../src/engine';

const stored = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 50);
const engine = await startEngine({ port: 0 });
const pair = await startPair({ mongoUri: engine.uri, portA: 0, portB: 0, period: 3_600_000, dbName: 'rp' });
const mongo = await MongoClient.connect(engine.uri);
const db = mongo.db('rp');
for (let i = 1; i <= stored; i += 10_000) {
  const docs = [];
  for (let s = i; s < Math.min(stored + 1, i + 10_000); s++) {
    docs.push({ _id: s, from: 'seeder', subject: `s${s % 10}`, text: `seeded text number ${s} `.padEnd(64, '.'), at: Date.now(), req: `seed:${s}`, epoch: 1 });
  }
  await db.collection('texts').insertMany(docs as never[], { ordered: false });
}
await db.collection('control').updateOne({ _id: 'lease' } as never, { $max: { seq: stored } });
const reader = await RssClient.open({ servers: [pair.a.server.address, pair.b.server.address], bind: { host: '127.0.0.1', port: 0 } });
await reader.register('reader');
await reader.subjects('reader', Array.from({ length: 10 }, (_, i) => `s${i}`));
const times: number[] = [];
for (let r = 0; r < rounds; r++) {
  // The last answer's texts are marked received just after it went out: wait for that (untimed).
  while ((await db.collection('inbox').countDocuments({ user: 'reader' })) > 0) await new Promise((r) => setTimeout(r, 1));
  const seqs = new Set<number>();
  while (seqs.size < 100) seqs.add(1 + Math.floor(Math.random() * stored));
  await db.collection('inbox').insertMany([...seqs].map((seq) => ({ _id: `${seq}:reader`, user: 'reader', seq })) as never[]);
  const t0 = performance.now();
  const got = await reader.retrieve('reader');
  times.push(performance.now() - t0);
  if (got.texts.length !== 100) throw new Error(`retrieved ${got.texts.length}`);
}
times.sort((a, b) => a - b);
const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
console.log(`RETRIEVE 100 among ${stored}: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, min ${times[0]!.toFixed(2)} ms over ${rounds} rounds`);
await reader.close();
await mongo.close();
await pair.close();
await engine.close();
