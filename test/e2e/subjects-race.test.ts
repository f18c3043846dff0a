/**
 * SUBJECTS racing publishes: a subject added while the user's write is
 * still out. Its `since` is the number issued when the request ran, so a
 * text on it released during the write is owed; it must be pushed then (a
 * later push, acknowledged, moves the cursor past it: skipped once, it
 * would never be pushed nor retrieved). Real servers, real handlers, the
 * store's user write held open while PUBLISH and ACK go on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ReceivedText } from '../../src/client/client';
import { decodeTextMessage, encodeTextRequest } from '../../src/protocol/text';
import { rawPeer, type RawPeer } from '../helpers/raw';
import type { StorePort } from '../../src/server/store-port';
import { owedTo } from '../helpers/owed';
import { startSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem | undefined;
let peer: RawPeer | undefined;
afterEach(async () => {
  peer?.close();
  peer = undefined;
  await sys?.close();
  sys = undefined;
});

/**
 * Hold the next write of `name`'s subjects until `release()`. With `failing`:
 * that write and every retry of it fail until `heal()`.
 */
function holdUserWrite(store: Pick<StorePort, 'updateUser'>, name: string, failing = false) {
  const original = store.updateUser.bind(store);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const held = { entered: false, failures: 0, release, heal: () => (store.updateUser = original) };
  store.updateUser = async (who, set) => {
    if (who !== name || !set.subjects) return original(who, set);
    if (!failing) store.updateUser = original;
    held.entered = true;
    await gate;
    if (failing) {
      held.failures++;
      throw new Error('store away');
    }
    return original(who, set);
  };
  return held;
}

/** A system with alice (publisher) and bob (listening, pushes collected) on these subjects. */
async function aliceAndBob(hers: string[], his: string[]) {
  sys = await startSystem();
  const alice = await sys.client();
  const bob = await sys.client();
  await alice.register('alice');
  await bob.register('bob');
  await alice.subjects('alice', hers);
  await bob.subjects('bob', his);
  await bob.listen('bob');
  const got: number[] = [];
  bob.on('message', (t: ReceivedText) => got.push(t.seq));
  return { server: sys.pair.a.server, alice, bob, got };
}

describe('SUBJECTS while texts are published', () => {
  it('a text on an added subject released during the write is pushed, before a later one that is acknowledged', async () => {
    const { server, alice, bob, got } = await aliceAndBob(['s', 't'], ['s']);

    const held = holdUserWrite(server.store, 'bob');
    const adding = bob.subjects('bob', ['s', 't']);
    await expect.poll(() => held.entered).toBe(true);
    const m = (await alice.publish('alice', 't', 'owed: published after bob added t')).seq;
    const k = (await alice.publish('alice', 's', 'on the subject bob had')).seq;
    // k is pushed and acknowledged while the write is still out (its ACK moves bob's cursor to k).
    await expect.poll(() => got.includes(k)).toBe(true);
    held.release();
    await adding;
    await expect.poll(() => got).toEqual([m, k]);
    await expect.poll(() => owedTo(server, 'bob')).toEqual([]);
    expect((await bob.retrieve('bob')).texts).toEqual([]);
  });

  it('a failed write leaves the old subjects, and nothing owed under them is lost', async () => {
    const { server, alice, bob, got } = await aliceAndBob(['s', 't', 'u'], ['s', 'u']);

    // Dropping u and adding t; the write fails after texts on all three went out.
    const held = holdUserWrite(server.store, 'bob', true);
    const changing = bob.subjects('bob', ['s', 't']);
    await expect.poll(() => held.entered).toBe(true);
    const onU = (await alice.publish('alice', 'u', 'still owed if the change fails')).seq;
    const onS = (await alice.publish('alice', 's', 'owed either way')).seq;
    await expect.poll(() => got.includes(onS)).toBe(true);
    held.release();
    // Between the client's attempts, bob's entry is the old one again.
    await expect.poll(() => held.failures).toBeGreaterThan(0);
    await expect.poll(() => server.directory.get('bob')?.subjects).toEqual(['s', 'u']);
    // u was kept in bob's entry while the write was out: its text was pushed in order, not skipped.
    expect(got.filter((n) => n <= onS)).toContain(onU);
    await expect.poll(() => owedTo(server, 'bob')).toEqual([]);
    held.heal();
    await changing;
    expect(server.directory.get('bob')?.subjects).toEqual(['s', 't']);
  });

  it('the same for a canonical text user: a push counts as received when it goes out, so a skipped text would be lost', async () => {
    sys = await startSystem();
    const server = sys.pair.a.server;
    const alice = await sys.client();
    await alice.register('alice');
    await alice.subjects('alice', ['s', 't']);
    const tom = (peer = await rawPeer());
    const kinds = () => tom.inbox.map((d) => decodeTextMessage(d.bytes));
    // The canonical text MESSAGE carries no sequence number: told apart by text.
    const pushed = () => kinds().flatMap((m) => (m.type === 'MESSAGE' ? [m.text] : []));
    const answered = (type: string) => kinds().some((m) => m.type === type);
    tom.send(encodeTextRequest({ type: 'REGISTER', rq: 1, name: 'tom', ...tom.address }), sys.servers[0]);
    await expect.poll(() => answered('REGISTERED')).toBe(true);
    tom.send(encodeTextRequest({ type: 'SUBJECTS', rq: 2, name: 'tom', subjects: ['s'] }), sys.servers[0]);
    await expect.poll(() => answered('SUBJECTS-UPDATED')).toBe(true);

    const held = holdUserWrite(server.store, 'tom');
    tom.send(encodeTextRequest({ type: 'SUBJECTS', rq: 3, name: 'tom', subjects: ['s', 't'] }), sys.servers[0]);
    await expect.poll(() => held.entered).toBe(true);
    await alice.publish('alice', 't', 'owed to tom');
    await alice.publish('alice', 's', 'tom had s');
    await expect.poll(() => pushed().includes('tom had s')).toBe(true);
    held.release();
    await expect.poll(() => kinds().filter((x) => x.type === 'SUBJECTS-UPDATED').length).toBe(2);
    expect(pushed()).toEqual(['owed to tom', 'tom had s']);
    await expect.poll(() => owedTo(server, 'tom')).toEqual([]);
  });
});
