import { createHash } from 'node:crypto';
import { BSON } from 'bson';
import { EngineCore } from '../src/engine/core.js';
const core = new EngineCore();
const run = (body: object) => core.execute('bench', BSON.deserialize(BSON.serialize(body)), 1).reply;
run({ createIndexes: 'texts', indexes: [{ key: { req: 1 }, name: 'req_unique', unique: true }, { key: { subject: 1, _id: -1 }, name: 'subject_seq' }] });
const N = 100_000;
for (let s = 1; s <= N; s += 100) {
  const documents = [];
  for (let seq = s; seq < s + 100; seq++) documents.push({ _id: seq, from: `u${seq % 64}`, subject: `s${seq % 64}`, text: 'x'.repeat(300), at: Date.now(), req: `n:${createHash('sha1').update(String(seq)).digest('base64url')}`, epoch: 3 });
  run({ insert: 'texts', documents, ordered: false });
}
const mode = process.argv[2] ?? 'range';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
const session = new Session();
if (process.env.PROF) { session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.setSamplingInterval', { interval: 50 }); await session.post('Profiler.start'); }
const t0 = process.cpuUsage();
let n = 0;
if (mode === 'range') {
  for (let sub = 0; sub < 64; sub++) { const r = run({ delete: 'texts', deletes: [{ q: { subject: `s${sub}`, _id: { $gt: 0, $lte: N / 2 } }, limit: 0 }] }); n += r.n; }
} else {
  for (let s = 1; s <= N / 2; s += 512) { const ids = []; for (let i = s; i < s + 512 && i <= N / 2; i++) ids.push(i); const r = run({ delete: 'texts', deletes: [{ q: { _id: { $in: ids } }, limit: 0 }] }); n += r.n; }
}
const t = process.cpuUsage(t0);
if (process.env.PROF) { const { profile } = await session.post('Profiler.stop'); writeFileSync(process.env.PROF, JSON.stringify(profile)); }
console.log(mode, n, 'deleted', ((t.user + t.system) / n).toFixed(2), 'µs per doc');
