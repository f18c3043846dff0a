/**
 * WHO over a real pair: names only (never addresses), online while heard
 * from within the presence window, offline once a user stops answering,
 * and only for the native user that proves its key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startPair, type StartedPair } from '../../src/app/pair';
import { RssClient } from '../../src/client/client';
import { startEngine, type RunningEngine } from '../../src/engine';
import type { Address } from '../../src/transport/types';

const WINDOW_MS = 700;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

let n = 0;
async function system(): Promise<{ pair: StartedPair; servers: [Address, Address]; client(): Promise<RssClient> }> {
  const engine: RunningEngine = await startEngine({ port: 0 });
  cleanup.push(() => engine.close());
  const pair = await startPair({
    mongoUri: engine.uri, portA: 0, portB: 0, period: 600_000, dbName: `who_${process.pid}_${n++}`,
    roleTiming: { leaseTtl: 600, renewEvery: 100, pollEvery: 50, safetyMargin: 200 },
    presenceWindow: WINDOW_MS,
  });
  cleanup.push(() => pair.close());
  const servers: [Address, Address] = [pair.a.server.address, pair.b.server.address];
  return {
    pair, servers,
    async client() {
      const c = await RssClient.open({ servers, bind: { host: '127.0.0.1', port: 0 }, policy: { ackTimeoutMs: 60 } });
      let closed = false;
      const close = c.close.bind(c);
      c.close = async () => {
        if (closed) return;
        closed = true;
        await close();
      };
      cleanup.push(() => c.close());
      return c;
    },
  };
}

describe('WHO', () => {
  it('lists the users sharing a subject, by name only, online while heard from; a closed client goes offline after the window', async () => {
    const sys = await system();
    const [alice, bob, carl, dave] = await Promise.all([sys.client(), sys.client(), sys.client(), sys.client()]);
    await alice.register('alice');
    await bob.register('bob');
    await carl.register('carl');
    await dave.register('dave');
    await alice.subjects('alice', ['news']);
    await bob.subjects('bob', ['news', 'sport']);
    await carl.subjects('carl', ['news']);
    await dave.subjects('dave', ['sport']);

    const first = await alice.who('alice');
    expect(first.users).toEqual([{ name: 'bob', online: true }, { name: 'carl', online: true }]);
    // Names and flags only: no address or anything else of another user.
    for (const u of first.users) expect(Object.keys(u).sort()).toEqual(['name', 'online']);
    expect(sys.pair.a.server.online('bob')).toBe(true);
    expect(sys.pair.a.server.online('nobody')).toBe(false);

    // Bob's client goes away: it no longer answers pushes nor asks anything.
    await bob.close();
    await alice.publish('alice', 'news', 'anyone there?');
    await expect.poll(() => sys.pair.a.server.online('bob'), { timeout: WINDOW_MS + 3000 }).toBe(false);
    // Carl is active (a request within the window); bob is not.
    await carl.retrieve('carl');
    const later = await alice.who('alice');
    expect(later.users).toEqual([{ name: 'bob', online: false }, { name: 'carl', online: true }]);
    // Only the serving server tracks presence: A holds an entry for each of the four, the standby none.
    expect(sys.pair.a.server.status().tracked).toMatchObject({ presence: 4 });
    expect(sys.pair.b.server.status().tracked).toMatchObject({ presence: 0 });
  });

  it('forgets a user that de-registers, and starts empty when serving begins', async () => {
    const sys = await system();
    const [alice, bob] = await Promise.all([sys.client(), sys.client()]);
    await alice.register('alice');
    await bob.register('bob');
    await alice.subjects('alice', ['news']);
    await bob.subjects('bob', ['news']);
    expect((await alice.who('alice')).users).toEqual([{ name: 'bob', online: true }]);
    await bob.deregister('bob');
    expect(sys.pair.a.server.online('bob')).toBe(false);
    expect((await alice.who('alice')).users).toEqual([]);

    // After a handoff the new server has heard from nobody but the asker.
    await bob.register('bob');
    await bob.subjects('bob', ['news']);
    expect(sys.pair.a.server.status().tracked).toMatchObject({ presence: 2 });
    expect(await sys.pair.a.server.handoff()).toBe(true);
    await expect.poll(() => sys.pair.b.server.serving).toBe(true);
    expect((await alice.who('alice')).users).toEqual([{ name: 'bob', online: false }]);
    // The server that stopped serving forgot whom it had heard from.
    expect(sys.pair.a.server.status().tracked).toMatchObject({ presence: 0 });
  });

  it('only the native user proving its key may ask', async () => {
    const sys = await system();
    const alice = await sys.client();
    const eve = await sys.client();
    await alice.register('alice');
    await alice.subjects('alice', ['news']);
    // Another client, without alice's key, asking as alice.
    await expect(eve.who('alice')).rejects.toThrow(/authentication|denied/i);
    await expect(eve.who('nobody')).rejects.toThrow(/unknown name|denied/i);
  });
});
