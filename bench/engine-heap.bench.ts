/**
 * What the engine's stored texts cost the garbage collector: heap bytes per
 * text and the CPU of a full collection once `total` texts are stored (a
 * full mark-compact marks every live object, so this is the stall a busy
 * server sees when V8 decides to collect its old generation).
 * Texts are inserted into the core as the store sends them (rss's indexes,
 * groups of 16).
 * `node --expose-gc --import tsx bench/engine-heap.bench.ts [total]`
 */
import { createHash } from 'node:crypto';
import { BSON } from 'bson';
import { EngineCore } from '../src/engine/core.js';
import { decodeMessage, encodeMsg } from '../src/engine/wire/codec.js';

const total = Number(process.argv[2] ?? 150_000);
const GROUP = 16;
const CID = 'Xq3v9RkPz1bW0mYtLc8sAe';
const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('run with node --expose-gc');

/** CPU ms of one full collection. */
function fullGc(): number {
  const t0 = process.cpuUsage();
  collect!();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1000;
}

const core = new EngineCore();
const run = (body: object) => core.execute('bench', BSON.deserialize(BSON.serialize(body)), 1).reply;
run({ createIndexes: 'texts', indexes: [{ key: { req: 1 }, name: 'req_unique', unique: true }, { key: { subject: 1, _id: -1 }, name: 'subject_seq' }] });
const lsid = { id: new BSON.UUID() };

collect();
const empty = process.memoryUsage().heapUsed;
const emptyGc = fullGc();
for (let s = 1; s <= total; s += GROUP) {
  const documents = [];
  for (let seq = s; seq < Math.min(s + GROUP, total + 1); seq++) {
    const req = `n:${CID}:${createHash('sha1').update(String(seq)).digest('base64url').slice(0, 22)}`;
    documents.push({ _id: seq, from: `u${seq % 64}`, subject: `s${seq % 64}`, text: `hello world ${seq}`, at: Date.now(), req, epoch: 3 });
  }
  const { reply } = core.execute('bench', decodeMessage(encodeMsg(1, 0, { insert: 'texts', documents, ordered: false, $db: 'bench', lsid })).body, 1);
  if (reply.ok !== 1 || reply.writeErrors) throw new Error(`insert failed: ${JSON.stringify(reply)}`);
}
collect();
const full = process.memoryUsage();
const gcs = [fullGc(), fullGc(), fullGc()].sort((a, b) => a - b);
console.log(`${total} texts: ${((full.heapUsed - empty) / total).toFixed(0)} heap bytes per text (${(full.heapUsed / 2 ** 20).toFixed(0)} MB heap, ${(full.external / 2 ** 20).toFixed(0)} MB external)`);
console.log(`full collection: ${gcs[1].toFixed(1)} ms CPU (median of 3; ${emptyGc.toFixed(1)} ms with no texts)`);
