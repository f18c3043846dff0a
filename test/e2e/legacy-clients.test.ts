/**
 * Existing legacy clients across handoffs and failovers: a pickle client
 * flips between the two servers on every CHANGE-SERVER without reading the
 * address, so it must get exactly one at every change, registered or not;
 * canonical text clients get their DE-REGISTER confirmation and ECHO answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/protocol/limits';
import { readPickle, type PickleValue } from '../../src/protocol/pickle/reader';
import { writePickle, type PickleInput } from '../../src/protocol/pickle/writer';
import type { Address } from '../../src/transport/types';
import { rawPeer, type RawPeer } from '../helpers/raw';
import { nextEvents, systemsClosedAfterEach, type TestSystem } from '../helpers/system';

const system = systemsClosedAfterEach();
const peers: RawPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
});

const pk = (v: PickleInput) => writePickle(v);
const unpk = (b: Buffer) => readPickle(b) as Record<string, PickleValue>;

/**
 * A pickle client as existing ones behave: INITIALIZATION to both servers,
 * REGISTER to both, everything else to "its" server, which it toggles on
 * every CHANGE-SERVER (the address in it is not read).
 */
class PickleClient {
  current: Address;
  readonly got: Record<string, PickleValue>[] = [];
  private rq = 0;
  private seen = 0;

  constructor(readonly peer: RawPeer, readonly servers: [Address, Address]) {
    this.current = servers[0];
    peer.socket.on('message', (bytes) => {
      const d = unpk(bytes);
      this.got.push(d);
      if (d.TYPE === 'CHANGE-SERVER') this.current = this.current === servers[0] ? servers[1] : servers[0];
    });
  }

  static async open(servers: [Address, Address]): Promise<PickleClient> {
    const peer = await rawPeer();
    peers.push(peer);
    return new PickleClient(peer, servers);
  }

  get port(): number {
    return this.peer.address.port;
  }

  toBoth(d: PickleInput): void {
    for (const s of this.servers) this.peer.send(pk(d), s);
  }

  toCurrent(d: Record<string, PickleInput>): number {
    const rq = ++this.rq;
    this.peer.send(pk({ ...d, 'RQ#': rq }), this.current);
    return rq;
  }

  register(name: string): number {
    const rq = ++this.rq;
    this.toBoth({ TYPE: 'REGISTER', 'RQ#': rq, NAME: name, IP: '127.0.0.1', PORT: this.port });
    return rq;
  }

  /** The next datagram received since the last call. */
  async next(): Promise<Record<string, PickleValue>> {
    await expect.poll(() => this.got.length, { timeout: 3000 }).toBeGreaterThan(this.seen);
    return this.got[this.seen++]!;
  }
}

/** Hand over from `from` and wait until the other server serves; what the handoff event reported. */
async function handoff(sys: TestSystem, from: 'a' | 'b'): Promise<{ users: number; others: number }> {
  const done = nextEvents<{ users: number; others: number }>(sys.pair[from].server, 'handoff');
  const serving = nextEvents(sys.pair[from === 'a' ? 'b' : 'a'].server, 'serving');
  expect(await sys.pair[from].server.handoff()).toBe(true);
  await serving;
  return (await done)[0]!;
}

describe('CHANGE-SERVER reaches every legacy client that announced itself', () => {
  it('an announced but unregistered pickle client follows two handoffs and a failover, then registers with the serving server', async () => {
    const sys = await system();
    const [A, B] = sys.servers;
    const pam = await PickleClient.open(sys.servers);
    pam.toBoth({ TYPE: 'INITIALIZATION', MESSAGE: 'New Client!' });
    expect(await pam.next()).toEqual({ TYPE: 'INITIALIZATION-SUCCESS', 'SERVER-TAG': 'A' });

    // Handoff A → B: told once, by A.
    expect(await handoff(sys, 'a')).toMatchObject({ users: 0, others: 1 });
    expect(await pam.next()).toEqual({ TYPE: 'CHANGE-SERVER', IP: B.host, PORT: B.port });
    expect(pam.current).toEqual(B);
    // Handoff B → A: told once, by B (which learnt of it from the announcement or the store).
    expect(await handoff(sys, 'b')).toMatchObject({ users: 0, others: 1 });
    expect(await pam.next()).toEqual({ TYPE: 'CHANGE-SERVER', IP: A.host, PORT: A.port });
    expect(pam.current).toEqual(A);

    // In step: it registers, and its own server is the serving one.
    const rq = pam.register('pam');
    expect(await pam.next()).toEqual({ TYPE: 'REGISTER-SUCCESS', 'RQ#': rq });
    const sub = pam.toCurrent({ TYPE: 'SUBJECTS', NAME: 'pam', 'SUBJECT-LIST': 'news' });
    expect(await pam.next()).toMatchObject({ TYPE: 'UPDATE-SUBJECTS-SUCCESS', 'RQ#': sub });

    // A crashes: B takes over and tells it (once, although it is both a user and an announced client).
    await sys.pair.stopServer('A');
    expect(await pam.next()).toEqual({ TYPE: 'CHANGE-SERVER', IP: B.host, PORT: B.port });
    expect(pam.current).toEqual(B);
    const pub = pam.toCurrent({ TYPE: 'PUBLISH', NAME: 'pam', SUBJECT: 'news', TEXT: 'still here' });
    expect(await pam.next()).toMatchObject({ TYPE: 'PUBLISH-SUCCESS', 'RQ#': pub });
    expect(pam.got.filter((d) => d.TYPE === 'CHANGE-SERVER')).toHaveLength(3);
  });

  it('an announced client that stays silent is told at every one of many handoffs (within the budget of an unproven address)', async () => {
    const sys = await system();
    const [A, B] = sys.servers;
    const idle = await PickleClient.open(sys.servers);
    idle.toBoth({ TYPE: 'INITIALIZATION', MESSAGE: 'New Client!' });
    await idle.next();
    // Both servers must have heard it before the first handoff.
    await expect.poll(() => sys.pair.b.server.contacts.size).toBe(1);
    for (let i = 0; i < 6; i++) {
      await handoff(sys, i % 2 === 0 ? 'a' : 'b');
      expect(await idle.next()).toEqual({ TYPE: 'CHANGE-SERVER', IP: '127.0.0.1', PORT: (i % 2 === 0 ? B : A).port });
    }
    expect(idle.current).toEqual(A);
  });

  it('a pickle client that registers after a handoff, de-registers and registers again stays in step', async () => {
    const sys = await system();
    const [A, B] = sys.servers;
    const quin = await PickleClient.open(sys.servers);
    quin.toBoth({ TYPE: 'INITIALIZATION', MESSAGE: 'New Client!' });
    await quin.next();
    await handoff(sys, 'a');
    expect(await quin.next()).toMatchObject({ TYPE: 'CHANGE-SERVER', PORT: B.port });

    let rq = quin.register('quin');
    expect(await quin.next()).toEqual({ TYPE: 'REGISTER-SUCCESS', 'RQ#': rq });
    rq = quin.toCurrent({ TYPE: 'DE-REGISTER', NAME: 'quin' });
    expect(await quin.next()).toEqual({ TYPE: 'DE-REGISTER-SUCCESS', 'RQ#': rq });

    // No registered user lives at its address any more: it is told as an announced client.
    expect(await handoff(sys, 'b')).toMatchObject({ users: 0, others: 1 });
    expect(await quin.next()).toMatchObject({ TYPE: 'CHANGE-SERVER', PORT: A.port });
    rq = quin.register('quin');
    expect(await quin.next()).toEqual({ TYPE: 'REGISTER-SUCCESS', 'RQ#': rq });
    rq = quin.toCurrent({ TYPE: 'RETRIEVE-TEXTS', NAME: 'quin' });
    expect(await quin.next()).toEqual({ TYPE: 'RETRIEVE-SUCCESS', 'RQ#': rq, NAME: 'quin', POSTS: [] });
  });

  it('two names registered from one address get one CHANGE-SERVER; a client that said END-CONNECTION gets none', async () => {
    const sys = await system();
    const duo = await PickleClient.open(sys.servers);
    const gone = await PickleClient.open(sys.servers);
    duo.register('one');
    duo.register('two');
    await duo.next();
    await duo.next();
    gone.toBoth({ TYPE: 'INITIALIZATION', MESSAGE: 'New Client!' });
    await gone.next();
    gone.toBoth({ TYPE: 'END-CONNECTION', 'RQ#': 9, IP: '127.0.0.1', PORT: gone.port });

    expect(await handoff(sys, 'a')).toMatchObject({ from: 'A', to: 'B', epoch: 1, users: 2, others: 0 });
    expect(await duo.next()).toMatchObject({ TYPE: 'CHANGE-SERVER' });
    // The next handoff's notice comes right after: nothing in between.
    await handoff(sys, 'b');
    expect(await duo.next()).toMatchObject({ TYPE: 'CHANGE-SERVER' });
    expect(gone.got).toEqual([{ TYPE: 'INITIALIZATION-SUCCESS', 'SERVER-TAG': 'A' }]);
  });

  it('a canonical text client heard recently, never registered, is told too', async () => {
    const sys = await system();
    const [, B] = sys.servers;
    const tex = await rawPeer();
    peers.push(tex);
    tex.send(Buffer.from('RETRIEVE-TEXTS 1 nobody'), sys.servers[0]);
    await expect.poll(() => tex.inbox.length).toBe(1);
    await handoff(sys, 'a');
    await expect.poll(() => tex.inbox.map((g) => g.bytes.toString())).toEqual(['RETRIEVE-DENIED 1 unknown name', `CHANGE-SERVER ${B.host} ${B.port}`]);
  });

  it('an address that never proved it receives is told only within its anti-amplification budget', async () => {
    // No allowance: only what the address sent buys what goes back to it.
    const sys = await system({ security: { allowance: { burst: 0, perSecond: 0 } } });
    const [A] = sys.servers;
    const spoofed = await rawPeer();
    peers.push(spoofed);
    // One small datagram (as a spoofer could send in a victim's name) buys three times its size, no more.
    const init = pk({ TYPE: 'INITIALIZATION', MESSAGE: 'New Client!' });
    spoofed.send(init, A);
    await expect.poll(() => spoofed.inbox.length).toBe(1);
    for (let i = 0; i < 6; i++) await handoff(sys, i % 2 === 0 ? 'a' : 'b');
    const fromA = spoofed.inbox.filter((g) => g.from.port === A.port).reduce((n, g) => n + g.bytes.length, 0);
    expect(fromA).toBeLessThanOrEqual(3 * init.length);
    // INITIALIZATION-SUCCESS and one CHANGE-SERVER from A; B, which it never wrote to, sends it nothing.
    expect(spoofed.inbox.map((g) => [g.from.port, unpk(g.bytes).TYPE])).toEqual([[A.port, 'INITIALIZATION-SUCCESS'], [A.port, 'CHANGE-SERVER']]);
    expect(sys.pair.a.server.status().amplificationDrops).toBeGreaterThan(0);
  });
});

describe('a text that is accepted reaches every dialect whole', () => {
  it('the longest text a text client may publish, with the longest names, reaches a pickle client in one reply; one byte more is refused', async () => {
    const sys = await system();
    const [A] = sys.servers;
    const publisher = 'p'.repeat(LIMITS.maxNameLength);
    const reader = 'r'.repeat(LIMITS.maxNameLength);
    const subject = 's'.repeat(LIMITS.maxSubjectLength);
    const tex = await rawPeer();
    peers.push(tex);
    const pam = await PickleClient.open(sys.servers);
    tex.send(Buffer.from(`REGISTER 1 ${publisher} 127.0.0.1 ${tex.address.port}`), A);
    tex.send(Buffer.from(`SUBJECTS 2 ${publisher} ${subject}`), A);
    pam.register(reader);
    await pam.next();
    pam.toCurrent({ TYPE: 'SUBJECTS', NAME: reader, 'SUBJECT-LIST': subject });
    await pam.next();
    await expect.poll(() => tex.inbox.length).toBe(2);

    const body = 'ü'.repeat(LIMITS.maxTextBytes / 2);
    tex.send(Buffer.from(`PUBLISH 3 ${publisher} ${subject} ${body}`), A);
    tex.send(Buffer.from(`PUBLISH 4 ${publisher} ${subject} ${body}x`), A);
    await expect.poll(() => tex.inbox.map((g) => g.bytes.toString()).slice(2)).toEqual([`PUBLISH-DENIED 4 text too long: more than ${LIMITS.maxTextBytes} bytes`]);
    const rq = pam.toCurrent({ TYPE: 'RETRIEVE-TEXTS', NAME: reader });
    expect(await pam.next()).toEqual({ TYPE: 'RETRIEVE-SUCCESS', 'RQ#': rq, NAME: reader, POSTS: [{ NAME: publisher, SUBJECT: subject, TEXT: body }] });
  });

  it('a pickle RETRIEVE that cannot carry every owed text says MORE, and the rest come next', async () => {
    const sys = await system();
    const pam = await PickleClient.open(sys.servers);
    const nat = await sys.client();
    pam.register('pam');
    await pam.next();
    pam.toCurrent({ TYPE: 'SUBJECTS', NAME: 'pam', 'SUBJECT-LIST': 'news' });
    await pam.next();
    await nat.register('nat');
    await nat.subjects('nat', ['news']);
    for (const n of [1, 2, 3]) await nat.publish('nat', 'news', `${n}${'x'.repeat(LIMITS.maxTextBytes - 1)}`);
    const got: string[] = [];
    const flags: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      pam.toCurrent({ TYPE: 'RETRIEVE-TEXTS', NAME: 'pam' });
      const reply = await pam.next();
      got.push(...(reply.POSTS as { TEXT: string }[]).map((p) => p.TEXT[0]!));
      flags.push(reply.MORE);
    }
    expect(got).toEqual(['1', '2', '3']);
    expect(flags).toEqual([true, true, undefined]);
  });
});
