/**
 * The demo pair's operator controls: stop one server abruptly (as if its
 * process were killed), start it again on the same port, switch faults at run time, and
 * the datagram log wired into both servers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startPair } from '../../src/app/pair';
import { startEngine } from '../../src/engine';
import { parseChaosSpec } from '../../src/transport/chaos-spec';
import type { Logger } from '../../src/util/log';
import { nextEvents, systemsClosedAfterEach, aliceAndBob } from '../helpers/system';

const system = systemsClosedAfterEach();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('stopServer / startServer', () => {
  it('a killed serving server is replaced by failover; users keep working through the other; it comes back on its port as standby', async () => {
    const sys = await system();
    const { alice, bob } = await aliceAndBob(sys);
    const port = sys.pair.a.server.address.port;
    expect(sys.pair.a.server.serving).toBe(true);

    const failover = nextEvents<{ reason: string }>(sys.pair.b.server, 'serving', 1, 5000);
    expect(await sys.pair.stopServer('A')).toBe(true);
    expect(sys.pair.running('A')).toBe(false);
    expect(await sys.pair.stopServer('A')).toBe(false);
    expect((await failover)[0]!.reason).toBe('failover');

    const published = await alice.publish('alice', 'news', 'through B');
    const got = await bob.retrieve('bob', { last: 5 });
    expect(got.texts.map((t) => [t.seq, t.text])).toEqual([[published.seq, 'through B']]);

    const restarted = await sys.pair.startServer('A');
    expect(sys.pair.running('A')).toBe(true);
    expect(restarted.server.address.port).toBe(port);
    expect(sys.pair.a).toBe(restarted);
    expect(restarted.server.serving).toBe(false);
    // The restarted A is a full member again: a handoff gives it the period.
    const serving = nextEvents<{ reason: string }>(restarted.server, 'serving', 1, 5000);
    // Let A look at the lease once first (it then reports the lease's time left): a restarted server that
    // finds itself the holder on its first look takes the lease for one from before its restart and gives it back (role.ts).
    await expect.poll(() => restarted.server.status().timeLeftOf).toBe('lease');
    expect(await sys.pair.b.server.handoff()).toBe(true);
    expect((await serving)[0]!.reason).toBe('handoff');
    await alice.publish('alice', 'news', 'through A again');
    expect((await bob.retrieve('bob', { last: 5 })).texts.map((t) => t.text)).toEqual(['through B', 'through A again']);
  });

  it('starting a running server changes nothing; close() skips a stopped one', async () => {
    const sys = await system();
    const b = sys.pair.b;
    const address = b.server.address;
    expect(await sys.pair.startServer('B')).toBe(b);
    expect(sys.pair.b).toBe(b);
    expect(sys.pair.running('B')).toBe(true);
    expect(b.server.address).toEqual(address);

    let closes = 0;
    const close = b.close.bind(b);
    b.close = () => {
      closes++;
      return close();
    };
    expect(await sys.pair.stopServer('B')).toBe(true);
    expect(closes).toBe(1);
    // Closing the pair closes A and leaves the stopped B alone (closing its store twice would throw).
    await sys.pair.close();
    expect(closes).toBe(1);
    expect(sys.pair.running('A')).toBe(false);
  });
});

describe('setChaos', () => {
  it('turns faults on and off on both servers, and a restarted server gets the faults in force', async () => {
    const sys = await system();
    const c = await sys.client({ policy: { ackTimeoutMs: 30, maxRetransmit: 2, exchangeLifetimeMs: 400 } });
    await c.register('carol');
    sys.pair.setChaos(parseChaosSpec('drop=1'));
    expect(sys.pair.a.chaos.spec?.in.drop).toBe(1);
    await expect(c.subjects('carol', ['x'])).rejects.toThrow();
    expect(sys.pair.a.chaos.stats!.in.dropped).toBeGreaterThan(0);

    await sys.pair.stopServer('B');
    const b = await sys.pair.startServer('B');
    expect(b.chaos.spec?.out.drop).toBe(1);

    sys.pair.setChaos(undefined);
    expect(sys.pair.a.chaos.spec).toBeUndefined();
    expect(b.chaos.spec).toBeUndefined();
    expect((await c.subjects('carol', ['x'])).subjects).toEqual(['x']);
  });
});

describe('datagram log', () => {
  it('both servers log what they send and receive, with their tag', async () => {
    const engine = await startEngine({ port: 0 });
    cleanup.push(() => engine.close());
    const records: Record<string, unknown>[] = [];
    const make = (bindings: object): Logger => ({
      debug: (obj, msg) => void records.push({ ...bindings, ...obj, msg }),
      info: () => {}, warn: () => {}, error: () => {},
      child: (more) => make({ ...bindings, ...more }),
    });
    const pair = await startPair({
      mongoUri: engine.uri, portA: 0, portB: 0, period: 600_000, dbName: `pairlog_${process.pid}`, logger: make({}),
      roleTiming: { leaseTtl: 600, renewEvery: 100, pollEvery: 50, safetyMargin: 200 },
    });
    cleanup.unshift(() => pair.close());
    const { RssClient } = await import('../../src/client/client');
    const c = await RssClient.open({ servers: [pair.a.server.address, pair.b.server.address], bind: { host: '127.0.0.1', port: 0 } });
    cleanup.unshift(() => c.close());
    await c.register('dora');
    const datagrams = records.filter((r) => r.component === 'udp');
    expect(datagrams).toContainEqual(expect.objectContaining({ server: 'A', dir: 'in', dialect: 'native', type: 'REGISTER', name: 'dora', msg: 'datagram received' }));
    expect(datagrams).toContainEqual(expect.objectContaining({ server: 'A', dir: 'out', dialect: 'native', type: 'REGISTERED', name: 'dora', msg: 'datagram sent' }));
    // The client asks both servers at first: the standby received it too.
    expect(datagrams).toContainEqual(expect.objectContaining({ server: 'B', dir: 'in', type: 'REGISTER' }));
  });
});

describe('inspect() and users(): what the command line may look at', () => {
  it('inspect(): a server as plain data (tag, address, role, epoch, lease time, pushes), a copy the caller cannot change it through', async () => {
    const sys = await system();
    const { alice } = await aliceAndBob(sys);
    const a = sys.pair.a.inspect();
    expect(a).toMatchObject({ tag: 'A', address: sys.pair.a.server.address, serving: true, leaseTtl: 600 });
    expect(a.epoch).toBeGreaterThan(0);
    expect(sys.pair.b.inspect()).toMatchObject({ tag: 'B', address: sys.pair.b.server.address, serving: false, leaseTtl: 600 });
    const sentBefore = a.pushes.sent;
    await alice.publish('alice', 'news', 'pushed to bob');
    await expect.poll(() => sys.pair.a.inspect().pushes.sent).toBe(sentBefore + 1);
    expect(sys.pair.b.inspect().pushes).toEqual({ sent: 0, retransmissions: 0, givenUp: 0 });
    a.address.port = 1;
    a.pushes.sent = -1;
    expect(sys.pair.a.server.address.port).not.toBe(1);
    expect(sys.pair.a.inspect().pushes.sent).toBe(sentBefore + 1);
  });

  it('users(): the serving server\'s with online flags; while none serves, the store\'s without; none running: undefined', async () => {
    // A long lease: once A is stopped, B stays standby for the whole test.
    const sys = await system({ roleTiming: { leaseTtl: 60_000 } });
    await aliceAndBob(sys);
    const carol = await sys.client();
    await carol.register('carol');
    await carol.subjects('carol', ['sport', 'chess']);
    expect(await sys.pair.users()).toStrictEqual({
      live: true,
      users: [
        { name: 'alice', dialect: 'native', subjects: ['news'], online: true },
        { name: 'bob', dialect: 'native', subjects: ['news'], online: true },
        { name: 'carol', dialect: 'native', subjects: ['sport', 'chess'], online: true },
      ],
    });
    await sys.pair.stopServer('A');
    expect(await sys.pair.users()).toStrictEqual({
      live: false,
      users: [
        { name: 'alice', dialect: 'native', subjects: ['news'] },
        { name: 'bob', dialect: 'native', subjects: ['news'] },
        { name: 'carol', dialect: 'native', subjects: ['sport', 'chess'] },
      ],
    });
    await sys.pair.stopServer('B');
    expect(await sys.pair.users()).toBeUndefined();
  });
});
