/**
 * `node --import tsx bench/store-ab.ts <ref> <ref> [group] [texts] [users]`
 *
 * The store path of two commits compared in ONE process, alternated round
 * by round (which one goes first swaps every round), so both meet the same
 * machine: CPU time in a shared, loaded VM moves far less between two
 * rounds a second apart than between two runs minutes apart. src/ of each
 * ref is exported (git archive) into bench/out/store-ab/<commit>/. Per ref:
 *  - texts: an embedded engine and a `Store` through the driver, texts
 *    written as the server writes them (numbers in blocks of 256, one insert
 *    command per group of `group`), µs of CPU per text;
 *  - cursors: one `saveCursors` of `users` users per round, µs per cursor;
 *  - engine: the same insert commands decoded, executed and answered by an
 *    EngineCore alone (no driver, no socket), µs per text.
 * The first third of the rounds warms up and is not counted.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BSON } from 'bson';
// Types of this tree: both refs' modules have these shapes.
import type { EngineCore } from '../src/engine/core';
import type { RunningEngine } from '../src/engine';
import type { Store } from '../src/store/store';
import type * as Codec from '../src/engine/wire/codec';

const [refA, refB, groupArg, textsArg, usersArg] = process.argv.slice(2);
if (!refA || !refB) throw new Error('usage: bench/store-ab.ts <ref> <ref> [group] [texts] [users]');
const group = Number(groupArg ?? 24);
const total = Number(textsArg ?? 60_000);
const users = Number(usersArg ?? 64);
const ROUND = 2400;
const CID = 'Xq3v9RkPz1bW0mYtLc8sAe';
const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** src/ of `ref`, exported once per commit. */
function tree(ref: string): { commit: string; dir: string } {
  const commit = execFileSync('git', ['rev-parse', '--short', ref], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = `${ROOT}bench/out/store-ab/${commit}`;
  if (!existsSync(`${dir}/src`)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${commit} src | tar -x -C ${dir}`], { cwd: ROOT });
  }
  return { commit, dir };
}

/** A text as the server stores it; request keys of random digests land all over the unique index. */
function text(seq: number, epoch: number) {
  const req = `n:${CID}:${createHash('sha1').update(String(seq)).digest('base64url').slice(0, 22)}`;
  return { _id: seq, from: `u${seq % users}`, subject: `s${seq % users}`, text: `hello world ${seq}`, at: Date.now(), req, epoch };
}

interface Side {
  ref: string;
  commit: string;
  engine: RunningEngine;
  store: Store;
  lease: { epoch: number };
  core: EngineCore;
  codec: typeof Codec;
  next: number;
  end: number;
  cursor: number;
  us: { texts: number; cursors: number; engine: number };
}

const sides: Side[] = [];
for (const ref of [refA, refB]) {
  const { commit, dir } = tree(ref);
  const { startEngine } = await import(`${dir}/src/engine/index.ts`);
  const { Store } = await import(`${dir}/src/store/store.ts`);
  const { EngineCore } = await import(`${dir}/src/engine/core.ts`);
  const codec = await import(`${dir}/src/engine/wire/codec.ts`);
  const engine = await startEngine({ port: 0 });
  const store = await Store.open({ uri: engine.uri, dbName: 'bench' });
  const lease = await store.initLease('A');
  for (let u = 0; u < users; u++) await store.insertUser({ _id: `u${u}`, host: '127.0.0.1', port: 1, dialect: 'native', subjects: [`s${u}`], createdAt: 0, cursor: 0 });
  const core = new EngineCore();
  core.execute('bench', BSON.deserialize(BSON.serialize({ createIndexes: 'texts', indexes: [{ key: { req: 1 }, name: 'req_unique', unique: true }, { key: { subject: 1, _id: -1 }, name: 'subject_seq' }] })), 1);
  sides.push({ ref, commit, engine, store, lease, core, codec, next: 0, end: 0, cursor: 0, us: { texts: 0, cursors: 0, engine: 0 } });
}

async function texts(s: Side): Promise<void> {
  for (let i = 0; i < ROUND; i += group) {
    const writes = [];
    for (let j = 0; j < group; j++) {
      if (s.next === s.end) {
        s.next = await s.store.allocateSeqs('A', s.lease.epoch, 256);
        s.end = s.next + 256;
      }
      writes.push(s.store.storeText(text(s.next++, s.lease.epoch)));
    }
    await Promise.all(writes);
  }
}

async function cursors(s: Side): Promise<void> {
  s.cursor++;
  await s.store.saveCursors(Array.from({ length: users }, (_, u) => ({ user: `u${u}`, cursor: s.cursor * users + u })));
}

function engineOnly(s: Side, msgs: Buffer[]): void {
  for (const m of msgs) {
    const { reply } = s.core.execute('bench', s.codec.decodeMessage(m).body, 1);
    if (reply.ok !== 1 || reply.writeErrors) throw new Error(`insert failed: ${JSON.stringify(reply)}`);
    s.codec.encodeMsg(2, 1, reply);
  }
}

async function cpu(run: () => Promise<void> | void): Promise<number> {
  const t0 = process.cpuUsage();
  await run();
  const t = process.cpuUsage(t0);
  return t.user + t.system;
}

let counted = 0;
for (let done = 0, round = 0; done < total; done += ROUND, round++) {
  const framed: Buffer[] = [];
  for (let s = done + 1; s <= done + ROUND; s += group) {
    framed.push(sides[0]!.codec.encodeMsg(1, 0, { insert: 'texts', documents: Array.from({ length: group }, (_, j) => text(s + j, 1)), ordered: false, $db: 'bench' }));
  }
  const counting = done >= total / 3;
  for (const s of round % 2 === 0 ? sides : [...sides].reverse()) {
    const t = await cpu(() => texts(s));
    const c = await cpu(() => cursors(s));
    const e = await cpu(() => engineOnly(s, framed));
    if (counting) {
      s.us.texts += t;
      s.us.cursors += c;
      s.us.engine += e;
    }
  }
  if (counting) counted++;
}
for (const s of sides) {
  console.log(`${s.ref} (${s.commit}): ${(s.us.texts / (counted * ROUND)).toFixed(1)} µs CPU per text through the driver (groups of ${group}), ${(s.us.cursors / (counted * users)).toFixed(1)} µs per cursor (${users} per command), engine alone ${(s.us.engine / (counted * ROUND)).toFixed(1)} µs per text`);
  await s.store.close();
  await s.engine.close();
}
console.log(`texts ${Math.round(total / 3)}..${total} of ${total} counted, ${counted} rounds each`);
