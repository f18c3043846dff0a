/**
 * A user that mostly publishes on its own subject: its texts are never owed
 * to it, so an empty read must not leave its cursor where it was (each later
 * read would walk all of them again). A read that finds nothing owed moves
 * the cursor to the line it read up to.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Collection, type Document, type Filter } from 'mongodb';
import { Cursors } from '../../src/server/cursors';
import { deliveryPort, type DeliveryPortDeps } from '../../src/server/delivery-port';
import { Directory } from '../../src/server/directory';
import type { TextDoc, UserDoc } from '../../src/store/documents';
import { FakeClock } from '../../src/util/clock';
import { startSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await sys?.close();
  sys = undefined;
});

describe('reading what a publisher is owed', () => {
  it('RETRIEVE-TEXTS that finds nothing owed moves the cursor: the next read examines none of its own texts', async () => {
    sys = await startSystem();
    const server = sys.pair.a.server;
    const alice = await sys.client();
    await alice.register('alice');
    await alice.subjects('alice', ['mine']);
    const own = 150;
    for (let i = 0; i < own; i++) await alice.publish('alice', 'mine', `note ${i}`);
    // The Store keeps its collections to itself: its reads of `texts` are seen at the driver.
    const reads: Filter<TextDoc>[] = [];
    const find = Collection.prototype.find;
    vi.spyOn(Collection.prototype, 'find').mockImplementation(function (this: Collection, filter?: Filter<Document>, ...rest: never[]) {
      if (this.collectionName === 'texts' && filter) reads.push(filter as Filter<TextDoc>);
      return find.call(this, filter ?? {}, ...rest);
    } as typeof find);
    const texts = (await sys.raw()).texts;
    const examined = async (filter: Filter<TextDoc>) =>
      ((await find.call(texts, filter as Filter<Document>).sort({ _id: 1 }).explain('executionStats')) as Document).executionStats.totalDocsExamined as number;

    expect((await alice.retrieve('alice')).texts).toEqual([]);
    expect(await examined(reads.at(-1)!)).toBeGreaterThanOrEqual(own);
    expect(server.cursors.get('alice')).toBe(server.sequencer.visibleLine);
    // Read again: nothing is examined (the read above the line has no range left, or an empty one).
    const before = reads.length;
    expect((await alice.retrieve('alice')).texts).toEqual([]);
    const again = reads.slice(before);
    for (const filter of again) expect(await examined(filter)).toBeLessThanOrEqual(1);
    // A text owed later still reaches her (pushed, or retrieved): only what lies below the line was skipped.
    const got = new Set<number>();
    alice.on('message', (t: { seq: number }) => got.add(t.seq));
    const bob = await sys.client();
    await bob.register('bob');
    await bob.subjects('bob', ['mine']);
    const hers = await bob.publish('bob', 'mine', 'for alice');
    await expect.poll(async () => {
      for (const t of (await alice.retrieve('alice')).texts) got.add(t.seq);
      return [...got];
    }).toEqual([hers.seq]);
  });

  it("delivery's reload that finds nothing owed moves the cursor to its line; one that finds texts does not", async () => {
    const texts: TextDoc[] = [];
    const directory = new Directory();
    const alice: UserDoc = { _id: 'alice', host: '127.0.0.1', port: 1, dialect: 'native', subjects: ['mine'], since: [{ subject: 'mine', seq: 0 }], createdAt: 0 };
    directory.set(alice);
    const cursors = new Cursors({ saveCursors: async () => {} }, new FakeClock(), () => {});
    cursors.start('alice', 0);
    const port = deliveryPort({
      directory, cursors, sequencer: { visibleLine: 500 },
      store: { owedTexts: async () => ({ texts: [...texts], more: false }) },
      serving: () => true, pushNative: () => true, pushText: () => true, gaveUp: () => {}, failed: () => {},
    } as DeliveryPortDeps);
    expect((await port.pending('alice', 10)).texts).toEqual([]);
    expect(cursors.get('alice')).toBe(500);
    texts.push({ _id: 501, from: 'bob', subject: 'mine', text: 'hi', at: 0, req: 'k', epoch: 1 });
    expect((await port.pending('alice', 10)).texts.map((t) => t._id)).toEqual([501]);
    expect(cursors.get('alice')).toBe(500);
  });
});
