/**
 * The fault tests' verdict: every acknowledged publish is stored exactly
 * once under the seq it was acknowledged with, and every interested user
 * received each text exactly once, in sequence order.
 */
import { MongoClient } from 'mongodb';
import type { ReceivedText, RssClient } from '../../src/client/client';
import { delay } from './system';

export interface Acked {
  name: string;
  subject: string;
  text: string;
  seq: number;
}

/**
 * Acknowledged publishes lost, stored twice, or stored under another seq (read from the store at `uri`).
 * Fence documents (numbers a new holder closed, see Store.fenceSeqs) are no texts.
 */
export async function storedFaults(uri: string, acked: readonly Acked[]): Promise<{ stored: number; lost: number; storedTwice: number; wrongSeq: number }> {
  const mongo = new MongoClient(uri);
  const texts = await mongo.db('rss').collection('texts').find({ fenced: { $ne: true } }).toArray();
  await mongo.close();
  const byText = new Map<string, number[]>();
  for (const t of texts) byText.set(t.text as string, [...(byText.get(t.text as string) ?? []), t._id as unknown as number]);
  return {
    stored: texts.length,
    lost: acked.filter((a) => !byText.has(a.text)).length,
    storedTwice: [...byText.values()].filter((s) => s.length > 1).length,
    wrongSeq: acked.filter((a) => byText.get(a.text)?.[0] !== a.seq).length,
  };
}

/**
 * Texts the store counts as received by a user (at or below its stored
 * cursor) that the user was never shown: a cursor moved past a text not
 * received would make it lost for good, however long one waits. Texts a
 * user lacks above its cursor are still owed (pushed or retrieved later).
 */
export async function cursorsPast(
  uri: string,
  received: ReadonlyMap<string, readonly ReceivedText[]>,
  acked: readonly Acked[],
  wants: (name: string, subject: string) => boolean,
  label: string,
): Promise<number> {
  const mongo = new MongoClient(uri);
  const users = await mongo.db('rss').collection<{ _id: string; cursor?: number }>('users').find({}, { projection: { cursor: 1 } }).toArray();
  await mongo.close();
  const cursor = new Map(users.map((u) => [u._id, u.cursor ?? 0]));
  let past = 0;
  for (const [name, got] of received) {
    const have = new Set(got.map((t) => t.seq));
    const c = cursor.get(name) ?? 0;
    const skipped = acked.filter((a) => a.name !== name && wants(name, a.subject) && a.seq <= c && !have.has(a.seq)).map((a) => a.seq);
    past += skipped.length;
    if (skipped.length > 0) console.error(`${label}: ${name}: cursor ${c} passed ${skipped.join(',')}, never shown`);
  }
  return past;
}

/**
 * Texts each user should have had but lacks, got twice, or got out of
 * order; `wants(name, subject)` says whether `name` is interested in `subject`.
 */
export function deliveryFaults(
  received: ReadonlyMap<string, readonly ReceivedText[]>,
  acked: readonly Acked[],
  wants: (name: string, subject: string) => boolean,
  label: string,
): { delivered: number; missing: number; duplicates: number; outOfOrder: number } {
  let delivered = 0;
  let missing = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  for (const [name, got] of received) {
    const want = acked.filter((a) => a.name !== name && wants(name, a.subject)).map((a) => a.seq).sort((x, y) => x - y);
    const seqs = got.map((t) => t.seq);
    delivered += seqs.length;
    duplicates += seqs.length - new Set(seqs).size;
    for (let k = 1; k < seqs.length; k++) if (seqs[k]! <= seqs[k - 1]!) outOfOrder++;
    const have = new Set(seqs);
    const lacking = want.filter((s) => !have.has(s));
    missing += lacking.length;
    // On failure, say which texts each user lacks (it tells a loss from a reordering).
    if (lacking.length > 0) console.error(`${label}: ${name}: missing ${lacking.join(',')}; got ${seqs.length}/${want.length}; last ${seqs.at(-1)}`);
  }
  return { delivered, missing, duplicates, outOfOrder };
}

/** A chaos test's user: records what it is shown in `received`, registers, follows `subjects` and listens. */
export async function joinAsListener(c: RssClient, name: string, subjects: string[], received: Map<string, ReceivedText[]>): Promise<void> {
  received.set(name, []);
  c.on('message', (t) => received.get(name)!.push(t));
  await c.register(name);
  await c.subjects(name, subjects);
  await c.listen(name);
}

/**
 * Wait until every user `u<i>` of `clients` was shown every acknowledged text it wants (pushes, and the
 * clients' own gap-filling after a silence; listen() again every 3 s gap-fills the rest), or `timeoutMs`:
 * the caller then counts what is missing with deliveryFaults.
 */
export async function untilDelivered(
  clients: readonly RssClient[],
  received: ReadonlyMap<string, readonly ReceivedText[]>,
  acked: readonly Acked[],
  wants: (name: string, subject: string) => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const owed = (name: string) => acked.filter((a) => a.name !== name && wants(name, a.subject)).length;
  const settled = () => clients.every((_, i) => new Set(received.get(`u${i}`)!.map((t) => t.seq)).size >= owed(`u${i}`));
  let asked = Date.now();
  for (const until = Date.now() + timeoutMs; !settled() && Date.now() < until; ) {
    await delay(100);
    if (settled() || Date.now() - asked < 3000) continue;
    // listen() gap-fills through the client's ordered delivery, so retrieved texts are shown like pushes.
    await Promise.all(clients.map((c, i) => c.listen(`u${i}`)));
    asked = Date.now();
  }
}
