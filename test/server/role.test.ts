/** The serving role: lease creation, renewal, handoff, takeover and self-fencing, on a fake store and clock. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerTag } from '../../src/protocol/messages';
import { Role, type RoleTiming } from '../../src/server/role';
import { FakeClock } from '../../src/util/clock';
import { FakeLeaseDb, type FakeLeaseConnection } from './fake-lease-store';

const timing: RoleTiming = { leaseTtl: 1000, renewEvery: 100, pollEvery: 50, safetyMargin: 300 };
const STEP = 10;

/** Let every settled promise run its continuations. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

let clock: FakeClock;
let db: FakeLeaseDb;
let conns: Map<Role, FakeLeaseConnection>;
let roles: Role[];
let events: string[];

beforeEach(() => {
  clock = new FakeClock();
  db = new FakeLeaseDb(clock);
  conns = new Map();
  roles = [];
  events = [];
});
afterEach(() => {
  for (const r of roles) r.stop();
  expect(clock.pending).toBe(0);
});

function role(tag: ServerTag, t: RoleTiming = timing): Role {
  const name = `${tag}${roles.filter((x) => x.tag === tag).length || ''}`;
  const c = db.connect(name);
  const r = new Role(tag, c, clock, t);
  conns.set(r, c);
  r.on('serving', (e) => events.push(`${name} serving ${e.epoch} ${e.reason}@${clock.now()}`));
  r.on('standby', (e) => events.push(`${name} standby ${e.epoch} ${e.reason}@${clock.now()}`));
  roles.push(r);
  return r;
}

/** The store connection of `r`, to inject faults. */
const conn = (r: Role): FakeLeaseConnection => conns.get(r)!;

/** Never two roles allowed to act at the same instant. */
function atMostOneServing(): void {
  const acting = roles.filter((r) => r.serving);
  expect(acting.length, `acting at ${clock.now()}: ${acting.map((r) => r.tag)}`).toBeLessThanOrEqual(1);
}

/** Advance `ms` in small steps, letting the store calls settle and checking `check` after each. */
async function run(ms: number, check: () => void = atMostOneServing): Promise<void> {
  await flush();
  for (let t = 0; t < ms; t += STEP) {
    clock.advance(Math.min(STEP, ms - t));
    await flush();
    check();
  }
}

/** A serving since time 0, B watching but polling only once a minute (what brings it in is a poke). */
async function slowPollingPair(): Promise<[Role, Role]> {
  const slow = { ...timing, pollEvery: 60_000 };
  const a = role('A', slow);
  const b = role('B', slow);
  a.start();
  b.start();
  await run(STEP);
  return [a, b];
}

/** A serving since time 0, B watching. */
async function servingPair(): Promise<[Role, Role]> {
  const a = role('A');
  const b = role('B');
  a.start();
  b.start();
  await run(STEP);
  expect(a.serving).toBe(true);
  return [a, b];
}

describe('Role', () => {
  it('A creates the first lease and serves at once', async () => {
    const a = role('A');
    a.start();
    await run(STEP);
    expect(a.state).toBe('serving');
    expect(a.serving).toBe(true);
    expect(a.epoch).toBe(1);
    expect(db.lease).toMatchObject({ holder: 'A', epoch: 1 });
    expect(events).toEqual([`A serving 1 initial@${STEP}`]);
  });

  it('B alone does not create the lease until A failed to show up for 2×leaseTtl', async () => {
    const b = role('B');
    b.start();
    await run(2 * timing.leaseTtl - STEP);
    expect(db.lease).toBeNull();
    expect(b.state).toBe('standby');
    await run(2 * timing.pollEvery + STEP);
    expect(db.lease).toMatchObject({ holder: 'B', epoch: 1 });
    expect(b.serving).toBe(true);
  });

  it('B stays standby while A renews', async () => {
    const [a, b] = await servingPair();
    await run(10 * timing.leaseTtl);
    expect(a.serving).toBe(true);
    expect(b.state).toBe('standby');
    expect(db.lease).toMatchObject({ holder: 'A', epoch: 1 });
    // Renewed about every renewEvery.
    expect(db.lease!.beat).toBeGreaterThanOrEqual(95);
    expect(db.callsOf('moveLease')).toEqual([]);
  });

  it('planned handOver: epoch+1, and the other serves on its next poll', async () => {
    const [a, b] = await servingPair();
    await run(500);
    expect(await a.handOver()).toBe(true);
    expect(a.state).toBe('standby');
    expect(a.serving).toBe(false);
    expect(a.epoch).toBe(2);
    expect(db.lease).toMatchObject({ holder: 'B', epoch: 2 });
    await run(timing.pollEvery + STEP);
    expect(b.serving).toBe(true);
    expect(b.epoch).toBe(2);
    expect(events.slice(-2).map((e) => e.replace(/@\d+/, ''))).toEqual(['A standby 2 handed-over', 'B serving 2 handoff']);
    // …and it keeps it: A does not take it back.
    await run(5 * timing.leaseTtl);
    expect(b.serving).toBe(true);
    expect(db.lease).toMatchObject({ holder: 'B', epoch: 2 });
  });

  it('poke() makes the other take the handed-over lease without waiting for its poll', async () => {
    const [a, b] = await slowPollingPair();
    expect(await a.handOver()).toBe(true);
    b.poke();
    await run(0);
    clock.advance(0);
    await flush();
    expect(b.serving).toBe(true);
    expect(b.epoch).toBe(2);
  });

  it('poke(epoch) of a TAKEOVER: one renewal of that epoch, and serving (no read of the lease first)', async () => {
    const [a, b] = await slowPollingPair();
    expect(await a.handOver()).toBe(true);
    const before = db.calls.length;
    b.poke(2);
    await flush();
    expect(b.serving).toBe(true);
    expect(events.at(-1)).toMatch(/^B serving 2 handoff/);
    expect(db.calls.slice(before).map((c) => `${c.conn} ${c.method} ${c.args.join(' ')}`)).toEqual(['B renewLease B 2']);
  });

  it('poke(epoch) naming an epoch that is not ours reads the lease as usual, and does not serve', async () => {
    const [a, b] = await servingPair();
    // A serves epoch 1; a (replayed) TAKEOVER naming epoch 1 to a standby.
    b.poke(1);
    await run(STEP);
    expect(b.state).toBe('standby');
    expect(a.serving).toBe(true);
    expect(db.lease).toMatchObject({ holder: 'A', epoch: 1 });
    const last = db.calls.filter((x) => x.conn === 'B').slice(-2).map((x) => x.method);
    expect(last).toEqual(['renewLease', 'readLease']);
  });

  it('a poke while a lease check is out is followed by another check as soon as it ends, not a poll later', async () => {
    const [a, b] = await slowPollingPair();
    // B's poll reads the lease (still A's) just before the handoff, and its answer comes back only after the TAKEOVER.
    const c = conn(b);
    const read = c.readLease.bind(c);
    let answer: (() => void) | undefined;
    c.readLease = async () => {
      const lease = await read();
      await new Promise<void>((r) => (answer = r));
      return lease;
    };
    b.poke();
    await flush();
    expect(answer).toBeDefined();
    c.readLease = read;
    expect(await a.handOver()).toBe(true);
    b.poke(2);
    await flush();
    expect(b.serving).toBe(false);
    answer!();
    await flush();
    clock.advance(0);
    await flush();
    expect(b.serving).toBe(true);
    expect(b.epoch).toBe(2);
  });

  it('handOver when not serving does nothing; when the lease was lost it steps down', async () => {
    const [a, b] = await servingPair();
    expect(await b.handOver()).toBe(false);
    db.lease = { ...db.lease!, epoch: 7 };
    expect(await a.handOver()).toBe(false);
    expect(a.state).toBe('standby');
    expect(events.at(-1)).toMatch(/^A standby 1 lost/);
  });

  it('a silent holder is taken over after leaseTtl, not before, with CAS on (epoch, beat)', async () => {
    const [a, b] = await servingPair();
    await run(500);
    a.stop(); // crashed: no more renewals
    const lastBeat = db.lastBeatAt;
    const beat = db.lease!.beat;
    await run(lastBeat + timing.leaseTtl - clock.now() - STEP);
    expect(b.state).toBe('standby');
    expect(db.lease!.holder).toBe('A');
    await run(2 * timing.pollEvery + 2 * STEP);
    expect(b.serving).toBe(true);
    expect(events.at(-1)).toMatch(/^B serving 2 failover/);
    expect(db.callsOf('moveLease').map((c) => c.args)).toEqual([['A', 1, 'B', beat]]);
  });

  it('a renewal that lands just before the takeover wins: the standby stays standby', async () => {
    const [a, b] = await servingPair();
    a.stop();
    // The holder was only slow: its renewal reaches the store just before the standby's CAS.
    db.beforeMove = () => {
      db.lease!.beat++;
      db.beforeMove = undefined;
    };
    await run(timing.leaseTtl + 2 * timing.pollEvery + STEP);
    expect(db.callsOf('moveLease')).toHaveLength(1);
    expect(b.state).toBe('standby');
    expect(db.lease).toMatchObject({ holder: 'A', epoch: 1 });
    // The beat stands still again from here: the takeover comes one leaseTtl later.
    await run(timing.leaseTtl + 2 * timing.pollEvery);
    expect(b.serving).toBe(true);
  });

  it('two standbys racing for one silent lease: only one wins', async () => {
    // Two watchers of the same tag (say, B started twice by mistake) poll in lockstep.
    const a = role('A');
    a.start();
    await run(STEP);
    const b1 = role('B');
    const b2 = role('B');
    b1.start();
    b2.start();
    await run(300);
    a.stop();
    for (let t = 0; t < 2 * timing.leaseTtl && db.callsOf('moveLease').length < 2; t += STEP) await run(STEP);
    const moves = db.callsOf('moveLease');
    expect(moves.length).toBe(2);
    // Both tried at the same instant with the same (epoch, beat): the compare-and-set let one through.
    expect(moves[0]!.at).toBe(moves[1]!.at);
    expect(moves[0]!.args).toEqual(moves[1]!.args);
    expect([b1.serving, b2.serving].filter(Boolean)).toHaveLength(1);
    expect(db.lease!.epoch).toBe(2);
    expect(events.filter((e) => e.includes('failover'))).toHaveLength(1);
  });

  // Regression: a fenced holder that could still read the lease saw itself as
  // holder and went back to serving ('resume') without a successful renewal,
  // so it acted again while its renewals kept failing and alongside the
  // standby that took over (src/server/role.ts watch(), holder === tag).
  it('renewals that throw: the holder stops acting before leaseTtl - safetyMargin, and never after the takeover', async () => {
    const [a, b] = await servingPair();
    await run(300);
    conn(a).fail('renewLease', 'throw');
    const lastOk = db.lastBeatAt;
    const fenceBy = lastOk + timing.leaseTtl - timing.safetyMargin;
    await run(3 * timing.leaseTtl, () => {
      atMostOneServing();
      if (clock.now() >= fenceBy) expect(a.serving, `A still acting at ${clock.now()}: ${events.join(', ')}`).toBe(false);
    });
    expect(events).toContainEqual(expect.stringMatching(/^A standby 1 fenced/));
    expect(b.serving).toBe(true);
    // The store comes back: A sees B's lease and stays out of the way.
    conn(a).fail('renewLease', undefined);
    await run(2 * timing.leaseTtl);
    expect(a.state).toBe('standby');
    expect(b.serving).toBe(true);
  });

  it('a dropped renewal: the holder stops acting in time, and recovers once the call fails', async () => {
    const [a, b] = await servingPair();
    await run(300);
    conn(a).fail('renewLease', 'drop');
    const fenceBy = db.lastBeatAt + timing.leaseTtl - timing.safetyMargin;
    await run(3 * timing.leaseTtl, () => {
      atMostOneServing();
      if (clock.now() >= fenceBy) expect(a.serving).toBe(false);
    });
    expect(b.serving).toBe(true);
    conn(a).fail('renewLease', undefined);
    conn(a).releaseDropped();
    await run(2 * timing.leaseTtl);
    expect(a.state).toBe('standby');
    expect(b.serving).toBe(true);
  });

  // Regression: same bug as above (resume without renewing first).
  it('a fenced holder whose store comes back before the takeover never acts together with the standby', async () => {
    const [a, b] = await servingPair();
    await run(300);
    conn(a).fail('renewLease', 'throw');
    conn(a).fail('readLease', 'throw');
    const lastOk = db.lastBeatAt;
    // Store back shortly before the standby's leaseTtl runs out.
    await run(lastOk + timing.leaseTtl - 2 * timing.pollEvery - clock.now());
    expect(a.serving).toBe(false);
    conn(a).fail('renewLease', undefined);
    conn(a).fail('readLease', undefined);
    await run(3 * timing.leaseTtl);
    expect([a.serving, b.serving].filter(Boolean)).toHaveLength(1);
  });

  // Regression: the standby timed a beat from when it asked, not from when the store answered. A read held up
  // while the store came back showed a lease another server had just taken, as if seen a second earlier: the
  // standby took it over about 100 ms later, while its new holder served (both served; texts were lost).
  it('a lease read answered late is timed from its answer: a lease just taken is not taken over at once', async () => {
    db.lease = { _id: 'lease', holder: 'B', epoch: 1, beat: 7, seq: 0 };
    const a = role('A');
    a.start();
    await run(timing.pollEvery + STEP);
    // The next read is held up (the store is away), well within its deadline.
    conn(a).fail('readLease', 'hold');
    await run(timing.pollEvery + STEP);
    const asked = db.callsOf('readLease').at(-1)!.at;
    await run(timing.leaseTtl - 80 - (clock.now() - asked));
    // Meanwhile the lease was taken by another server (a failover: beat 0), which serves from now, for at least
    // leaseTtl - safetyMargin without renewing; then the read reaches the store.
    const taken = clock.now();
    db.lease = { _id: 'lease', holder: 'B', epoch: 2, beat: 0, seq: 0 };
    conn(a).fail('readLease', undefined);
    conn(a).releaseHeld();
    await run(timing.leaseTtl - timing.safetyMargin, () => expect(a.state, `A took over at ${clock.now()}, the lease taken at ${taken}`).toBe('standby'));
    expect(db.callsOf('moveLease')).toHaveLength(0);
    // The beat stays still: a leaseTtl after the answer, A takes over.
    await run(timing.safetyMargin + 2 * timing.pollEvery);
    expect(a.serving).toBe(true);
    expect(db.lease).toMatchObject({ holder: 'A', epoch: 3 });
  });

  it('a restarted holder (new Role, epoch 0) leaves the lease to the other server', async () => {
    const [a, b] = await servingPair();
    await run(300);
    a.stop();
    roles.splice(roles.indexOf(a), 1);
    const a2 = role('A');
    a2.start();
    await run(timing.pollEvery + STEP);
    expect(a2.serving).toBe(false);
    expect(db.lease).toMatchObject({ holder: 'B', epoch: 2 });
    await run(timing.pollEvery + STEP);
    expect(b.serving).toBe(true);
    // The lease stays with B; A is the standby now.
    await run(3 * timing.leaseTtl);
    expect(b.serving).toBe(true);
    expect(a2.state).toBe('standby');
  });

  // Regression: a handoff that reached a freshly started server before its first
  // lease read was taken for a lease from before a restart and given back.
  it('a fresh server whose first look finds a just-handed-over lease (beat 0) serves', async () => {
    const a = role('A');
    a.start();
    await run(300);
    await a.handOver();
    const b = role('B');
    b.start();
    await run(timing.pollEvery + STEP);
    expect(b.serving).toBe(true);
    expect(db.lease).toMatchObject({ holder: 'B', epoch: 2 });
  });

  it('a restarted holder whose peer is down takes its lease back after leaseTtl', async () => {
    const a = role('A');
    a.start();
    await run(300);
    a.stop();
    roles.splice(0, 1);
    const a2 = role('A');
    a2.start();
    await run(timing.pollEvery);
    expect(db.lease).toMatchObject({ holder: 'B', epoch: 2 });
    await run(timing.leaseTtl + 3 * timing.pollEvery);
    expect(a2.serving).toBe(true);
    expect(db.lease).toMatchObject({ holder: 'A', epoch: 3 });
  });

  it('stop() cancels its timer and steps down', async () => {
    const [a, b] = await servingPair();
    a.stop();
    b.stop();
    expect(a.state).toBe('standby');
    expect(clock.pending).toBe(0);
    expect(events.at(-1)).toMatch(/^A standby 1 stopped/);
  });

  it('readLease throwing while standby is retried on the next poll', async () => {
    const a = role('A');
    conn(a).fail('readLease', 'throw');
    a.start();
    await run(5 * timing.pollEvery);
    expect(a.state).toBe('standby');
    expect(db.callsOf('readLease').length).toBeGreaterThanOrEqual(5);
    conn(a).fail('readLease', undefined);
    await run(timing.pollEvery);
    expect(a.serving).toBe(true);
  });
});
