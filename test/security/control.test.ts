/**
 * Issue "one forged CHANGE-SERVER can send every client to an attacker",
 * "nobody can order a server to hand over or take over": control messages
 * are believed only with a MAC — the user's key for CHANGE-SERVER, the peer
 * secret for TAKEOVER — whoever seems to send them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryKeyRing } from '../../src/client/keys';
import { RssClient } from '../../src/client/client';
import { encodeNative } from '../../src/protocol/native';
import type { Logger } from '../../src/util/log';
import { rawPeer, type RawPeer } from '../helpers/raw';
import { startSystem, type TestSystem } from '../helpers/system';

/** A logger that keeps the debug messages: what a client dropped, and why. */
function debugMessages(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const ignore = () => {};
  const logger: Logger = { debug: (_o, msg) => void (msg && messages.push(msg)), info: ignore, warn: ignore, error: ignore, child: () => logger };
  return { logger, messages };
}

let sys: TestSystem;
const peers: RawPeer[] = [];
const extra: RssClient[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await Promise.all(extra.splice(0).map((c) => c.close()));
  await sys.close();
});

describe('forged control messages', () => {
  it('a CHANGE-SERVER from a stranger, or unMACed from a known server address, does not move a native client', async () => {
    sys = await startSystem();
    const [A, B] = sys.servers;
    const keys = new MemoryKeyRing();
    const aliceLog = debugMessages();
    const alice = await sys.client({ keys, logger: aliceLog.logger });
    await alice.register('alice');
    expect(alice.currentServer).toEqual(A);

    const stranger = await rawPeer();
    peers.push(stranger);
    stranger.send(encodeNative({ type: 'CHANGE-SERVER', host: B.host, port: B.port, tag: 'B', epoch: 99, to: 'alice' }), alice.localAddress);
    await expect.poll(() => aliceLog.messages).toContain('datagram from a stranger dropped');
    expect(alice.currentServer).toEqual(A);

    // A client whose server "A" is the attacker's socket: a known address, but no key behind it.
    const fakeA = await rawPeer();
    peers.push(fakeA);
    const victim = await RssClient.open({ servers: [fakeA.address, A], bind: { host: '127.0.0.1', port: 0 }, keys });
    extra.push(victim);
    await victim.who('alice'); // the real server answers, MACed: it is current, and its epoch is known
    expect(victim.currentServer).toEqual(A);
    const change = { type: 'CHANGE-SERVER' as const, host: fakeA.address.host, port: fakeA.address.port, tag: 'A' as const, epoch: 100, to: 'alice' };
    fakeA.send(encodeNative(change), victim.localAddress);
    fakeA.send(encodeNative(change, {}, Buffer.alloc(32, 1)), victim.localAddress);
    fakeA.send(encodeNative({ type: 'UPDATE-SERVER', host: '127.0.0.1', port: 9, tag: 'B', to: 'alice' }), victim.localAddress);
    await expect.poll(() => victim.forgedDropped).toBe(3);
    expect(victim.currentServer).toEqual(A);
    expect(victim.servers[1]).toEqual(A);
    // The same message MACed with alice's key is believed: the MAC, not the address, is the proof.
    fakeA.send(encodeNative(change, {}, keys.get('alice')), victim.localAddress);
    await expect.poll(() => victim.currentServer).toEqual(fakeA.address);
  });

  it('a forged TAKEOVER moves no serving role', async () => {
    sys = await startSystem();
    const [A, B] = sys.servers;
    const lease = async () => sys.pair.a.store.readLease();
    const before = await lease();
    const attacker = await rawPeer();
    peers.push(attacker);
    const ctr = Date.now() * 1000;
    attacker.send(encodeNative({ type: 'TAKEOVER', from: 'A', epoch: before!.epoch + 1 }, { ctr }), B);
    attacker.send(encodeNative({ type: 'TAKEOVER', from: 'A', epoch: before!.epoch + 1 }, { ctr: ctr + 1 }, Buffer.alloc(32, 3)), B);
    attacker.send(encodeNative({ type: 'TAKEOVER', from: 'B', epoch: before!.epoch + 1 }, { ctr: ctr + 2 }), A);
    attacker.send(encodeNative({ type: 'TAKEOVER', from: 'B', epoch: before!.epoch + 1 }, { ctr: ctr + 3 }, Buffer.alloc(32, 3)), A);
    // Each server counts every forgery it refused: then the role and the lease are checked, unmoved.
    await expect.poll(() => [sys.pair.a.server.status().forgedPeer, sys.pair.b.server.status().forgedPeer]).toEqual([2, 2]);
    expect(sys.pair.a.server.serving).toBe(true);
    expect(sys.pair.b.server.serving).toBe(false);
    expect(await lease()).toMatchObject({ holder: 'A', epoch: before!.epoch });
    // The real handoff still works: its TAKEOVER carries the peer secret's MAC.
    expect(await sys.pair.a.server.handoff()).toBe(true);
    await expect.poll(() => sys.pair.b.server.serving).toBe(true);
    expect(sys.pair.b.server.status()).toMatchObject({ forgedPeer: 2 });
  });
});
