/**
 * `rss status`: the STATUS request (and its peer-secret MAC), the query of
 * both servers, the operator's table and JSON, and the exit codes, against a
 * real pair after a scripted workload.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { formatDuration, formatStatusTable, registerStatusCommand, runStatusCommand, statusRows } from '../../src/cli/status';
import { queryStatus, statusRequest } from '../../src/client/status';
import { decodeNative, encodeNative, verifyNativeMac } from '../../src/protocol/native';
import { deriveServerKey } from '../../src/protocol/auth';
import { LIMITS } from '../../src/protocol/limits';
import { StatusGate, isLoopback } from '../../src/server/status-gate';
import type { Address } from '../../src/transport/types';
import { freeUdpPort } from '../helpers/processes';
import { rawPeer } from '../helpers/raw';
import { aliceAndBob, systemsClosedAfterEach } from '../helpers/system';
import { memoryIo } from '../helpers/memory-io';

const system = systemsClosedAfterEach();

/**
 * Send the same bytes twice from one socket, the second only once the first was answered: a retransmission
 * the server must answer from its reply cache, not execute. Resolves with the two answers.
 */
async function sendTwice(bytes: Buffer, to: Address): Promise<Buffer[]> {
  const peer = await rawPeer();
  try {
    peer.send(bytes, to);
    await expect.poll(() => peer.inbox.length, { timeout: 5_000 }).toBe(1);
    peer.send(bytes, to);
    await expect.poll(() => peer.inbox.length, { timeout: 5_000 }).toBe(2);
    return peer.inbox.map((d) => d.bytes);
  } finally {
    peer.close();
  }
}

/** Clients that never retransmit on their own (one transmission, a long wait): every duplicate the server counts is the script's. */
const NO_RETRANSMISSION = { policy: { maxRetransmit: 0, ackTimeoutMs: 10_000, maxWaitMs: 10_000 } };

describe('statusRequest', () => {
  it('is a native STATUS with the envelope, and carries an HMAC of the peer secret only when given one', () => {
    const plain = decodeNative(statusRequest(5, { cid: 'op', ctr: 9 }));
    expect(plain.message).toEqual({ type: 'STATUS', rq: 5 });
    expect(plain.envelope).toEqual({ cid: 'op', ctr: 9 });
    expect(plain.mac).toBeUndefined();
    const signed = decodeNative(statusRequest(5, { cid: 'op', ctr: 9 }, 's3cret'));
    expect(verifyNativeMac(signed, deriveServerKey('s3cret', 'rss peer mac'))).toBe(true);
    expect(verifyNativeMac(signed, deriveServerKey('other', 'rss peer mac'))).toBe(false);
    expect(verifyNativeMac(signed, Buffer.from('s3cret'))).toBe(false);
    // Padded, so that the report fits the 3× budget of an address the server has not validated.
    expect(statusRequest(5, { cid: 'op', ctr: 9 }).length).toBeGreaterThanOrEqual(LIMITS.minNativeRequest);
  });
});

describe('the operator\'s table', () => {
  const full = {
    tag: 'A', role: 'serving', epoch: 7, timeLeftMs: 83_000, timeLeftOf: 'period', users: 12, texts: 340, textsPurged: 1500,
    requestsPerSecond: 4.25, pushesPerSecond: 10, retransmissions: 3, duplicates: 2, uptimeSeconds: 3725, store: 'embedded 127.0.0.1:27017/rss',
    errors: { request: 1, lease: 2 }, storeRetries: 5, usersOnline: 4, handoffs: 9, failovers: 1, lastHandoffMs: 6.25, lastTakeoverMs: 12,
  };

  it('reads every field, and "—" for what a server does not report', () => {
    expect(statusRows(full)).toEqual([
      ['role', 'serving'], ['epoch', '7'], ['time left', '1m 23s (period)'], ['users', '12'], ['users online', '4'], ['texts', '340'],
      ['texts deleted', '1500'], ['req/s', '4.3'], ['pushes/s', '10.0'], ['retransmissions', '3'], ['duplicates', '2'],
      ['errors', '3 (lease 2, request 1)'], ['store retries', '5'], ['handoffs', '9'], ['failovers', '1'],
      ['last handoff', '6.3ms'], ['last takeover', '12.0ms'], ['uptime', '1h 02m'],
      ['store', 'embedded 127.0.0.1:27017/rss'],
    ]);
    expect(statusRows({ role: 'standby' }).slice(1).every(([, v]) => v === '—')).toBe(true);
  });

  it('puts the servers side by side and says why one is missing', () => {
    const table = formatStatusTable([
      { tag: 'A', address: { host: '127.0.0.1', port: 5001 }, status: full },
      { tag: 'B', address: { host: '::1', port: 5002 }, error: 'no answer' },
    ]);
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+A 127\.0\.0\.1:5001\s+B \[::1\]:5002$/);
    expect(lines[1]).toMatch(/^role\s+serving\s+no answer$/);
    expect(lines[3]).toMatch(/^time left\s+1m 23s \(period\)$/);
    expect(lines).toHaveLength(20);
  });

  it('formats durations for people', () => {
    expect([850, 9_500, 12_500, 61_000, 3_600_000].map(formatDuration)).toEqual(['850ms', '9.5s', '13s', '1m 01s', '1h 00m']);
  });
});

describe('queryStatus against a running pair', () => {
  it('reports the fields of a scripted workload: users, publishes, duplicates, role and epoch', async () => {
    const sys = await system();
    const { alice, bob } = await aliceAndBob(sys, NO_RETRANSMISSION);
    for (let i = 0; i < 3; i++) await alice.publish('alice', 'news', `text ${i}`);
    await bob.retrieve('bob');
    // Ten requests, each sent once: none of them is a duplicate.
    const [before] = await queryStatus(sys.servers, { timeoutMs: 1500 });
    expect(before!.status).toMatchObject({ duplicates: 0, published: 3 });
    expect(before!.status!.requests as number).toBeGreaterThanOrEqual(10);

    // A retransmitted REGISTER of a third user (without a key: refused): executed once, answered twice, alike.
    const answers = await sendTwice(encodeNative({ type: 'REGISTER', rq: 1, name: 'carl', host: '127.0.0.1', port: 9 }, { cid: 'raw1', ctr: 1 }), sys.servers[0]);
    expect(decodeNative(answers[0]!).message).toMatchObject({ type: 'REGISTER-DENIED', rq: 1 });
    expect(answers[1]!.equals(answers[0]!)).toBe(true);

    const [a] = await queryStatus(sys.servers, { timeoutMs: 1500 });
    expect(a!.tag).toBe('A');
    expect(a!.status).toMatchObject({ tag: 'A', role: 'serving', epoch: 1, users: 2, published: 3, duplicates: 1 });
  });

  it('reports its uptime: the seconds since the server started, growing', async () => {
    const started = Date.now();
    const sys = await system();
    const uptime = async () => (await queryStatus(sys.servers, { timeoutMs: 1500 }))[0]!.status!.uptimeSeconds as number;
    const first = await uptime();
    // Never more than the time since the test started the server.
    expect(first).toBeLessThanOrEqual(Math.round((Date.now() - started) / 1000));
    await expect.poll(uptime, { timeout: 5_000, interval: 250 }).toBeGreaterThan(first);
    expect(await uptime()).toBeLessThanOrEqual(Math.round((Date.now() - started) / 1000));
  });

  it('--json prints both servers and exits 0 when one answered; 2 when none did', async () => {
    const sys = await system();
    const m = memoryIo({ NO_COLOR: '1' });
    expect(await runStatusCommand({ servers: sys.servers, json: true, timeout: 800 }, m.io)).toBe(0);
    const doc = JSON.parse(m.out()) as { ok: boolean; servers: { tag: string; ok: boolean; status?: { role: string } }[] };
    expect(doc.ok).toBe(true);
    expect(doc.servers.map((s) => s.tag)).toEqual(['A', 'B']);
    expect(doc.servers[0]).toMatchObject({ ok: true, status: { role: 'serving' } });

    const dead = memoryIo({ NO_COLOR: '1' });
    const ports = [await freeUdpPort(), await freeUdpPort()];
    const code = await runStatusCommand({ servers: [{ host: '127.0.0.1', port: ports[0]! }, { host: '127.0.0.1', port: ports[1]! }], timeout: 300 }, dead.io);
    expect(code).toBe(2);
    expect(dead.out()).toMatch(/role\s+no answer\s+no answer/);
    expect(dead.err()).toMatch(/no server answered/);
  });

  it('refuses a bad --servers as a usage error', async () => {
    const program = new Command('rss').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerStatusCommand(program);
    for (const c of program.commands) c.exitOverride();
    await expect(program.parseAsync(['status', '--servers', 'nowhere'], { from: 'user' })).rejects.toMatchObject({ code: 'commander.invalidArgument' });
  });

  it('the standby answers STATUS too (role standby, the epoch it last saw, time left in the lease)', async () => {
    const sys = await system();
    // B reports time left in the lease once it has watched the lease (its first look only records the beat).
    // The reports checked below are the ones of that query (both answered it).
    let [a, b] = await queryStatus(sys.servers, { timeoutMs: 1500 });
    await expect.poll(async () => {
      [a, b] = await queryStatus(sys.servers, { timeoutMs: 1500 });
      return [a!.status?.role, b!.status?.timeLeftOf];
    }, { timeout: 10_000 }).toEqual(['serving', 'lease']);
    expect(a!.status).toMatchObject({ role: 'serving', epoch: 1, timeLeftOf: 'period' });
    expect(b!.status).toMatchObject({ tag: 'B', role: 'standby', epoch: 1, timeLeftOf: 'lease', users: 0 });
    // The test pair's lease lives 600 ms; the holder beats every 100 ms.
    expect(b!.status!.timeLeftMs as number).toBeGreaterThan(0);
    expect(b!.status!.timeLeftMs as number).toBeLessThanOrEqual(600);
  });

  it('reports time left in the period, texts stored, requests and pushes per second, retransmissions and the store in use', async () => {
    const sys = await system();
    const { alice } = await aliceAndBob(sys);
    for (let i = 0; i < 4; i++) await alice.publish('alice', 'news', `text ${i}`);
    // The pushes to bob go out after the replies to alice, and rates need the server's first sample.
    // The report checked below is the one that showed them (a query lost on a loaded machine is asked again).
    let s: Record<string, unknown> = {};
    const pushRate = async () => {
      s = (await queryStatus(sys.servers, { timeoutMs: 1500 }))[0]!.status ?? {};
      return s.pushesPerSecond;
    };
    await expect.poll(pushRate, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(s).toMatchObject({ role: 'serving', timeLeftOf: 'period', texts: 4, published: 4 });
    expect(s.timeLeftMs as number).toBeGreaterThan(590_000);
    expect(s.timeLeftMs as number).toBeLessThanOrEqual(600_000);
    expect(s.requestsPerSecond as number).toBeGreaterThan(0);
    expect(s.pushesPerSecond as number).toBeGreaterThan(0);
    expect(s.retransmissions).toEqual(expect.any(Number));
    expect(s.store).toMatch(/^127\.0\.0\.1:\d+\/e2e_\d+_\d+$/);
    expect(String(s.store)).not.toMatch(/mongodb:|@/);
    // The table reads every one of them.
    const rows = Object.fromEntries(statusRows(s));
    expect(rows['time left']).toMatch(/^\d+m \d+s \(period\)$/);
    expect(rows.texts).toBe('4');
  });

  it('refuses STATUS without the peer secret (or from a non-loopback address when none is set), and answers with it', async () => {
    const sys = await system({ security: { peerSecret: 'ops s3cret' } });
    const refused = await queryStatus(sys.servers, { timeoutMs: 1500 });
    // Loopback is told why; both servers refuse, standby included.
    expect(refused.map((r) => r.error)).toEqual(['refused: peer secret required', 'refused: peer secret required']);
    const wrong = await queryStatus(sys.servers, { timeoutMs: 1500, peerSecret: 'guess' });
    expect(wrong.every((r) => r.status === undefined)).toBe(true);
    const ok = await queryStatus(sys.servers, { timeoutMs: 1500, peerSecret: 'ops s3cret' });
    expect(ok.map((r) => r.status?.role)).toEqual(['serving', 'standby']);

    // The same signed datagram again is a replay: refused, not answered twice.
    const key = deriveServerKey('ops s3cret', 'rss peer mac');
    const gate = new StatusGate('ops s3cret', () => 1_000);
    const frame = decodeNative(encodeNative({ type: 'STATUS', rq: 1 }, { cid: 'op', ctr: 1_000_000 }, key));
    expect(gate.check(frame, { host: '10.0.0.7', port: 1 })).toBe('ok');
    expect(gate.check(frame, { host: '10.0.0.7', port: 1 })).toBe('stale counter');
    // A counter far from the server's time is refused as well.
    const old = decodeNative(encodeNative({ type: 'STATUS', rq: 2 }, { cid: 'op', ctr: 1 }, key));
    expect(new StatusGate('ops s3cret', () => 1_000_000).check(old, { host: '10.0.0.7', port: 1 })).toBe('stale counter');

    // Without a configured secret: loopback only.
    const open = new StatusGate(undefined, () => 0);
    const unsigned = decodeNative(encodeNative({ type: 'STATUS', rq: 3 }, { cid: 'op', ctr: 5 }));
    expect(open.check(unsigned, { host: '127.0.0.1', port: 1 })).toBe('ok');
    expect(open.check(unsigned, { host: '::ffff:127.0.0.2', port: 1 })).toBe('ok');
    expect(open.check(unsigned, { host: '192.168.1.5', port: 1 })).toBe('loopback only');
    expect(['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1'].every(isLoopback)).toBe(true);
    expect(['10.0.0.1', '::ffff:10.0.0.1', '128.0.0.1', 'fe80::1', '1127.0.0.1'].some(isLoopback)).toBe(false);
  });

  it('refuses a non-loopback STATUS in silence when no secret is configured', async () => {
    // A server core seen through a fake transport: the request comes from 192.0.2.1.
    const sys = await system();
    const server = (sys.pair.b.server as unknown as { dispatcher: { datagram(b: Buffer, from: { host: string; port: number }): void } }).dispatcher;
    const before = sys.pair.b.server.guard.counters.authFailed;
    server.datagram(statusRequest(9, { cid: 'op', ctr: Date.now() * 1000 }), { host: '192.0.2.1', port: 4000 });
    expect(sys.pair.b.server.guard.counters.authFailed).toBe(before + 1);
  });
});
