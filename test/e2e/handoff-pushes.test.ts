/**
 * A planned handoff writes the users' cursors for the next holder: nothing
 * may be pushed after that write (a canonical text user counts a push as
 * received as it goes out; its cursor move would be lost, and the next
 * holder push it again), and a write that fails is tried again, or the
 * handoff is called off with pushes resumed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ReceivedText } from '../../src/client/client';
import { startSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem | undefined;
afterEach(async () => {
  await sys?.close();
  sys = undefined;
});

async function aliceAndBob(s: TestSystem) {
  const alice = await s.client();
  const bob = await s.client();
  await alice.register('alice');
  await bob.register('bob');
  await alice.subjects('alice', ['s']);
  await bob.subjects('bob', ['s']);
  await bob.listen('bob');
  const got: number[] = [];
  bob.on('message', (t: ReceivedText) => got.push(t.seq));
  return { alice, bob, got };
}

describe('pushes at a planned handoff', () => {
  it('a stream reload that completes after the cursors are written pushes nothing; the next holder pushes it once', async () => {
    sys = await startSystem();
    const a = sys.pair.a.server;
    const { alice, got } = await aliceAndBob(sys);
    // bob's stream is reading the log (held open) when a text for him is published.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const owedTexts = a.store.owedTexts.bind(a.store);
    a.store.owedTexts = async (...args) => {
      if (args[3] === 'bob') await gate;
      return owedTexts(...args);
    };
    a.delivery.resume('bob');
    const x = (await alice.publish('alice', 's', 'published while the stream reads')).seq;
    // The cursors are written, then the read completes before the lease moves.
    let pushesAfterWrite = -1;
    const moveLease = a.store.moveLease.bind(a.store);
    a.store.moveLease = async (...args) => {
      const before = a.delivery.stats.pushes;
      release();
      await new Promise((r) => setTimeout(r, 100));
      pushesAfterWrite = a.delivery.stats.pushes - before;
      return moveLease(...args);
    };
    expect(await a.handoff()).toBe(true);
    expect(pushesAfterWrite).toBe(0);
    // Owed still, in the store: the next holder gives it (pushed, or retrieved at the switch), once.
    await expect.poll(() => got).toEqual([x]);
  });

  it('a failed cursor write is tried again; one that keeps failing calls the handoff off and pushes resume', async () => {
    sys = await startSystem();
    const a = sys.pair.a.server;
    const { alice, got } = await aliceAndBob(sys);
    // Cursor writes fail from now on (the coalesced ones too), so bob's cursor is still unwritten at the handoff.
    const saveCursors = a.store.saveCursors.bind(a.store);
    let failures = Infinity;
    a.store.saveCursors = async (writes) => {
      if (failures-- > 0) throw new Error('store away');
      return saveCursors(writes);
    };
    const first = (await alice.publish('alice', 's', 'moves a cursor')).seq;
    await expect.poll(() => got).toEqual([first]);
    await expect.poll(() => a.cursors.get('bob')).toBe(first);
    // Fails twice more, then is written: the handoff goes on, with bob's cursor in the store.
    failures = 2;
    expect(await a.handoff()).toBe(true);
    expect(failures).toBeLessThan(0);
    expect((await a.store.loadUsers()).find((u) => u._id === 'bob')?.cursor).toBe(first);
    await expect.poll(() => sys!.pair.b.server.serving).toBe(true);

    const b = sys.pair.b.server;
    const second = (await alice.publish('alice', 's', 'moves it again')).seq;
    await expect.poll(() => got).toEqual([first, second]);
    b.store.saveCursors = async () => {
      throw new Error('store away for good');
    };
    expect(await b.handoff()).toBe(false);
    expect(b.role.state).toBe('serving');
    await expect.poll(() => b.serving).toBe(true);
    // Pushes resumed: a new text reaches bob from B.
    const third = (await alice.publish('alice', 's', 'after the handoff was called off')).seq;
    await expect.poll(() => got).toEqual([first, second, third]);
  });
});
