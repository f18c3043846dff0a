/** Ordered pushes (stop-and-wait for native users, in order for canonical text users) on a fake port and clock. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredText } from '../../src/protocol/messages';
import { Delivery, MAX_ACK_TIMEOUT, pushSchedule, pushWait, toStoredText, type DeliveryPolicy, type DeliveryPort, type PushOutcome } from '../../src/server/delivery';
import type { TextDoc } from '../../src/store/documents';
import { FakeClock } from '../../src/util/clock';

const policy: DeliveryPolicy = { firstTimeout: 100, maxTransmissions: 4, batch: 3 };

const doc = (seq: number): TextDoc => ({ _id: seq, from: 'alice', subject: 's', text: `t${seq}`, at: seq, req: `r${seq}`, epoch: 1 });
const stored = (seq: number): StoredText => toStoredText(doc(seq));

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What the log owes each user (texts above its cursor), and every push sent. */
class FakePort implements DeliveryPort {
  readonly owedBy = new Map<string, Set<number>>();
  readonly cursor = new Map<string, number>();
  readonly sent: Array<{ user: string; seq: number; at: number }> = [];
  readonly gone = new Set<string>();
  /** Users that cannot acknowledge (canonical text): a push that goes out is received. */
  readonly textUsers = new Set<string>();
  /** Users whose pushes are held back (budget spent, address unproven). */
  readonly blocked = new Set<string>();
  loads = 0;
  /** When set, pending() waits for the test to call the returned release. */
  holdLoads = false;
  failLoads = false;
  private held: Array<() => void> = [];

  constructor(private readonly clock: FakeClock) {}

  owe(user: string, ...seqs: number[]): void {
    let s = this.owedBy.get(user);
    if (!s) this.owedBy.set(user, (s = new Set()));
    for (const q of seqs) s.add(q);
  }

  seqsSentTo(user: string): number[] {
    return this.sent.filter((p) => p.user === user).map((p) => p.seq);
  }

  releaseLoads(): void {
    const h = this.held;
    this.held = [];
    for (const go of h) go();
  }

  async pending(user: string, limit: number): Promise<{ texts: TextDoc[]; more: boolean }> {
    this.loads++;
    if (this.failLoads) throw new Error('store down');
    // The snapshot is taken when the query runs; the answer may arrive later.
    const owed = [...(this.owedBy.get(user) ?? [])].sort((a, b) => a - b);
    if (this.holdLoads) await new Promise<void>((go) => this.held.push(go));
    return { texts: owed.slice(0, limit).map(doc), more: owed.length > limit };
  }

  received(user: string, seq: number): void {
    expect(seq).toBeGreaterThan(this.cursor.get(user) ?? 0);
    this.cursor.set(user, seq);
    for (const q of [...(this.owedBy.get(user) ?? [])]) if (q <= seq) this.owedBy.get(user)!.delete(q);
  }

  readonly gaveUpOn: string[] = [];
  gaveUp(user: string): void {
    this.gaveUpOn.push(user);
  }
  send(user: string, text: StoredText): PushOutcome {
    if (this.gone.has(user)) return 'gone';
    if (this.blocked.has(user)) return 'blocked';
    this.sent.push({ user, seq: text.seq, at: this.clock.now() });
    return this.textUsers.has(user) ? 'delivered' : 'sent';
  }
}

let clock: FakeClock;
let port: FakePort;
let delivery: Delivery;

beforeEach(() => {
  clock = new FakeClock();
  port = new FakePort(clock);
  delivery = new Delivery(port, clock, policy);
  delivery.start();
});
afterEach(() => {
  delivery.stop();
  expect(clock.pending).toBe(0);
});

/** A new text stored for `user` and announced to delivery, as PUBLISH does. */
async function publish(user: string, seq: number): Promise<void> {
  port.owe(user, seq);
  delivery.owe(user, stored(seq));
  await flush();
}

/** RETRIEVE-TEXTS handed over every owed text up to `upTo`: the cursor moves, and delivery is told. */
async function retrieve(user: string, upTo: number): Promise<void> {
  port.received(user, upTo);
  delivery.retrieved(user, upTo);
  await flush();
}

async function ack(user: string, seq: number): Promise<void> {
  delivery.ack(user, seq);
  await flush();
}

describe('Delivery', () => {
  it('stop-and-wait: the next push goes out only after the previous one is acknowledged', async () => {
    port.owe('bob', 1, 2);
    await publish('bob', 3);
    expect(port.seqsSentTo('bob')).toEqual([1]);
    clock.advance(policy.firstTimeout - 1);
    expect(port.seqsSentTo('bob')).toEqual([1]);
    await ack('bob', 1);
    expect(port.seqsSentTo('bob')).toEqual([1, 2]);
    await ack('bob', 2);
    await ack('bob', 3);
    expect(port.seqsSentTo('bob')).toEqual([1, 2, 3]);
    expect(port.owedBy.get('bob')!.size).toBe(0);
    expect(delivery.inFlight).toBe(0);
    expect(delivery.stats).toMatchObject({ pushes: 3, retransmissions: 0, acks: 3 });
  });

  it('an ack for something not in flight does not skip ahead', async () => {
    port.owe('bob', 1, 2);
    await publish('bob', 3);
    await ack('bob', 3);
    expect(port.seqsSentTo('bob')).toEqual([1]);
    await ack('bob', 1);
    expect(port.seqsSentTo('bob')).toEqual([1, 2]);
    await ack('bob', 2);
    expect(port.seqsSentTo('bob')).toEqual([1, 2, 3]);
    expect(delivery.inFlight).toBe(1);
    // The early ACK of 3 counted for nothing: 3 is still owed and in flight.
    expect([...port.owedBy.get('bob')!]).toEqual([3]);
    expect(delivery.stats.staleAcks).toBe(1);
    await ack('bob', 3);
    expect(delivery.inFlight).toBe(0);
  });

  it('a repeated ACK of an older push moves nothing', async () => {
    await publish('bob', 1);
    await publish('bob', 2);
    await ack('bob', 1);
    await ack('bob', 1);
    expect(port.cursor.get('bob')).toBe(1);
    expect(delivery.inFlight).toBe(1);
    await ack('bob', 2);
    expect(port.cursor.get('bob')).toBe(2);
  });

  it('a canonical text user gets every owed text in order at once; each counts as received when it goes out', async () => {
    port.textUsers.add('tim');
    port.owe('tim', 1, 2);
    await publish('tim', 3);
    expect(port.seqsSentTo('tim')).toEqual([1, 2, 3]);
    expect(port.cursor.get('tim')).toBe(3);
    expect(delivery.inFlight).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('a push held back holds the stream (no later text overtakes it) until the user is heard from', async () => {
    port.textUsers.add('tim');
    await publish('tim', 1);
    port.blocked.add('tim');
    await publish('tim', 2);
    port.blocked.delete('tim');
    await publish('tim', 3);
    // 3 is not pushed before 2: the stream is held, both stay owed for RETRIEVE-TEXTS.
    expect(port.seqsSentTo('tim')).toEqual([1]);
    expect([...port.owedBy.get('tim')!].sort()).toEqual([2, 3]);
    delivery.heardFrom('tim');
    await flush();
    expect(port.seqsSentTo('tim')).toEqual([1, 2, 3]);
  });

  it('resume() reads the log again: texts no longer owed (a dropped subject) are not pushed', async () => {
    port.owe('bob', 1, 2, 3);
    await publish('bob', 4);
    expect(port.seqsSentTo('bob')).toEqual([1]);
    // Bob dropped the subject of 2 and 3: the log owes him only 4 now.
    port.owedBy.get('bob')!.delete(2);
    port.owedBy.get('bob')!.delete(3);
    delivery.resume('bob');
    await ack('bob', 1);
    await flush();
    expect(port.seqsSentTo('bob')).toEqual([1, 4]);
  });

  it('streams of different users proceed independently', async () => {
    await publish('bob', 1);
    await publish('carol', 1);
    await publish('bob', 2);
    expect(port.seqsSentTo('bob')).toEqual([1]);
    expect(port.seqsSentTo('carol')).toEqual([1]);
    expect(delivery.inFlight).toBe(2);
    await ack('carol', 1);
    expect(port.seqsSentTo('bob')).toEqual([1]);
  });

  it('retransmits with doubling waits, then gives up; the texts stay owed', async () => {
    await publish('bob', 1);
    await publish('bob', 2);
    clock.advance(10_000);
    await flush();
    const t = policy.firstTimeout;
    expect(port.sent.map((p) => p.at)).toEqual([0, t, 3 * t, 7 * t]);
    expect(port.seqsSentTo('bob')).toEqual([1, 1, 1, 1]);
    expect(delivery.stats).toMatchObject({ pushes: 1, retransmissions: 3, givenUp: 1 });
    expect(port.gaveUpOn).toEqual(['bob']); // presence marks bob offline
    expect([...port.owedBy.get('bob')!]).toEqual([1, 2]);
    expect(delivery.inFlight).toBe(0);
    // Left alone: new texts are not pushed either, until the user is heard from.
    await publish('bob', 3);
    clock.advance(10_000);
    expect(port.sent).toHaveLength(4);
  });

  it('heardFrom resumes an abandoned stream from the inbox, in order', async () => {
    await publish('bob', 1);
    clock.advance(10_000);
    await publish('bob', 2);
    port.owe('bob', 3);
    const before = port.sent.length;
    delivery.heardFrom('bob');
    await flush();
    expect(port.seqsSentTo('bob').slice(before)).toEqual([1]);
    await ack('bob', 1);
    await ack('bob', 2);
    expect(port.seqsSentTo('bob').slice(before)).toEqual([1, 2, 3]);
  });

  it('an ACK that also says the user was heard from (ack with heard) resumes a given-up stream, as heardFrom then ack does', async () => {
    await publish('bob', 1);
    clock.advance(10_000);
    await flush();
    expect(delivery.stats.givenUp).toBe(1);
    const before = port.sent.length;
    // A late ACK of the push given up on: the stream resumes from the log, the ACK itself is stale.
    delivery.ack('bob', 1, true);
    await flush();
    expect(port.seqsSentTo('bob').slice(before)).toEqual([1]);
    expect(delivery.stats.staleAcks).toBe(1);
    // Without `heard` a held stream stays held: the ACK is stale and nothing is pushed again.
    await publish('carol', 5);
    clock.advance(10_000);
    await flush();
    expect(port.gaveUpOn).toContain('carol');
    const carol = port.seqsSentTo('carol').length;
    const stale = delivery.stats.staleAcks;
    const loads = port.loads;
    delivery.ack('carol', 5);
    await flush();
    expect(delivery.stats.staleAcks).toBe(stale + 1);
    expect(port.seqsSentTo('carol')).toHaveLength(carol);
    expect(port.loads).toBe(loads);
  });

  it('heardFrom a reachable user changes nothing', async () => {
    await publish('bob', 1);
    delivery.heardFrom('bob');
    delivery.heardFrom('nobody');
    await flush();
    expect(port.seqsSentTo('bob')).toEqual([1]);
    expect(port.loads).toBe(1);
  });

  it('retrieved() drops queued and in-flight texts and moves on', async () => {
    port.owe('bob', 1, 2, 3);
    await publish('bob', 4);
    expect(port.seqsSentTo('bob')).toEqual([1]);
    await retrieve('bob', 2);
    expect(port.seqsSentTo('bob')).toEqual([1, 3]);
    // The cancelled push of 1 is not retransmitted.
    clock.advance(policy.firstTimeout / 2);
    expect(port.seqsSentTo('bob')).toEqual([1, 3]);
    await retrieve('bob', 4);
    await ack('bob', 3);
    expect(port.seqsSentTo('bob')).toEqual([1, 3]);
  });

  it('a long inbox is loaded in batches', async () => {
    port.owe('bob', 1, 2, 3, 4, 5, 6, 7);
    await publish('bob', 8);
    for (let seq = 1; seq <= 8; seq++) await ack('bob', seq);
    expect(port.seqsSentTo('bob')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(port.loads).toBe(3);
  });

  it('texts owed beyond one batch are loaded later, not dropped', async () => {
    await publish('bob', 1);
    for (const seq of [2, 3, 4, 5, 6]) await publish('bob', seq);
    for (let seq = 1; seq <= 6; seq++) await ack('bob', seq);
    expect(port.seqsSentTo('bob')).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('duplicates are never queued twice', async () => {
    await publish('bob', 1);
    await publish('bob', 2);
    delivery.owe('bob', stored(2));
    delivery.owe('bob', stored(1));
    await flush();
    await ack('bob', 1);
    await ack('bob', 2);
    await flush();
    expect(port.seqsSentTo('bob')).toEqual([1, 2]);
    clock.advance(10_000);
    expect(port.seqsSentTo('bob')).toEqual([1, 2]);
  });

  // Regression: a text owed while the stream was loading from the inbox was
  // marked stale, but the load's answer overwrote the flag with its own `more`
  // (src/server/delivery.ts reload()), so the text was never pushed.
  it('owe() while loading makes the stream load again', async () => {
    port.owe('bob', 1);
    port.holdLoads = true;
    delivery.owe('bob', stored(1));
    await flush();
    // A second text arrives after the load took its snapshot.
    await publish('bob', 2);
    port.holdLoads = false;
    port.releaseLoads();
    await flush();
    expect(port.seqsSentTo('bob')).toEqual([1]);
    await ack('bob', 1);
    expect(port.seqsSentTo('bob')).toEqual([1, 2]);
  });

  // Regression: same bug, when that load came back empty (resuming a user who
  // was owed nothing): the stream then stayed idle with the new text unsent.
  it('owe() during a load that finds nothing still pushes the new text', async () => {
    await publish('bob', 1);
    clock.advance(10_000);
    await retrieve('bob', 1);
    port.holdLoads = true;
    delivery.heardFrom('bob');
    await publish('bob', 2);
    port.holdLoads = false;
    port.releaseLoads();
    await flush();
    await flush();
    expect(port.seqsSentTo('bob').at(-1)).toBe(2);
  });

  it('a failed load is retried on the next event', async () => {
    port.failLoads = true;
    await publish('bob', 1);
    expect(port.sent).toEqual([]);
    port.failLoads = false;
    await publish('bob', 2);
    expect(port.seqsSentTo('bob')).toEqual([1]);
    await ack('bob', 1);
    expect(port.seqsSentTo('bob')).toEqual([1, 2]);
  });

  it('a user who is gone is forgotten', async () => {
    port.gone.add('bob');
    await publish('bob', 1);
    expect(delivery.inFlight).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('nothing is pushed before start() or after stop(), and stop() cancels every timer', async () => {
    const d = new Delivery(port, clock, policy);
    port.owe('bob', 1);
    d.owe('bob', stored(1));
    await flush();
    expect(port.sent).toEqual([]);
    await publish('carol', 1);
    await publish('dave', 1);
    expect(delivery.inFlight).toBe(2);
    // One timer for every push awaiting its ACK.
    expect(clock.pending).toBe(1);
    delivery.stop();
    expect(clock.pending).toBe(0);
    expect(delivery.inFlight).toBe(0);
    clock.advance(10_000);
    expect(port.sent).toHaveLength(2);
  });

  it('forget() cancels the stream of a de-registered user', async () => {
    await publish('bob', 1);
    delivery.forget('bob');
    clock.advance(10_000);
    expect(port.seqsSentTo('bob')).toEqual([1]);
    // Its push's time came and went without a retransmission, and nothing waits any more.
    expect(delivery.stats.retransmissions).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('one timer serves every push awaiting its ACK, each sent again at its own time, the acknowledged ones never', async () => {
    // firstTimeout 100: pushes at 0, 30 and 60 are due at 100, 130 and 160.
    await publish('bob', 1);
    clock.advance(30);
    await publish('carol', 2);
    clock.advance(30);
    await publish('dave', 3);
    expect(clock.pending).toBe(1);
    await ack('carol', 2);
    // bob's wait ends first: only his push goes again; carol's was acknowledged, dave's is not due yet.
    clock.advance(40);
    expect(port.sent.map((x) => `${x.user}@${x.at}`)).toEqual(['bob@0', 'carol@30', 'dave@60', 'bob@100']);
    clock.advance(70);
    expect(port.sent.map((x) => `${x.user}@${x.at}`)).toEqual(['bob@0', 'carol@30', 'dave@60', 'bob@100', 'dave@160']);
    expect(clock.pending).toBe(1);
    await ack('bob', 1);
    await ack('dave', 3);
    expect(delivery.inFlight).toBe(0);
    expect(delivery.stats).toMatchObject({ pushes: 3, retransmissions: 2, acks: 3, staleAcks: 0 });
  });
});

describe('the adaptive push timeout', () => {
  it('each push that runs out doubles the timeout from where it is: under a fault many run out together and the waits grow fast', async () => {
    for (const [i, user] of ['u1', 'u2', 'u3'].entries()) await publish(user, i + 1);
    clock.advance(policy.firstTimeout);
    await flush();
    expect(delivery.stats.retransmissions).toBe(3);
    expect(delivery.ackTimeout).toBe(8 * policy.firstTimeout);
    for (const [i, user] of ['u1', 'u2', 'u3'].entries()) await ack(user, i + 1);
  });

  it('a push whose ACKs come back slowly is not retransmitted at the first timeout', async () => {
    // Ten pushes each acknowledged after 3 × the first timeout: the ACKs were only queued, not lost.
    for (let seq = 1; seq <= 10; seq++) {
      await publish('bob', seq);
      clock.advance(3 * policy.firstTimeout - 1);
      await ack('bob', seq);
    }
    // Only the first push timed out (retransmitted once) before the round trips were learnt.
    expect(delivery.stats.retransmissions).toBeLessThanOrEqual(2);
    expect(delivery.ackTimeout).toBeGreaterThan(3 * policy.firstTimeout);
    await publish('bob', 11);
    clock.advance(3 * policy.firstTimeout);
    expect(port.seqsSentTo('bob').filter((s) => s === 11)).toHaveLength(1);
    await ack('bob', 11);
  });

  it('the give-up schedule is the sum of the doubling waits, each capped', () => {
    expect(pushSchedule(100, 4)).toBe(100 + 200 + 400 + 800);
    expect(pushWait(MAX_ACK_TIMEOUT, 5)).toBe(4 * MAX_ACK_TIMEOUT);
  });
});

describe('Delivery: reads of the log at once', () => {
  it('after a takeover, at most `loads` streams read the log at once; the others wait their turn, and every one is pushed', async () => {
    const d = new Delivery(port, clock, { ...policy, loads: 2 });
    d.start();
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
    users.forEach((u, i) => port.owe(u, i + 1));
    port.holdLoads = true;
    for (const u of users) d.resume(u);
    await flush();
    expect(port.loads).toBe(2);
    expect(d.loadsInFlight).toBe(2);
    port.releaseLoads();
    await flush();
    expect(port.loads).toBe(4);
    port.releaseLoads();
    await flush();
    expect(port.loads).toBe(5);
    port.releaseLoads();
    await flush();
    expect(d.loadsInFlight).toBe(0);
    expect(users.map((u) => port.seqsSentTo(u))).toEqual([[1], [2], [3], [4], [5]]);
    d.stop();
  });

  it('a stream stopped while it waits for its turn reads nothing and frees its turn', async () => {
    const d = new Delivery(port, clock, { ...policy, loads: 1 });
    d.start();
    port.owe('u1', 1);
    port.owe('u2', 2);
    port.holdLoads = true;
    d.resume('u1');
    d.resume('u2');
    await flush();
    d.forget('u2');
    port.releaseLoads();
    await flush();
    expect(port.loads).toBe(1);
    expect(d.loadsInFlight).toBe(0);
    expect(port.seqsSentTo('u1')).toEqual([1]);
    d.stop();
  });
});

describe('Delivery: paused for a handoff', () => {
  it('pushes nothing while paused (nor retransmits), counts an ACK of the push in flight, and reads the log again on resumeAll', async () => {
    port.owe('bob', 1, 2);
    delivery.resume('bob');
    await flush();
    expect(port.seqsSentTo('bob')).toEqual([1]);
    delivery.pause();
    await ack('bob', 1);
    expect(port.cursor.get('bob')).toBe(1);
    await publish('bob', 3);
    port.owe('carol', 4);
    delivery.resume('carol');
    clock.advance(10 * policy.firstTimeout);
    await flush();
    expect(port.sent.map((p) => p.seq)).toEqual([1]);
    delivery.resumeAll();
    await flush();
    expect(port.seqsSentTo('bob')).toEqual([1, 2]);
    expect(port.seqsSentTo('carol')).toEqual([4]);
  });
});

describe('Delivery: late ACKs judged after the server read its backlog', () => {
  /** A port whose backlog check the test completes (the marker comes back when the test says). */
  class BacklogPort extends FakePort {
    waiting: (() => void)[] = [];
    afterBacklog(go: () => void): void {
      this.waiting.push(go);
    }
    readBacklog(): void {
      const w = this.waiting;
      this.waiting = [];
      for (const go of w) go();
    }
  }
  let bport: BacklogPort;
  let d: Delivery;
  beforeEach(() => {
    bport = new BacklogPort(clock);
    d = new Delivery(bport, clock, policy);
    d.start();
  });
  afterEach(() => d.stop());

  it('an ACK waiting in the server\'s own queue when the push is due prevents the retransmission', async () => {
    bport.owe('bob', 1);
    d.owe('bob', stored(1));
    await flush();
    clock.advance(policy.firstTimeout);
    // Due, but not judged yet: the ACK may be behind other datagrams.
    expect(bport.waiting).toHaveLength(1);
    expect(bport.seqsSentTo('bob')).toEqual([1]);
    d.ack('bob', 1);
    bport.readBacklog();
    expect(bport.seqsSentTo('bob')).toEqual([1]);
    expect(d.stats).toMatchObject({ pushes: 1, retransmissions: 0, staleAcks: 0 });
    expect(bport.cursor.get('bob')).toBe(1);
  });

  it('a push whose ACK is still missing once the backlog is read is sent again, and the schedule goes on', async () => {
    bport.owe('bob', 1);
    d.owe('bob', stored(1));
    await flush();
    clock.advance(policy.firstTimeout);
    clock.advance(50);
    bport.readBacklog();
    expect(bport.seqsSentTo('bob')).toEqual([1, 1]);
    expect(d.stats.retransmissions).toBe(1);
    // Each retransmission is judged the same way, up to giving up.
    for (let i = 0; i < 10; i++) {
      clock.advance(10_000);
      bport.readBacklog();
    }
    expect(bport.seqsSentTo('bob')).toHaveLength(policy.maxTransmissions);
    expect(bport.gaveUpOn).toEqual(['bob']);
  });
});
