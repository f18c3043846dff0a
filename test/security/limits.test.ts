/**
 * Issue "bounded abuse": rate limits per source and per user with a DENIED
 * reason, --require-auth refusing legacy registrations, texts too long for
 * one native datagram refused with a clear reason, and the client's keys
 * kept in a file only its owner can read.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileKeyRing, keyScope, rememberRing, withKnownRing } from '../../src/cli/client-identity';
import { LIMITS } from '../../src/protocol/limits';
import { nativeTextSize } from '../../src/protocol/native';
import { readPickle } from '../../src/protocol/pickle/reader';
import { writePickle } from '../../src/protocol/pickle/writer';
import { rawPeer, type RawPeer } from '../helpers/raw';
import { startSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem | undefined;
const peers: RawPeer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await sys?.close();
  sys = undefined;
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('limits', () => {
  it('a source over its rate limit is DENIED with the reason, and counted', async () => {
    sys = await startSystem({ security: { sourceRate: { burst: 5, perSecond: 1 } } });
    const flood = await rawPeer();
    peers.push(flood);
    // Each at its own address (one address holds only a few legacy users).
    for (let i = 0; i < 12; i++) flood.send(Buffer.from(`REGISTER ${i} u${i} 127.0.0.1 ${40_000 + i}`), sys.servers[0]);
    const texts = (inbox: RawPeer['inbox']) => inbox.map((g) => g.bytes.toString());
    const registered = (r: string[]) => r.filter((t) => t.startsWith('REGISTERED'));
    const limited = (r: string[]) => r.filter((t) => t.endsWith('rate limit exceeded'));
    const arrived = await flood.takeWhen((inbox) => registered(texts(inbox)).length >= 5 && limited(texts(inbox)).length >= 6, '5 REGISTERED and 6 denials');
    // Absence window: no sixth REGISTERED comes later.
    const replies = texts([...arrived, ...(await flood.quiet(100))]);
    expect(registered(replies)).toHaveLength(5);
    expect(limited(replies).length).toBeGreaterThanOrEqual(6);
    expect(sys.pair.a.server.status().rateLimited).toBeGreaterThanOrEqual(6);
    expect(sys.pair.a.server.directory.size).toBe(5);
  });

  it('legacy datagrams from many sources are noted as contacts (written to the store) only within the unauthenticated rate, on either server', async () => {
    sys = await startSystem({ security: { unauthRate: { burst: 5, perSecond: 0.001 } } });
    for (let i = 0; i < 12; i++) {
      const p = await rawPeer();
      peers.push(p);
      // To the standby, which answers nothing but notes who spoke (a pickle client announces itself to both).
      p.send(Buffer.from(`ECHO ${i} x`), sys.servers[1]);
    }
    // Every one of them reached the standby (each is counted as ignored there).
    await expect.poll(() => sys!.pair.b.server.counters.ignored).toBeGreaterThanOrEqual(12);
    expect(sys.pair.b.server.contacts.size).toBe(5);
    expect(await (await sys.raw()).contacts.countDocuments({})).toBeLessThanOrEqual(5);
  });

  it('a user over its rate limit is DENIED, whatever socket it uses', async () => {
    sys = await startSystem({ security: { userRate: { burst: 3, perSecond: 0.5 } } });
    const alice = await sys.client();
    await alice.register('alice');
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => alice.subjects('alice', ['x'])));
    const denied = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.message);
    expect(denied.length).toBeGreaterThanOrEqual(2);
    expect(denied.every((m) => m === 'rate limit exceeded')).toBe(true);
  });

  it('--require-auth refuses legacy registrations with a clear reason; native users register', async () => {
    sys = await startSystem({ security: { requireAuth: true } });
    const legacy = await rawPeer();
    peers.push(legacy);
    legacy.send(Buffer.from(`REGISTER 1 tim 127.0.0.1 ${legacy.address.port}`), sys.servers[0]);
    legacy.send(writePickle({ TYPE: 'REGISTER', 'RQ#': 2, NAME: 'pam', IP: '127.0.0.1', PORT: legacy.address.port }), sys.servers[0]);
    const [text, pickle] = await legacy.take(2);
    expect(text!.bytes.toString()).toBe('REGISTER-DENIED 1 this server accepts only authenticated (native rss client) users');
    expect(readPickle(pickle!.bytes)).toMatchObject({ TYPE: 'REGISTER-DENIED', 'RQ#': 2, REASON: expect.stringContaining('authenticated') });
    const alice = await sys.client();
    await expect(alice.register('alice')).resolves.toMatchObject({ type: 'REGISTERED' });
    expect(sys.pair.a.server.directory.size).toBe(1);
  });

  it('the longest text a PUBLISH accepts fits one MACed native datagram; one that escapes beyond 1200 bytes is refused by client and server', async () => {
    expect(nativeTextSize('n'.repeat(32), 's'.repeat(32), 'x'.repeat(LIMITS.maxTextBytes))).toMatchObject({ fits: true });
    expect(nativeTextSize('n'.repeat(32), 's'.repeat(32), '"'.repeat(LIMITS.maxTextBytes)).fits).toBe(false);
    sys = await startSystem();
    const alice = await sys.client();
    await alice.register('alice');
    await alice.subjects('alice', ['news']);
    await expect(alice.publish('alice', 'news', 'x'.repeat(LIMITS.maxTextBytes))).resolves.toMatchObject({ type: 'PUBLISHED' });
    await expect(alice.publish('alice', 'news', '\u0001'.repeat(300))).rejects.toThrow(/text too long: \d+ bytes once encoded/);
    // A text client's text of control characters would not fit a native push: refused by the server.
    const tim = await rawPeer();
    peers.push(tim);
    tim.send(Buffer.from(`REGISTER 1 tim 127.0.0.1 ${tim.address.port}`), sys.servers[0]);
    tim.send(Buffer.from('SUBJECTS 2 tim news'), sys.servers[0]);
    tim.send(Buffer.from(`PUBLISH 3 tim news ${'\u0001'.repeat(300)}`), sys.servers[0]);
    const replies = (await tim.take(3)).map((g) => g.bytes.toString());
    expect(replies[2]).toMatch(/^PUBLISH-DENIED 3 text too long: \d+ bytes once encoded/);
  });

  it('the command line keeps user keys in its identity file, readable by its owner only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rss-keys-'));
    dirs.push(dir);
    const file = join(dir, 'client-id.json');
    const scope = keyScope([{ host: '127.0.0.1', port: 1 }, { host: '127.0.0.1', port: 2 }]);
    const ring = new FileKeyRing(file, scope);
    ring.set('bob', Buffer.alloc(32, 9));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(new FileKeyRing(file, scope).get('bob')).toEqual(Buffer.alloc(32, 9));
    expect(new FileKeyRing(file, 'other servers').get('bob')).toBeUndefined();
    ring.delete('bob');
    expect(new FileKeyRing(file, scope).get('bob')).toBeUndefined();
  });

  it('a user key is found whichever servers of the same ring are given, in any order; removing it removes it everywhere', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rss-keys-'));
    dirs.push(dir);
    const file = join(dir, 'client-id.json');
    const [a, b, c, z] = [1, 2, 3, 9].map((port) => ({ host: '127.0.0.1', port }));
    new FileKeyRing(file, keyScope([a!, b!])).set('bob', Buffer.alloc(32, 7));
    const all = new FileKeyRing(file, keyScope([a!, b!, c!]));
    expect(all.get('bob')).toEqual(Buffer.alloc(32, 7));
    expect(new FileKeyRing(file, keyScope([c!, b!])).get('bob')).toEqual(Buffer.alloc(32, 7));
    // Another system (no server in common) does not see it.
    expect(new FileKeyRing(file, keyScope([z!, { host: '127.0.0.1', port: 10 }])).get('bob')).toBeUndefined();
    all.delete('bob');
    expect(new FileKeyRing(file, keyScope([a!, b!])).get('bob')).toBeUndefined();
  });

  it('a ring the servers announced is kept: a later command given some of its servers asks them all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rss-keys-'));
    dirs.push(dir);
    const file = join(dir, 'client-id.json');
    const [a, b, c, d, z] = [1, 2, 3, 4, 9].map((port) => ({ host: '127.0.0.1', port }));
    expect(withKnownRing(file, [a!, b!])).toEqual([a, b]);
    new FileKeyRing(file, keyScope([a!, b!])).set('bob', Buffer.alloc(32, 1));
    rememberRing(file, [a!, b!, c!]);
    expect(withKnownRing(file, [c!, b!])).toEqual([a, b, c]);
    // A server given that the ring lacks is asked too; another system is left alone.
    expect(withKnownRing(file, [d!, c!])).toEqual([a, b, c, d]);
    expect(withKnownRing(file, [z!, { host: '127.0.0.1', port: 10 }])).toEqual([z, { host: '127.0.0.1', port: 10 }]);
    // A newer ring replaces the one it shares servers with; the keys stay.
    rememberRing(file, [b!, c!, d!]);
    expect(withKnownRing(file, [a!, d!])).toEqual([b, c, d, a]);
    expect(new FileKeyRing(file, keyScope([a!, b!])).get('bob')).toEqual(Buffer.alloc(32, 1));
    // The same ring announced again (every handoff) leaves the file as it is; a changed one rewrites it.
    const written = (await stat(file)).ino;
    rememberRing(file, [b!, c!, d!]);
    expect((await stat(file)).ino).toBe(written);
    rememberRing(file, [c!, d!, b!]);
    expect((await stat(file)).ino).not.toBe(written);
    expect(withKnownRing(file, [b!])).toEqual([c, d, b]);
  });
});
