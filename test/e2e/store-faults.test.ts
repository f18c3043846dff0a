/**
 * The pair rides through faults of its own store (a TCP fault proxy between
 * the servers and the engine, in one process): while the store is away the
 * serving server stops acknowledging, no server crashes or keeps a lease it
 * does not act on, and the pair serves again within seconds of the store's
 * return, without a restart; nothing acknowledged is lost.
 */
import { describe, expect, it } from 'vitest';
import type { RssClient, ReceivedText } from '../../src/client/client';
import { aliceAndBob, systemsClosedAfterEach, type TestSystem } from '../helpers/system';

const system = systemsClosedAfterEach();

/** Which server serves now (undefined: none). */
function servingNow(sys: TestSystem): 'A' | 'B' | undefined {
  if (sys.pair.a.server.serving) return 'A';
  if (sys.pair.b.server.serving) return 'B';
  return undefined;
}

/** Alice publishes `n` texts one after another (each retried by the client until acknowledged or given up). */
async function publishSome(alice: RssClient, n: number, tag: string, acked: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    try {
      acked.push((await alice.publish('alice', 'news', `${tag}#${i}`)).seq);
    } catch {
      // Not acknowledged (the store was away for the whole retry schedule): owed nothing.
    }
  }
}

describe('store faults', () => {
  it('store down across a handoff: nobody acknowledges, nobody crashes; serving again soon after it is back; nothing acknowledged lost', async () => {
    const sys = await system({ storeProxy: true, period: 1000 });
    const { alice, bob } = await aliceAndBob(sys);
    const got: ReceivedText[] = [];
    bob.on('message', (t) => got.push(t));
    await bob.listen('bob');
    const acked: number[] = [];
    await publishSome(alice, 5, 'before', acked);
    sys.proxy!.down();
    // Across at least one period end: the handoff cannot move the lease.
    await expect.poll(() => servingNow(sys), { timeout: 5000 }).toBeUndefined();
    const downFor = Date.now();
    await expect.poll(() => Date.now() - downFor, { timeout: 5000 }).toBeGreaterThan(2000);
    sys.proxy!.up();
    const back = Date.now();
    await expect.poll(() => servingNow(sys), { timeout: 10_000, interval: 20 }).toBeDefined();
    const toServe = Date.now() - back;
    console.info(`store-faults: serving again ${toServe} ms after the store came back`);
    expect(toServe).toBeLessThan(5000);
    await publishSome(alice, 5, 'after', acked);
    expect(acked.length).toBeGreaterThanOrEqual(10);
    await expect.poll(() => got.map((t) => t.seq), { timeout: 10_000 }).toEqual(acked);
    // Both servers are alive (their sockets answer status), and counted what failed.
    const errors = [sys.pair.a.server, sys.pair.b.server].map((s) => s.status().errors as Record<string, number>);
    expect(Object.keys({ ...errors[0], ...errors[1] }).length).toBeGreaterThan(0);
  }, 40_000);

  it('a takeover whose loading fails steps down: the other server takes the lease back instead of the pair stalling', async () => {
    const sys = await system({ storeProxy: true });
    const { alice } = await aliceAndBob(sys);
    const first = sys.pair.a.server;
    const second = sys.pair.b.server;
    second.store.loadUsers = () => Promise.reject(new Error('injected: store failed while loading users'));
    expect(await first.handoff()).toBe(true);
    // B holds the lease but cannot serve: it stops renewing, and A takes over when the lease expires.
    await expect.poll(() => first.serving, { timeout: 10_000 }).toBe(true);
    expect(second.faults.counts.takeover).toBeGreaterThanOrEqual(1);
    expect(second.serving).toBe(false);
    expect((await alice.publish('alice', 'news', 'after the failed takeover')).seq).toBeGreaterThan(0);
  }, 30_000);

  it('a takeover that fails alone is tried again after its hold-off', async () => {
    const sys = await system({ storeProxy: true });
    const { alice } = await aliceAndBob(sys);
    const second = sys.pair.b.server;
    const load = second.store.loadUsers.bind(second.store);
    let failures = 2;
    second.store.loadUsers = async () => {
      if (failures-- > 0) throw new Error('injected: store failed while loading users');
      return load();
    };
    // A dies: B's failover takeover fails twice, then succeeds.
    await sys.pair.stopServer('A');
    await expect.poll(() => second.serving, { timeout: 15_000 }).toBe(true);
    expect(second.faults.counts.takeover).toBe(2);
    expect((await alice.publish('alice', 'news', 'after the retried takeover')).seq).toBeGreaterThan(0);
  }, 30_000);

  it('a stop ends within a bounded time even when the store went silent (blackholed) under a request', async () => {
    const sys = await system({ storeProxy: true });
    const { alice } = await aliceAndBob(sys);
    sys.proxy!.blackhole();
    // A publish now waits on a store that never answers.
    const pending = alice.publish('alice', 'news', 'into the blackhole').catch((err: unknown) => err);
    await expect.poll(() => sys.pair.a.server.counters.requests + sys.pair.b.server.counters.requests).toBeGreaterThan(4);
    const stopping = Date.now();
    await sys.pair.close();
    expect(Date.now() - stopping).toBeLessThan(6000);
    await alice.close();
    await pending;
  }, 30_000);
});
