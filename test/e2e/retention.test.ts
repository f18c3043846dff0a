/**
 * Texts nobody needs any more are deleted by the serving server, through
 * real UDP and the embedded engine: what every reader of a subject has is
 * gone once it is old enough, the newest stay for RETRIEVE-TEXTS `last`,
 * and a reader that is away keeps everything it is owed, across a handoff.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryKeyRing } from '../../src/client/keys';
import type { RssClient } from '../../src/client/client';
import { delay, startSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem | undefined;
afterEach(async () => {
  await sys?.close();
  sys = undefined;
});

const KEEP_MS = 300;

/** A client registered as `name`, holding `subjects`. */
async function member(name: string, subjects: string[], keys?: MemoryKeyRing): Promise<RssClient> {
  const c = await sys!.client(keys ? { keys } : {});
  await c.register(name);
  await c.subjects(name, subjects);
  return c;
}

/** lea publishes `n` texts on news; resolves once `got` (kim's) shows them all. */
async function leaPublishes(lea: RssClient, n: number, got: Set<number>): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) seqs.push((await lea.publish('lea', 'news', `text ${i}`)).seq);
  await expect.poll(() => seqs.every((s) => got.has(s)), { timeout: 5000 }).toBe(true);
  return seqs;
}

/** Every text number a client is shown, pushed or retrieved. */
function shownBy(c: RssClient): Set<number> {
  const got = new Set<number>();
  c.on('message', (t: { seq: number }) => got.add(t.seq));
  return got;
}

describe('retention through a running pair', () => {
  it('deletes what every reader has, keeps the newest and what an away reader is owed, across a handoff', async () => {
    sys = await startSystem({ replyLifetime: KEEP_MS, retention: { keepMs: KEEP_MS, intervalMs: 50, newestKept: 2 } });
    const raw = await sys.raw();
    const stored = async () => (await raw.texts.find({ subject: 'news' }).sort({ _id: 1 }).toArray()).map((t) => t._id as number);

    const kim = await member('kim', ['news']);
    const kimGot = shownBy(kim);
    // max registers, then goes away: its texts must wait for it.
    const maxKeys = new MemoryKeyRing();
    await (await member('max', ['news'], maxKeys)).close();
    const lea = await member('lea', ['news']);
    const seqs = await leaPublishes(lea, 6, kimGot);
    // lea never reads: her own texts are not owed to her, and the pass's catch-up moves her cursor past them.
    // Well past the keep time: max still holds them all back.
    await delay(KEEP_MS * 3);
    expect(await stored()).toEqual(seqs);

    // A handoff: the next server deletes with the marks it finds in the store.
    const before = sys.pair.a.server.serving ? sys.pair.a.server : sys.pair.b.server;
    expect(await before.handoff()).toBe(true);
    const after = before === sys.pair.a.server ? sys.pair.b.server : sys.pair.a.server;
    await expect.poll(() => after.serving, { timeout: 5000 }).toBe(true);

    // max comes back and gets every text it is owed (pushed or retrieved).
    const max = await sys.client({ keys: maxKeys });
    const maxGot: number[] = [];
    max.on('message', (t: { seq: number }) => maxGot.push(t.seq));
    for (const t of (await max.retrieve('max')).texts) maxGot.push(t.seq);
    await expect.poll(() => [...new Set(maxGot)].sort((a, b) => a - b), { timeout: 5000 }).toEqual(seqs);
    // Everyone has them now: all but the newest two go.
    await expect.poll(stored, { timeout: 5000 }).toEqual(seqs.slice(-2));
    expect((await kim.retrieve('kim', { last: 10 })).texts.map((t) => t.seq)).toEqual(seqs.slice(-2));
    expect(after.status().textsPurged).toBe(4);
  });

  it('keeps every text while it is younger than the keep time, even when everyone has it', async () => {
    sys = await startSystem({ replyLifetime: 1000, retention: { keepMs: 60_000, intervalMs: 50, newestKept: 1 } });
    const raw = await sys.raw();
    const kimGot = shownBy(await member('kim', ['news']));
    await leaPublishes(await member('lea', ['news']), 4, kimGot);
    await delay(500);
    expect(await raw.texts.countDocuments({ subject: 'news' })).toBe(4);
  });
});
