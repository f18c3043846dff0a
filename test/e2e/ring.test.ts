/**
 * A ring of three servers in one process, as users of each dialect meet
 * it: a canonical text client follows CHANGE-SERVER's address to the third
 * server; a native client learns the ring from REGISTERED; a pickle client
 * registering makes the server warn that it cannot follow a ring; `rss
 * status` asks all three.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { startGroup, type StartedGroup } from '../../src/app/pair';
import { queryStatus } from '../../src/client/status';
import { peerKeyOf } from '../../src/server/peer-key';
import { encodeNative } from '../../src/protocol/native';
import { RssClient } from '../../src/client/client';
import { startEngine, type RunningEngine } from '../../src/engine';
import { writePickle } from '../../src/protocol/pickle/writer';
import type { Logger } from '../../src/util/log';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A logger that keeps the warnings. */
function recordingLogger(warnings: string[]): Logger {
  const log: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (_o, msg) => void warnings.push(msg ?? ''), child: () => log };
  return log;
}

const SECRET = 'ring test peer secret';

/** With `peerSecret` the servers take it (then STATUS needs it too); otherwise one is made for the run. */
async function ring(warnings: string[] = [], peerSecret?: string): Promise<{ group: StartedGroup; engine: RunningEngine }> {
  const engine = await startEngine({ port: 0 });
  cleanup.push(() => engine.close());
  const group = await startGroup({
    mongoUri: engine.uri, ports: [0, 0, 0], period: 600_000, dbName: `ring_${process.pid}_${Date.now()}`,
    logger: recordingLogger(warnings),
    ...(peerSecret ? { security: { peerSecret } } : {}),
  });
  cleanup.push(() => group.close());
  // Every server has seen the others' heartbeats move.
  for (const t of group.tags) await expect.poll(() => group.get(t).server.succession.liveOthers().length, { timeout: 5000 }).toBe(2);
  return { group, engine };
}

async function udpPeer(): Promise<{ socket: Socket; port: number; inbox: string[] }> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const inbox: string[] = [];
  socket.on('message', (b) => inbox.push(b.toString('latin1')));
  cleanup.push(() => new Promise<void>((r) => socket.close(() => r())));
  return { socket, port: socket.address().port, inbox };
}

describe('a ring of three servers', () => {
  it('turns go A → B → C; a text client follows CHANGE-SERVER to C; a native client knows all three from REGISTERED', async () => {
    const warnings: string[] = [];
    const { group } = await ring(warnings);
    const [A, B, C] = group.tags.map((t) => group.get(t).server);
    expect(A!.serving).toBe(true);
    const tim = await udpPeer();
    tim.socket.send(`REGISTER 1 tim 127.0.0.1 ${tim.port}`, A!.address.port, '127.0.0.1');
    await expect.poll(() => tim.inbox).toContain('REGISTERED 1');
    // A second datagram from its address validates it (then it may be sent CHANGE-SERVER).
    tim.socket.send('SUBJECTS 2 tim news', A!.address.port, '127.0.0.1');
    await expect.poll(() => tim.inbox).toContain('SUBJECTS-UPDATED 2 tim news');
    const nat = await RssClient.open({ servers: [A!.address, B!.address], bind: { host: '127.0.0.1', port: 0 } });
    cleanup.push(() => nat.close());
    const reg = await nat.register('nat');
    expect(reg.ring?.map((m) => m.tag)).toEqual(['A', 'B', 'C']);
    expect(nat.servers).toEqual([A!.address, B!.address, C!.address]);
    // Its address answered the CHALLENGE (pushes such as CHANGE-SERVER go to validated addresses only).
    await expect.poll(() => A!.directory.get('nat')?.addrOk).toBe(true);

    expect(await A!.handoff()).toBe(true);
    await expect.poll(() => B!.serving).toBe(true);
    expect(await B!.handoff()).toBe(true);
    await expect.poll(() => C!.serving).toBe(true);
    await expect.poll(() => tim.inbox).toContain(`CHANGE-SERVER ${B!.address.host} ${B!.address.port}`);
    await expect.poll(() => tim.inbox).toContain(`CHANGE-SERVER ${C!.address.host} ${C!.address.port}`);
    await expect.poll(() => nat.currentServer).toEqual(C!.address);
    expect((await nat.status()).status.tag).toBe('C');

    // The ring skips a server that went silent: with A down, C hands over to B.
    await group.stopServer('A');
    await expect.poll(() => C!.succession.nextLive(), { timeout: 5000 }).toBe('B');
    expect(await C!.handoff()).toBe(true);
    await expect.poll(() => B!.serving).toBe(true);
    // Every TAKEOVER carried the same ring as the receiver's.
    expect(warnings.filter((w) => /another ring/.test(w))).toEqual([]);
  });

  it('a TAKEOVER (MACed with the peer secret) from a server configured with another ring is reported once', async () => {
    const warnings: string[] = [];
    const { group } = await ring(warnings, SECRET);
    const a = group.get('A').server;
    const sender = await udpPeer();
    const other = group.get('B').server.address;
    const send = (ctr: number) => {
      const bytes = encodeNative({ type: 'TAKEOVER', from: 'B', epoch: 1, ring: [{ tag: 'A', ...a.address }, { tag: 'B', ...other }] }, { ctr }, peerKeyOf(SECRET));
      sender.socket.send(bytes, a.address.port, a.address.host);
    };
    const reported = () => warnings.filter((w) => w === 'a server is configured with another ring than this one').length;
    send(Date.now() * 1000);
    await expect.poll(reported).toBe(1);
    send(Date.now() * 1000 + 1);
    // A STATUS round trip to A after the second TAKEOVER: by its answer, A has handled both.
    const [after] = await queryStatus([a.address], { timeoutMs: 2000, peerSecret: SECRET });
    expect(after!.status?.forgedPeer).toBe(0);
    expect(reported()).toBe(1);
    expect(a.serving).toBe(true);
  });

  it('warns when a pickle client registers (it cannot follow more than two servers); rss status asks all three', async () => {
    const warnings: string[] = [];
    const { group } = await ring(warnings);
    const pam = await udpPeer();
    const a = group.get('A').server.address;
    const register = writePickle({ TYPE: 'REGISTER', 'RQ#': 1, NAME: 'pam', IP: '127.0.0.1', PORT: pam.port });
    pam.socket.send(register, a.port, a.host);
    await expect.poll(() => pam.inbox.length).toBe(1);
    expect(warnings.filter((w) => /pickle client "pam" registered in a ring of 3 servers: it can follow only two/.test(w))).toHaveLength(1);

    const reports = await queryStatus(group.tags.map((t) => group.get(t).server.address), { timeoutMs: 2000 });
    expect(reports.map((r) => [r.tag, r.status?.role])).toEqual([['A', 'serving'], ['B', 'standby'], ['C', 'standby']]);
    expect(reports[0]!.status).toMatchObject({ ring: 'A B C', live: 'A B C' });
  });
});
