/**
 * The two servers of a pair must share one store. Two stores (two servers
 * started without one shared --mongo) would make two disjoint systems that
 * both serve: each server finds out by asking the other which store it uses,
 * says so, and refuses to serve. Status reports what the store holds, on the
 * standby too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type StartedServer } from '../../src/app/pair';
import { startEngine, type RunningEngine } from '../../src/engine';
import { encodeNative } from '../../src/protocol/native';
import { openUdp } from '../../src/transport/udp';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort, rss } from '../helpers/processes';
import { rawPeer, type RawPeer } from '../helpers/raw';
import { aliceAndBob, systemsClosedAfterEach } from '../helpers/system';

const system = systemsClosedAfterEach();
const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const roleTiming = { leaseTtl: 600, renewEvery: 100, pollEvery: 50, safetyMargin: 200 };
const storeCheck = { every: 100, forgetAfter: 800 };

/** Servers A and B on one engine but each with its own database: two stores. */
async function splitPair(): Promise<{ a: StartedServer; b: StartedServer; engine: RunningEngine }> {
  const engine = await startEngine({ port: 0 });
  open.push(engine);
  const ta = await openUdp({ host: '127.0.0.1', port: 0 });
  const tb = await openUdp({ host: '127.0.0.1', port: 0 });
  const common = { host: '127.0.0.1', mongoUri: engine.uri, period: 600_000, roleTiming, storeCheck };
  const a = await startServer({ ...common, tag: 'A', port: ta.address().port, peer: tb.address(), dbName: `split_a_${process.pid}` }, ta);
  open.push(a);
  const b = await startServer({ ...common, tag: 'B', port: tb.address().port, peer: ta.address(), dbName: `split_b_${process.pid}` }, tb);
  open.push(b);
  return { a, b, engine };
}

describe('a pair that does not share one store', () => {
  it('both servers say so and refuse to serve; the remaining one serves again once the other is gone', async () => {
    const { a, b } = await splitPair();
    const refusals: string[] = [];
    a.server.on('store-mismatch', (e) => e && refusals.push(`A ${e.message}`));
    await expect.poll(() => [a.server.status().role, b.server.status().role], { timeout: 5000 }).toEqual(['refusing', 'refusing']);
    expect(a.server.serving || b.server.serving).toBe(false);
    expect(a.server.status().refusing).toMatch(/uses a different store .* refusing to serve until both share one store/);

    // Nobody answers a user: there is no serving server.
    const tim: RawPeer = await rawPeer();
    open.push(tim);
    tim.send(Buffer.from(`REGISTER 1 tim 127.0.0.1 ${tim.address.port}`), a.server.address);
    tim.send(Buffer.from(`REGISTER 1 tim 127.0.0.1 ${tim.address.port}`), b.server.address);
    await expect.poll(() => a.server.counters.ignored + b.server.counters.ignored).toBe(2);
    expect(tim.inbox).toEqual([]);

    // B stops: after a silence A takes part in the lease again and serves.
    await b.close();
    open.splice(open.indexOf(b), 1);
    await expect.poll(() => a.server.serving, { timeout: 5000 }).toBe(true);
    expect(refusals).toHaveLength(1);
  });

  it('a stranger cannot make a server refuse: answers must come from the peer address and echo a question', async () => {
    const sys = await system();
    const [A, B] = sys.servers;
    const eve = await rawPeer();
    open.push(eve);
    for (const nonce of ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB']) {
      eve.send(encodeNative({ type: 'STORE-CHECK-REPLY', from: 'B', nonce, store: 'CCCCCCCCCCCCCCCCCCCCCC' }), A);
    }
    // A STORE-CHECK from a stranger is not answered either.
    eve.send(encodeNative({ type: 'STORE-CHECK', from: 'B', nonce: 'DDDDDDDDDDDDDDDDDDDDDD', store: 'CCCCCCCCCCCCCCCCCCCCCC' }), B);
    await expect.poll(() => sys.pair.a.server.status().role).toBe('serving');
    await aliceAndBob(sys);
    expect(eve.inbox).toEqual([]);
    expect(sys.pair.b.server.status().role).toBe('standby');
  });
});

describe('rss server', () => {
  it('two servers started without --mongo each say loudly that the other uses a different store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rss-split-'));
    open.push({ close: () => rm(dir, { recursive: true, force: true }) });
    const [pa, pb] = [await freeUdpPort(), await freeUdpPort()];
    const start = (role: 'A' | 'B', port: number, peer: number) => {
      const child = rss(['server', '--role', role, '--port', String(port), '--peer', `127.0.0.1:${peer}`, '--data-dir', join(dir, role), '--log-level', 'error']);
      open.push({ close: () => child.kill() });
      return child;
    };
    const a = start('A', pa, pb);
    const b = start('B', pb, pa);
    for (const [role, child] of [['A', a], ['B', b]] as const) {
      await child.waitFor(new RegExp(`^${role} REFUSES TO SERVE: the other server \\(127\\.0\\.0\\.1:\\d+\\) uses a different store`), 15_000);
    }
  }, 30_000);
});

describe('status', () => {
  it('reports the users the store holds, on the standby as on the serving server', async () => {
    const sys = await system();
    await aliceAndBob(sys);
    const [a, b] = await Promise.all([sys.pair.a.server.statusReport(), sys.pair.b.server.statusReport()]);
    expect([a.role, a.users, b.role, b.users]).toEqual(['serving', 2, 'standby', 2]);
  });
});
