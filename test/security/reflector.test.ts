/**
 * rss is no reflector: a blind spoofer who sends datagrams in a victim's
 * name (forged source address, raw socket on loopback) makes the victim
 * receive at most 3 × what it sent plus the slowly refilling allowance of
 * an unproven address — for every attack that used to amplify.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RssClient } from '../../src/client/client';
import { MemoryKeyRing } from '../../src/client/keys';
import { encodeNative, encodeNativePadded } from '../../src/protocol/native';
import { defaultAllowance, defaultHostAllowance } from '../../src/server/send-budgets';
import type { Address, Transport } from '../../src/transport/types';
import { openUdp } from '../../src/transport/udp';
import { rawPeer, type RawPeer } from '../helpers/raw';
import { canSpoof, spoofer, victimAt, type Spoofer, type Victim } from '../helpers/spoofer';
import { delay, systemsClosedAfterEach, type TestSystem } from '../helpers/system';
import { owedTo } from '../helpers/owed';

const system = systemsClosedAfterEach();
const closers: { close(): void }[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c.close();
});

/** What the victim may receive: 3 × the bytes sent in its name, plus the allowance over the time it ran. */
function bound(sentInItsName: number, ms: number): number {
  const a = defaultAllowance();
  return 3 * sentInItsName + a.burst + (a.perSecond * ms) / 1000;
}

/** Measured factors, printed for the README with RSS_REFLECTOR_REPORT=1. */
function report(row: string, sent: number, received: number, ms: number): void {
  if (process.env.RSS_REFLECTOR_REPORT) {
    console.log(`${row}: sent ${sent} B, victim received ${received} B in ${ms} ms (${(received / Math.max(1, sent)).toFixed(1)}×; bound ${Math.round(bound(sent, ms))} B)`);
  }
}

async function setup(security = {}): Promise<{ sys: TestSystem; A: Address; spoof: Spoofer; victim: Victim }> {
  const sys = await system({ security });
  const spoof = spoofer();
  const victim = await victimAt('127.0.0.2');
  closers.push(spoof, victim);
  return { sys, A: sys.servers[0], spoof, victim };
}

/** A native publisher of `n` texts of about `size` bytes on `subject`. */
async function publishMany(sys: TestSystem, n: number, size: number, subject = 'news'): Promise<void> {
  const alice = await sys.client();
  await alice.register('alice');
  await alice.subjects('alice', [subject]);
  for (let i = 0; i < n; i++) await alice.publish('alice', subject, `${i} `.padEnd(size, 'x'));
}

/**
 * Absence windows until one passes quiet: `count()` (bytes a victim received) has not grown for 300 ms, so nothing
 * more is coming and an upper bound on all of it can be checked. Returns the elapsed time since `start`.
 */
async function untilQuiet(count: () => number, start: number): Promise<number> {
  let last = -1;
  while (count() !== last) {
    last = count();
    await delay(300);
  }
  return Date.now() - start;
}

const settle = (victim: Victim, start: number) => untilQuiet(() => victim.received, start);

async function textPeer(): Promise<RawPeer> {
  const p = await rawPeer();
  closers.push(p);
  return p;
}

type Forgery = (i: number) => { from: Address; bytes: Uint8Array };

/** The spoofer floods server `A` with `forgery(i)` (8 every 10 ms) until stopped; stop() resolves to how many it sent. */
function startFlood(spoof: Spoofer, A: Address, forgery: Forgery): { stop(): Promise<number> } {
  let flooding = true;
  let forged = 0;
  const flood = (async () => {
    while (flooding) {
      const batch: Promise<void>[] = [];
      for (let j = 0; j < 8; j++, forged++) {
        const f = forgery(forged);
        batch.push(spoof.send(f.bytes, f.from, A));
      }
      await Promise.all([...batch, delay(10)]);
    }
  })();
  return {
    stop: async () => {
      flooding = false;
      await flood;
      return forged;
    },
  };
}

/** Six publishes of `bob`, 200 ms apart, while the spoofer floods server `A` with `forgery(i)`; their outcomes. */
async function publishesDuringFlood(bob: RssClient, spoof: Spoofer, A: Address, forgery: Forgery): Promise<{ forged: number; outcomes: string[] }> {
  const flood = startFlood(spoof, A, forgery);
  await delay(700);
  const outcomes: string[] = [];
  for (let i = 0; i < 6; i++) {
    outcomes.push(await bob.publish('bob', 'news', `genuine ${i}`).then((r) => r.type, (e: Error) => e.message));
    await delay(200);
  }
  return { forged: await flood.stop(), outcomes };
}

describe.skipIf(!canSpoof())('spoofed sources (raw sockets on loopback)', () => {
  it('text RETRIEVE-TEXTS N in the victim\'s name: answered within the victim\'s budget, repeats from the cache', async () => {
    const { sys, A, spoof, victim } = await setup();
    const tim = await textPeer();
    tim.send(Buffer.from(`REGISTER 1 tim ${tim.address.host} ${tim.address.port}`), A);
    tim.send(Buffer.from('SUBJECTS 2 tim news'), A);
    await publishMany(sys, 150, 200);
    const start = Date.now();
    for (let i = 0; i < 22; i++) await spoof.send(Buffer.from(`RETRIEVE-TEXTS ${100 + i} tim 1000`), victim.address, A);
    // The same request again: answered from the reply cache, within the same budget.
    for (let i = 0; i < 22; i++) await spoof.send(Buffer.from('RETRIEVE-TEXTS 100 tim 1000'), victim.address, A);
    const ms = await settle(victim, start);
    const sent = spoof.sentAs(victim.address);
    report('text RETRIEVE-TEXTS N', sent, victim.received, ms);
    expect(victim.received).toBeGreaterThan(0);
    expect(victim.received).toBeLessThanOrEqual(bound(sent, ms));
  });

  it('a legacy user registered at the victim (spoofed REGISTER and SUBJECTS): publishes stay within the budget, the rest stays owed', async () => {
    const { sys, A, spoof, victim } = await setup();
    const v = victim.address;
    const start = Date.now();
    await spoof.send(Buffer.from(`REGISTER 1 vic ${v.host} ${v.port}`), v, A);
    await spoof.send(Buffer.from('SUBJECTS 2 vic news'), v, A);
    await publishMany(sys, 60, 600);
    const ms = await settle(victim, start);
    const sent = spoof.sentAs(v);
    report('legacy user at the victim', sent, victim.received, ms);
    expect(victim.received).toBeLessThanOrEqual(bound(sent, ms));
    // What the budget held back is owed, not lost.
    const owed = (await owedTo(sys.pair.a.server, 'vic')).length;
    const pushed = victim.datagrams.filter((d) => d.toString().startsWith('MESSAGE')).length;
    await expect.poll(async () => (await owedTo(sys.pair.a.server, 'vic')).length).toBe(60 - pushed);
    expect(owed).toBeGreaterThan(0);
  });

  it('ten legacy users at one victim address: at most four are accepted, and all share its budget', async () => {
    const { sys, A, spoof, victim } = await setup();
    const v = victim.address;
    const start = Date.now();
    for (let i = 0; i < 10; i++) {
      await spoof.send(Buffer.from(`REGISTER ${i + 1} vic${i} ${v.host} ${v.port}`), v, A);
      await spoof.send(Buffer.from(`SUBJECTS ${i + 20} vic${i} news`), v, A);
    }
    await publishMany(sys, 60, 600);
    const ms = await settle(victim, start);
    const sent = spoof.sentAs(v);
    report('ten legacy users at the victim', sent, victim.received, ms);
    expect(victim.received).toBeLessThanOrEqual(bound(sent, ms));
    expect(await (await sys.raw()).users.countDocuments({ host: v.host, port: v.port })).toBe(4);
  });

  it('legacy users at twelve ports of one victim host: the host gets one host allowance, not twelve', async () => {
    const { sys, A, spoof } = await setup();
    const victims = await Promise.all(Array.from({ length: 12 }, () => victimAt('127.0.0.4')));
    closers.push(...victims);
    const start = Date.now();
    for (const [i, v] of victims.entries()) {
      await spoof.send(Buffer.from(`REGISTER ${i + 1} p${i} ${v.address.host} ${v.address.port}`), v.address, A);
      await spoof.send(Buffer.from(`SUBJECTS ${i + 20} p${i} news`), v.address, A);
    }
    await publishMany(sys, 60, 600);
    const total = () => victims.reduce((n, v) => n + v.received, 0);
    const ms = await untilQuiet(total, start);
    const sent = victims.reduce((n, v) => n + spoof.sentAs(v.address), 0);
    const host = defaultHostAllowance();
    report('legacy users at twelve ports of one host', sent, total(), ms);
    expect(total()).toBeLessThanOrEqual(3 * sent + host.burst + (host.perSecond * ms) / 1000);
  });

  for (const requireAuth of [false, true]) {
    it(`junk and a legacy datagram in the victim's name prove nothing: the attacker's native RETRIEVE-TEXTS {parts: 16} gets one datagram per request${requireAuth ? ' (--require-auth)' : ''}`, async () => {
      const { sys, A, spoof, victim } = await setup({ requireAuth });
      const v = victim.address;
      const keys = new MemoryKeyRing();
      const mallory = await sys.client({ keys });
      await mallory.register('mallory');
      await mallory.subjects('mallory', ['news']);
      await publishMany(sys, 80, 400);
      const k = keys.get('mallory')!;
      const start = Date.now();
      await spoof.send(Buffer.alloc(50, 0x17), v, A);
      await spoof.send(Buffer.from('RETRIEVE-TEXTS 1 nobody'), v, A);
      let ctr = Date.now() * 1000 + 1_000_000;
      for (let i = 0; i < 10; i++) {
        await spoof.send(encodeNativePadded({ type: 'RETRIEVE-TEXTS', rq: 50 + i, name: 'mallory', last: 1000, parts: 16 }, { cid: 'attacker', ctr: ctr++ }, k), v, A);
      }
      const ms = await settle(victim, start);
      const sent = spoof.sentAs(v);
      report(`native parts:16${requireAuth ? ' --require-auth' : ''}`, sent, victim.received, ms);
      // Each request was answered (one datagram each: the address is unproven), and within 3× of it: no allowance needed.
      expect(victim.datagrams.length).toBeGreaterThanOrEqual(10);
      expect(victim.received).toBeLessThanOrEqual(3 * sent);
    });
  }

  it('a native user\'s proven address is no reflector either: what others\' requests and users send there stays within its budget', async () => {
    const { sys, A, spoof } = await setup();
    // bob's client, at an address of its own, counting every byte it receives.
    const udp = await openUdp({ host: '127.0.0.3', port: 0 });
    let received = 0;
    let bobSent = 0;
    const counting: Transport = {
      send: (b, to) => {
        bobSent += b.length;
        udp.send(b, to);
      },
      onDatagram: (h) => udp.onDatagram((b, from) => {
        received += b.length;
        h(b, from);
      }),
      address: () => udp.address(),
      close: () => udp.close(),
    };
    const bob = await sys.client({ transport: counting });
    await bob.register('bob');
    await bob.subjects('bob', ['news']);
    const at = udp.address();
    await expect.poll(async () => (await (await sys.raw()).users.findOne({ _id: 'bob' }))?.addrOk).toBe(true);
    const tim = await textPeer();
    tim.send(Buffer.from(`REGISTER 1 tim ${tim.address.host} ${tim.address.port}`), A);
    tim.send(Buffer.from('SUBJECTS 2 tim sport'), A);
    const alice = await sys.client();
    await alice.register('alice');
    await alice.subjects('alice', ['sport']);
    for (let i = 0; i < 150; i++) await alice.publish('alice', 'sport', `${i} `.padEnd(200, 'x'));
    const before = received;
    const start = Date.now();
    // Requests in bob's name that prove nothing: tim's seen texts, and a legacy user registered at bob's address.
    for (let i = 0; i < 22; i++) await spoof.send(Buffer.from(`RETRIEVE-TEXTS ${100 + i} tim 1000`), at, A);
    await spoof.send(Buffer.from(`REGISTER 3 ted ${at.host} ${at.port}`), at, A);
    await spoof.send(Buffer.from('SUBJECTS 4 ted sport'), at, A);
    for (let i = 0; i < 30; i++) await alice.publish('alice', 'sport', `more ${i} `.padEnd(600, 'x'));
    const ms = await untilQuiet(() => received, start);
    // bob's own requests earn credit too (3 × each, like any bytes from the address).
    const sent = spoof.sentAs(at) + bobSent;
    report('legacy requests in a proven native address\'s name', sent, received - before, ms);
    expect(received - before).toBeLessThanOrEqual(bound(sent, ms));
  });

  it('no lock-out: a flood of forged requests naming bob from many sources leaves his MACed publishes untouched', async () => {
    const { sys, A, spoof } = await setup();
    const bob = await sys.client();
    await bob.register('bob');
    await bob.subjects('bob', ['news']);
    let ctr = Date.now() * 1000;
    const { forged, outcomes } = await publishesDuringFlood(bob, spoof, A, (i) => ({
      from: { host: `127.0.0.${10 + (i % 50)}`, port: 20_000 + (i % 20_000) },
      bytes: i % 2 === 0
        ? Buffer.from(`PUBLISH ${i} bob news forged`)
        : encodeNative({ type: 'PUBLISH', rq: i, name: 'bob', subject: 'news', text: 'forged' }, { cid: 'forger', ctr: ctr++ }),
    }));
    if (process.env.RSS_REFLECTOR_REPORT) console.log(`lock-out: ${forged} forged requests naming bob; bob's publishes: ${outcomes.join(', ')}`);
    expect(forged).toBeGreaterThan(500);
    expect(outcomes).toEqual(Array(6).fill('PUBLISHED'));
    // None of the forgeries was executed.
    expect(await (await sys.raw()).texts.countDocuments({ text: 'forged' })).toBe(0);
  });

  it('fair unauthenticated budget: a spoofed flood from one /24 leaves a legacy client of another /24 and a native REGISTER answered', async () => {
    // Small rates so the flood the helper can send (hundreds/s) is far above both budgets.
    const { sys, A, spoof } = await setup({ unauthRate: { burst: 60, perSecond: 30 }, unauthPrefixRate: { burst: 20, perSecond: 10 } });
    const flood = startFlood(spoof, A, (i) => ({
      from: { host: `127.0.1.${1 + (i % 200)}`, port: 20_000 + (i % 20_000) },
      bytes: Buffer.from(`REGISTER ${i} f${i % 1000} 127.0.1.9 1`),
    }));
    let forged = 0;
    try {
      // The flood is under way: its /24's bucket (burst 20) is spent and refusing, well past its burst.
      await expect.poll(() => sys.pair.a.server.status().rateLimited, { timeout: 5_000 }).toBeGreaterThan(100);
      const lee = await rawPeer('127.0.2.1');
      closers.push(lee);
      const answers: string[] = [];
      const ask = async (line: string) => {
        lee.send(Buffer.from(line), A);
        await expect.poll(() => lee.inbox.length, { timeout: 2000 }).toBeGreaterThan(0);
        answers.push(...lee.inbox.splice(0).map((g) => g.bytes.toString()));
        await delay(100);
      };
      await ask(`REGISTER 1 lee ${lee.address.host} ${lee.address.port}`);
      await ask('SUBJECTS 2 lee news');
      for (let i = 0; i < 4; i++) await ask(`ECHO ${3 + i} lee still here`);
      const bob = await sys.client();
      const registered = await bob.register('bob').then((r) => r.type, (e: Error) => e.message);
      forged = await flood.stop();
      if (process.env.RSS_REFLECTOR_REPORT) console.log(`fair budget: ${forged} forged REGISTERs from 127.0.1.0/24; lee's answers: ${answers.join(' | ')}; native REGISTER: ${registered}`);
      expect(forged).toBeGreaterThan(300);
      expect(answers.filter((a) => a.includes('rate limit'))).toEqual([]);
      expect(answers).toContain('REGISTERED 1');
      expect(answers.filter((a) => a === 'ECHO 3 lee still here' || a === 'ECHO 6 lee still here')).toHaveLength(2);
      expect(answers).toHaveLength(6);
      expect(registered).toBe('REGISTERED');
    } finally {
      await flood.stop();
    }
  });

  it('no lock-out through bob\'s own source address: forgeries from it (unMACed, or with a MAC that fails) never refuse his MACed publishes', async () => {
    const { sys, A, spoof } = await setup();
    const bob = await sys.client();
    await bob.register('bob');
    await bob.subjects('bob', ['news']);
    const doc = (await (await sys.raw()).users.findOne({ _id: 'bob' }))!;
    const at = { host: doc.host, port: doc.port };
    let ctr = Date.now() * 1000;
    const { forged, outcomes } = await publishesDuringFlood(bob, spoof, A, (i) => ({
      from: at,
      bytes: i % 2 === 0
        ? Buffer.from(`PUBLISH ${i} bob news forged`)
        : encodeNative({ type: 'PUBLISH', rq: i, name: 'bob', subject: 'news', text: 'forged' }, { cid: 'forger', ctr: ctr++ }, Buffer.alloc(32, 7)),
    }));
    expect(forged).toBeGreaterThan(500);
    expect(outcomes).toEqual(Array(6).fill('PUBLISHED'));
    expect(await (await sys.raw()).texts.countDocuments({ text: 'forged' })).toBe(0);
  });
});
