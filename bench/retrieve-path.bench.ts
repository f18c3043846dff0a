/**
 * The RETRIEVE-TEXTS path in one process, for profiling: the embedded
 * engine, the demo's pair and an RssClient reader at a validated address;
 * `stored` texts seeded through the driver, then each round a writer
 * publishes 100 texts on the reader's subjects while the reader's socket
 * is closed (untimed: so no push is acknowledged and all 100 stay owed),
 * and the reader, back on the same port, times its retrieve.
 * `node --import tsx bench/retrieve-path.bench.ts [stored] [rounds]`
 */
import { MongoClient } from 'mongodb';
import { startPair } from '../src/app/pair';
import { RssClient } from '../src/client/client';
import { MemoryKeyRing } from '../src/client/keys';
import { startEngine } from '../src/engine';

const stored = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 50);
const engine = await startEngine({ port: 0 });
const mongo = await MongoClient.connect(engine.uri);
const db = mongo.db('rp');
for (let i = 1; i <= stored; i += 10_000) {
  const docs = [];
  for (let s = i; s < Math.min(stored + 1, i + 10_000); s++) {
    docs.push({ _id: s, from: 'seeder', subject: `s${s % 10}`, text: `seeded text number ${s} `.padEnd(64, '.'), at: Date.now(), req: `seed:${s}`, epoch: 1 });
  }
  await db.collection('texts').insertMany(docs as never[], { ordered: false });
}
// Seeded before the pair starts: the first holder's takeover fences up to here, so the texts count as published.
await db.collection('control').insertOne({ _id: 'lease', holder: 'A', epoch: 1, beat: 0, seq: stored } as never);
// The writer publishes 100 texts a round, faster than a user's rate limit allows.
const unlimited = { burst: 1e9, perSecond: 1e9 };
const pair = await startPair({ mongoUri: engine.uri, portA: 0, portB: 0, period: 3_600_000, dbName: 'rp', security: { userRate: unlimited, sourceRate: unlimited } });
const servers = [pair.a.server.address, pair.b.server.address];
const subjects = Array.from({ length: 10 }, (_, i) => `s${i}`);
const writer = await RssClient.open({ servers, bind: { host: '127.0.0.1', port: 0 } });
await writer.register('writer');
await writer.subjects('writer', subjects);
const keys = new MemoryKeyRing();
let reader = await RssClient.open({ servers, bind: { host: '127.0.0.1', port: 0 }, keys });
await reader.register('reader');
await reader.subjects('reader', subjects);
await reader.challengesAnswered();
const port = reader.localAddress.port;
const cid = reader.cid;
const times: number[] = [];
for (let r = 0; r < rounds; r++) {
  await reader.close();
  for (let k = 0; k < 100; k++) await writer.publish('writer', `s${k % 10}`, `owed text ${r}.${k} `.padEnd(64, '.'));
  reader = await RssClient.open({ servers, bind: { host: '127.0.0.1', port }, keys, cid });
  const t0 = performance.now();
  const got = await reader.retrieve('reader');
  times.push(performance.now() - t0);
  if (got.texts.length !== 100) throw new Error(`retrieved ${got.texts.length}`);
}
times.sort((a, b) => a - b);
const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
console.log(`RETRIEVE 100 among ${stored}: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, min ${times[0]!.toFixed(2)} ms over ${rounds} rounds`);
await Promise.all([reader.close(), writer.close()]);
await mongo.close();
await pair.close();
await engine.close();
