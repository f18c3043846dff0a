/** A ring of servers: order, liveness from store heartbeats and peer datagrams, succession, and the roles taking turns on it. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RingMember, ServerTag } from '../../src/protocol/messages';
import { Role, type RoleTiming } from '../../src/server/role';
import { Ring, pairSuccession, ringOrder, sameRing, type MemberStore, type RingTiming } from '../../src/server/ring';
import { FakeClock } from '../../src/util/clock';
import { FakeLeaseDb } from './fake-lease-store';

const roleTiming: RoleTiming = { leaseTtl: 1000, renewEvery: 100, pollEvery: 50, safetyMargin: 300 };
const ringTiming: RingTiming = { beatEvery: 100, liveFor: 500, rankDelay: 300 };
const STEP = 10;
const MEMBERS: RingMember[] = ['A', 'B', 'C'].map((tag, i) => ({ tag, host: '127.0.0.1', port: 5001 + i }));

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The heartbeat counters, as the store's `control` collection holds them. */
class FakeMemberDb implements MemberStore {
  readonly beats = new Map<ServerTag, number>();
  async beatMember(name: ServerTag): Promise<void> {
    this.beats.set(name, (this.beats.get(name) ?? 0) + 1);
  }
  async readMemberBeats(names: readonly ServerTag[]): Promise<Map<ServerTag, number>> {
    return new Map([...this.beats].filter(([n]) => names.includes(n)));
  }
}

let clock: FakeClock;
let members: FakeMemberDb;
let started: { stop(): void }[];

beforeEach(() => {
  clock = new FakeClock();
  members = new FakeMemberDb();
  started = [];
});
afterEach(() => {
  for (const s of started) s.stop();
  expect(clock.pending).toBe(0);
});

async function run(ms: number, check: () => void = () => {}): Promise<void> {
  await flush();
  for (let t = 0; t < ms; t += STEP) {
    clock.advance(Math.min(STEP, ms - t));
    await flush();
    check();
  }
}

function ring(self: ServerTag, list: readonly RingMember[] = MEMBERS): Ring {
  const r = new Ring(self, list, members, clock, ringTiming);
  r.start();
  started.push(r);
  return r;
}

describe('ringOrder', () => {
  it('keeps the order given when the list names this server, and orders by name otherwise', () => {
    const [a, b, c] = MEMBERS as [RingMember, RingMember, RingMember];
    expect(ringOrder(b, [c, a, b]).map((m) => m.tag)).toEqual(['C', 'A', 'B']);
    expect(ringOrder(b, [c, a]).map((m) => m.tag)).toEqual(['A', 'B', 'C']);
  });
});

describe('sameRing', () => {
  it('is true for the same servers, addresses and order only; a pair (undefined) equals only a pair', () => {
    const [a, b, c] = MEMBERS as [RingMember, RingMember, RingMember];
    expect(sameRing([a, b, c], MEMBERS.map((m) => ({ ...m })))).toBe(true);
    expect(sameRing([a, b, c], [a, c, b])).toBe(false);
    expect(sameRing([a, b, c], [a, b, { ...c, port: 1 }])).toBe(false);
    expect(sameRing([a, b], [a, b, c])).toBe(false);
    expect(sameRing(undefined, [a, b])).toBe(false);
    expect(sameRing(undefined, undefined)).toBe(true);
  });
});

describe('Ring', () => {
  it('a server counts as live only once its heartbeat moves, and dead after liveFor without a beat', async () => {
    const a = ring('A');
    // B's counter is there from before (a dead server's, say): no proof of life.
    members.beats.set('B', 7);
    await run(300);
    expect(a.liveOthers()).toEqual([]);
    expect(a.nextLive()).toBeUndefined();
    expect(a.next()).toBe('B');
    const b = ring('B');
    await run(250);
    expect(a.liveOthers()).toEqual(['B']);
    expect(a.nextLive()).toBe('B');
    b.stop();
    await run(ringTiming.liveFor + ringTiming.beatEvery);
    expect(a.liveOthers()).toEqual([]);
  });

  it('a MACed peer datagram counts as a sign of life too (for liveFor)', async () => {
    const a = ring('A');
    a.heard('C');
    expect(a.nextLive()).toBe('C');
    await run(ringTiming.liveFor);
    expect(a.nextLive()).toBeUndefined();
    a.heard('Z'); // not a member: ignored
    expect(a.liveOthers()).toEqual([]);
  });

  it('hands over to the next live server in ring order, skipping silent ones', async () => {
    const [a, , c] = [ring('A'), ring('B'), ring('C')];
    await run(300);
    expect(a.nextLive()).toBe('B');
    expect(c.nextLive()).toBe('A');
    started[1]!.stop(); // B dies
    await run(ringTiming.liveFor + ringTiming.beatEvery);
    expect(a.nextLive()).toBe('C');
  });

  it('when the holder is silent, the next live server after it goes first and the others wait a rank each', async () => {
    const four = [...MEMBERS, { tag: 'D', host: '127.0.0.1', port: 5004 }];
    const rs = four.map((m) => ring(m.tag, four));
    await run(300);
    const [a, b, c, d] = rs as [Ring, Ring, Ring, Ring];
    expect([b, c, d].map((r) => r.takeoverDelay('A'))).toEqual([0, 300, 600]);
    expect([a, b, d].map((r) => r.takeoverDelay('C'))).toEqual([300, 600, 0]);
    started[3]!.stop(); // D dies: for holder C, A is now first
    await run(ringTiming.liveFor + ringTiming.beatEvery);
    expect([a, b].map((r) => r.takeoverDelay('C'))).toEqual([0, 300]);
  });

  it('the pair keeps its fixed succession: the other server, no delay, A starts', () => {
    const a = pairSuccession('A', { host: 'h', port: 2 });
    const b = pairSuccession('B', { host: 'h', port: 1 });
    expect([a.next(), a.nextLive(), a.startsFirst, a.takeoverDelay('B')]).toEqual(['B', 'B', true, 0]);
    expect([b.next(), b.nextLive(), b.startsFirst]).toEqual(['A', 'A', false]);
    expect(a.members).toBeUndefined();
  });
});

describe('roles on a ring of three', () => {
  let db: FakeLeaseDb;
  let roles: Map<ServerTag, { role: Role; ring: Ring }>;
  let events: string[];

  beforeEach(() => {
    db = new FakeLeaseDb(clock);
    roles = new Map();
    events = [];
  });

  function server(tag: ServerTag): { role: Role; ring: Ring } {
    const r = ring(tag);
    const role = new Role(tag, db.connect(tag), clock, roleTiming, undefined, r);
    role.on('serving', (e) => events.push(`${tag} ${e.reason} ${e.epoch}`));
    role.start();
    started.push(role);
    roles.set(tag, { role, ring: r });
    return roles.get(tag)!;
  }

  /** Never two roles allowed to act at the same instant. */
  const atMostOne = () => {
    const acting = [...roles.values()].filter((s) => s.role.serving);
    expect(acting.length, `acting at ${clock.now()}`).toBeLessThanOrEqual(1);
  };
  const servingNow = () => [...roles].filter(([, s]) => s.role.serving).map(([t]) => t);

  /** A server dies: no more renewals, no more heartbeats. */
  function crash(tag: ServerTag): void {
    const s = roles.get(tag)!;
    s.role.stop();
    s.ring.stop();
    roles.delete(tag);
  }

  /** What the server does at the end of its period: hand the lease to the next live server. */
  async function handOff(tag: ServerTag): Promise<void> {
    const s = roles.get(tag)!;
    const to = s.ring.nextLive();
    expect(to).toBeDefined();
    expect(await s.role.handOver(to)).toBe(true);
    roles.get(to!)!.role.poke();
    await run(STEP);
  }

  it('turns cycle A → B → C → A; crashes are taken over by the next in ring order, one server at a time', async () => {
    for (const t of ['A', 'B', 'C']) server(t);
    await run(300, atMostOne);
    expect(servingNow()).toEqual(['A']);
    await handOff('A');
    expect(servingNow()).toEqual(['B']);
    await handOff('B');
    expect(servingNow()).toEqual(['C']);
    await handOff('C');
    expect(servingNow()).toEqual(['A']);

    // A (serving) crashes: B, next after it, takes over after the lease time; C, a rank later, backs off.
    crash('A');
    await run(roleTiming.leaseTtl + 2 * ringTiming.rankDelay + 200, atMostOne);
    expect(servingNow()).toEqual(['B']);
    expect(events.filter((e) => e.includes('failover'))).toEqual(['B failover 5']);
    // B hands over to C, the next one (and live).
    await handOff('B');
    expect(servingNow()).toEqual(['C']);

    // C crashes too: B is the last one and serves.
    crash('C');
    await run(roleTiming.leaseTtl + 2 * ringTiming.rankDelay + 200, atMostOne);
    expect(servingNow()).toEqual(['B']);
    expect(roles.get('B')!.ring.nextLive()).toBeUndefined();

    // A restarted rejoins as a standby and gets the next turn.
    server('A');
    await run(300, atMostOne);
    expect(servingNow()).toEqual(['B']);
    await handOff('B');
    expect(servingNow()).toEqual(['A']);
  });

  it('a holder restarted while its lease is still in the store leaves it to the next server in ring order', async () => {
    server('B');
    server('C');
    // No A: B and C wait twice the lease time, then one creates the lease.
    await run(2 * roleTiming.leaseTtl + 300, atMostOne);
    const first = servingNow();
    expect(first).toHaveLength(1);
    expect(events[0]).toMatch(/initial 1$/);
    if (first[0] !== 'B') await handOff(first[0]!);
    expect(servingNow()).toEqual(['B']);
    // B crashes and restarts at once, before its lease expires.
    crash('B');
    server('B');
    await run(500, atMostOne);
    expect(servingNow()).toEqual(['C']);
  });
});
