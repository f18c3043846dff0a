/**
 * The engine's share of the store path of a publish, without driver or
 * socket: commands as the store sends them (OP_MSG decoded, executed in the
 * core, reply encoded), µs of CPU per item.
 *  - texts: insert commands of `group` texts into a texts collection with
 *    rss's indexes (unique request key, (subject, _id)), growing to `total`
 *    texts, in rounds of 20,000 so the cost's growth with the collection shows;
 *  - cursors: update commands of one `$max` statement per user for `users`
 *    users, as the coalesced cursor flush writes them.
 * `node --import tsx bench/engine-insert.bench.ts [group] [total] [users]`
 */
import { createHash } from 'node:crypto';
import { BSON } from 'bson';
import { EngineCore } from '../src/engine/core.js';
import { decodeMessage, encodeMsg } from '../src/engine/wire/codec.js';

const group = Number(process.argv[2] ?? 24);
const total = Number(process.argv[3] ?? 200_000);
const users = Number(process.argv[4] ?? 640);
const ROUND = 20_000;
const CID = 'Xq3v9RkPz1bW0mYtLc8sAe';
const core = new EngineCore();
const run = (body: object) => core.execute('bench', BSON.deserialize(BSON.serialize(body)), 1).reply;
run({ createIndexes: 'texts', indexes: [{ key: { req: 1 }, name: 'req_unique', unique: true }, { key: { subject: 1, _id: -1 }, name: 'subject_seq' }] });
const lsid = { id: new BSON.UUID() };

/** Insert commands as the store sends them, prepared before the clock starts. */
function inserts(from: number, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let s = from; s < from + n; s += group) {
    const documents = [];
    for (let seq = s; seq < Math.min(s + group, from + n); seq++) {
      const req = `n:${CID}:${createHash('sha1').update(String(seq)).digest('base64url').slice(0, 22)}`;
      documents.push({ _id: seq, from: `u${seq % 64}`, subject: `s${seq % 64}`, text: `hello world ${seq}`, at: Date.now(), req, epoch: 3 });
    }
    out.push(encodeMsg(1, 0, { insert: 'texts', documents, ordered: false, $db: 'bench', lsid }));
  }
  return out;
}

/** CPU µs per item of running `msgs` through the core. */
function timed(msgs: Buffer[], items: number): number {
  const t0 = process.cpuUsage();
  for (const m of msgs) {
    const req = decodeMessage(m);
    const { reply } = core.execute('bench', req.body, 1);
    if (reply.ok !== 1 || reply.writeErrors) throw new Error(`command failed: ${JSON.stringify(reply)}`);
    encodeMsg(2, 1, reply);
  }
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / items;
}

for (let done = 0; done < total; done += ROUND) {
  const us = timed(inserts(done + 1, ROUND), ROUND);
  console.log(`texts ${String(done + ROUND).padStart(7)}: ${us.toFixed(2)} µs CPU per text (group ${group})`);
}

for (let u = 0; u < users; u++) {
  run({ insert: 'users', documents: [{ _id: `user${u}`, host: '127.0.0.1', port: 40000 + u, dialect: 'native', subjects: ['s1', 's2'], cid: CID, createdAt: Date.now(), key: 'k'.repeat(80), addrOk: true, ctrHigh: 0, cursor: 0, since: [{ subject: 's1', seq: 0 }, { subject: 's2', seq: 0 }] }] });
}
const flushes = Number(process.env.FLUSHES ?? 50);
const updates = Array.from({ length: flushes }, (_, f) =>
  encodeMsg(1, 0, { update: 'users', updates: Array.from({ length: users }, (_, u) => ({ q: { _id: `user${u}` }, u: { $max: { cursor: (f + 1) * 1000 + u } } })), ordered: false, $db: 'bench', lsid }));
console.log(`cursors: ${timed(updates, flushes * users).toFixed(2)} µs CPU per cursor (${users} per update command)`);
