import { describe, expect, it } from 'vitest';
import { RssError, TimeoutError } from '../../src/errors';
import { ClientIdentity } from '../../src/client/identity';
import {
  ACK_RANDOM_FACTOR, ACK_TIMEOUT_MS, EXCHANGE_LIFETIME_MS, MAX_RETRANSMIT, MAX_WAIT_MS, defaultRetryPolicy, firstWait, resolveRetryPolicy,
  retransmitWait, sendsToBoth,
} from '../../src/client/retry';
import { RoundTrips } from '../../src/util/round-trips';
import { decodeNative, encodeNative } from '../../src/protocol/native';
import type { Message } from '../../src/protocol/messages';
import { A, B, exchangesOnFakeClock as setup } from './exchanges';

describe('retry policy', () => {
  it('defaultRetryPolicy returns a fresh object each time', () => {
    const a = defaultRetryPolicy();
    a.ackTimeoutMs = 1;
    expect(defaultRetryPolicy().ackTimeoutMs).toBe(ACK_TIMEOUT_MS);
  });

  it('waits ACK_TIMEOUT..ACK_TIMEOUT*1.5 first, doubles, and caps each wait', () => {
    const p = defaultRetryPolicy();
    expect(retransmitWait(p, 0, () => 0)).toBe(200);
    expect(retransmitWait(p, 0, () => 0.999999)).toBe(300);
    expect([0, 1, 2, 3, 4, 5].map((n) => retransmitWait(p, n, () => 0))).toEqual([200, 400, 800, 1600, 2000, 2000]);
    expect(retransmitWait(p, 3, () => 0.999999)).toBe(2000);
  });

  it('the whole schedule ends within the exchange lifetime even with the largest jitter', () => {
    const p = defaultRetryPolicy();
    let total = 0;
    for (let n = 0; n <= MAX_RETRANSMIT; n++) total += retransmitWait(p, n, () => 0.999999);
    expect(total).toBeLessThanOrEqual(EXCHANGE_LIFETIME_MS);
  });

  it('turns to both servers after the configured silent tries, or as late as they would come with unmeasured waits', () => {
    const p = defaultRetryPolicy();
    expect([0, 1, 2, 3].map((n) => sendsToBoth(p, n))).toEqual([false, false, true, true]);
    // A first wait measured long: its first retransmission, 1.3 s in, already asks both.
    expect(sendsToBoth(p, 1, 1_300)).toBe(true);
    expect(sendsToBoth(p, 1, 599)).toBe(false);
    expect(sendsToBoth(p, 0, 5_000)).toBe(false);
  });

  it('validates overrides and names the bad key', () => {
    expect(resolveRetryPolicy({ maxRetransmit: 2 }).maxRetransmit).toBe(2);
    expect(() => resolveRetryPolicy({ ackTimeoutMs: Number.NaN })).toThrow(/ackTimeoutMs/);
    expect(() => resolveRetryPolicy({ ackRandomFactor: 0.5 })).toThrow(/ackRandomFactor/);
  });
});

describe('firstWait: the first wait of a request after the round trips measured', () => {
  const p = defaultRetryPolicy();

  it('waits ackTimeoutMs until a round trip is measured, and keeps it for fast round trips', () => {
    const rtt = new RoundTrips();
    expect(firstWait(rtt, p)).toBe(ACK_TIMEOUT_MS);
    for (let i = 0; i < 20; i++) rtt.sample(1 + (i % 3));
    expect(firstWait(rtt, p)).toBe(ACK_TIMEOUT_MS);
  });

  it('follows a slow server: smoothed round trip plus four times its variation, capped to leave the jitter room under maxWaitMs', () => {
    const rtt = new RoundTrips();
    rtt.sample(300);
    // The first measurement: 300 + 4 × 150.
    expect(firstWait(rtt, p)).toBe(900);
    for (let i = 0; i < 50; i++) rtt.sample(300);
    // Steady at 300 ms: the variation decays, the wait settles just above the round trip.
    expect(firstWait(rtt, p)).toBeGreaterThan(300);
    expect(firstWait(rtt, p)).toBeLessThan(310);
    for (let i = 0; i < 50; i++) rtt.sample(5_000);
    expect(firstWait(rtt, p)).toBe(MAX_WAIT_MS / ACK_RANDOM_FACTOR);
    // Clients of one slow server still spread their retransmissions.
    expect(retransmitWait(p, 0, () => 0, firstWait(rtt, p))).toBeLessThan(retransmitWait(p, 0, () => 0.999, firstWait(rtt, p)));
    // Faster again: back down to the floor.
    for (let i = 0; i < 100; i++) rtt.sample(2);
    expect(firstWait(rtt, p)).toBe(ACK_TIMEOUT_MS);
  });

  it('a first wait that ran out doubles the next ones (once, however many ran out together) until a round trip is measured', () => {
    const rtt = new RoundTrips();
    for (let i = 0; i < 10; i++) rtt.ranOut(200);
    expect(firstWait(rtt, p)).toBe(400);
    rtt.ranOut(400);
    expect(firstWait(rtt, p)).toBe(800);
    rtt.ranOut(1_600);
    expect(firstWait(rtt, p)).toBe(MAX_WAIT_MS / ACK_RANDOM_FACTOR);
    rtt.sample(3);
    expect(firstWait(rtt, p)).toBe(ACK_TIMEOUT_MS);
  });
});

describe('Exchanges on a FakeClock', () => {
  /** Answer the request in `bytes` with a WHO-LIST. */
  const answer = (ex: ReturnType<typeof setup>['ex'], bytes: Buffer) => {
    const { message } = decodeNative(bytes);
    return ex.accept(decodeNative(encodeNative({ type: 'WHO-LIST', rq: (message as { rq: number }).rq, name: 'bob', users: [] })));
  };

  it("Karn's rule: an answer after a retransmission or a resend (CHANGE-SERVER) measures no round trip", async () => {
    const { clock, sent, ex, servers } = setup();
    servers.adopt(A);
    const p = defaultRetryPolicy();
    // Answered after its retransmission: not measured (the first wait ran out, so the next one doubles).
    const one = ex.request({ type: 'WHO', name: 'bob' });
    clock.advance(250);
    expect(sent).toHaveLength(2);
    answer(ex, sent[0]!.bytes);
    await one;
    expect(firstWait(ex.roundTrips, p)).toBe(2 * ACK_TIMEOUT_MS);
    // Resent at a CHANGE-SERVER, answered 150 ms after its first send: not measured either.
    const two = ex.request({ type: 'WHO', name: 'bob' });
    const first = sent.length - 1;
    clock.advance(100);
    ex.resendAll();
    clock.advance(50);
    answer(ex, sent[first]!.bytes);
    await two;
    expect(firstWait(ex.roundTrips, p)).toBe(2 * ACK_TIMEOUT_MS);
    // Sent once and answered: measured (the doubled wait is forgotten).
    const three = ex.request({ type: 'WHO', name: 'bob' });
    clock.advance(5);
    answer(ex, sent[sent.length - 1]!.bytes);
    await three;
    expect(firstWait(ex.roundTrips, p)).toBe(ACK_TIMEOUT_MS);
    ex.close();
  });

  it('a server slower than the first wait is learned: later requests are not sent again while it works', async () => {
    const { clock, sent, ex, servers } = setup();
    servers.adopt(A);
    const answerAfter = 350;
    /** One WHO answered `answerAfter` ms after its first transmission; how many datagrams it took. */
    async function exchange(): Promise<number> {
      const before = sent.length;
      const call = ex.request({ type: 'WHO', name: 'bob' });
      clock.advance(answerAfter);
      answer(ex, sent[before]!.bytes);
      await call;
      return sent.length - before;
    }
    // A fixed 200 ms wait would send every one of these twice.
    const datagrams = [];
    for (let i = 0; i < 6; i++) datagrams.push(await exchange());
    expect(datagrams[0]).toBe(2);
    // The one that ran out doubled the next wait; answered within it, that one measured the round trip.
    expect(datagrams.slice(1)).toEqual([1, 1, 1, 1, 1]);
    expect(firstWait(ex.roundTrips, defaultRetryPolicy())).toBeGreaterThan(answerAfter);
    ex.close();
  });


  it('sends to both first, retransmits identical bytes on schedule, then times out', async () => {
    const { clock, sent, ex } = setup();
    const call = ex.request({ type: 'WHO', name: 'bob' });
    const outcome = call.catch((e: unknown) => e);
    clock.advance(20_000);
    const err = await outcome;
    expect(err).toBeInstanceOf(TimeoutError);
    // Unknown current server: every transmission goes to both.
    expect(sent.map((s) => s.at)).toEqual([0, 0, 200, 200, 600, 600, 1400, 1400, 3000, 3000, 5000, 5000]);
    expect(new Set(sent.map((s) => s.bytes.toString('hex'))).size).toBe(1);
  });

  it('gives up at the exchange lifetime when it is shorter than the schedule', async () => {
    const { clock, ex } = setup({ ...defaultRetryPolicy(), exchangeLifetimeMs: 500 });
    let settledAt = -1;
    const p = ex.request({ type: 'STATUS' }).catch(() => (settledAt = clock.now()));
    clock.advance(499);
    await Promise.resolve();
    expect(settledAt).toBe(-1);
    clock.advance(1);
    await p;
    expect(settledAt).toBe(500);
    expect(clock.pending).toBe(0);
  });

  it('talks to the current server only, then to both after two silent tries', () => {
    const { clock, sent, ex, servers } = setup();
    servers.adopt(B);
    void ex.request({ type: 'WHO', name: 'bob' }).catch(() => {});
    clock.advance(600);
    expect(sent.map((s) => [s.at, s.to.port])).toEqual([[0, 1002], [200, 1002], [600, 1001], [600, 1002]]);
    ex.close();
  });

  it('resolves with the matching reply and clears its timers', async () => {
    const { clock, sent, ex } = setup();
    const call = ex.request({ type: 'WHO', name: 'bob' });
    const { message } = decodeNative(sent[0]!.bytes);
    const rq = (message as { rq: number }).rq;
    const frame = (m: Message) => decodeNative(encodeNative(m));
    expect(ex.accept(frame({ type: 'REGISTERED', rq, name: 'bob' }))).toBe(false); // wrong reply type for WHO
    expect(ex.accept(frame({ type: 'WHO-LIST', rq: rq + 1, name: 'bob', users: [] }))).toBe(false);
    expect(ex.accept(frame({ type: 'WHO-LIST', rq, name: 'bob', users: [] }))).toBe(true);
    await expect(call).resolves.toMatchObject({ type: 'WHO-LIST' });
    expect(clock.pending).toBe(0);
    expect(ex.accept(frame({ type: 'WHO-LIST', rq, name: 'bob', users: [] }))).toBe(false); // a late duplicate
  });

  it('close() rejects pending calls with RSS_CLOSED', async () => {
    const { clock, ex } = setup();
    const call = ex.request({ type: 'STATUS' });
    ex.close();
    await expect(call).rejects.toMatchObject({ code: 'RSS_CLOSED' });
    await expect(ex.request({ type: 'STATUS' })).rejects.toBeInstanceOf(RssError);
    expect(clock.pending).toBe(0);
  });

  it('the TimeoutError is created when the call starts (its stack names the caller)', async () => {
    const { clock, ex } = setup();
    async function callerNamedForTheStack() {
      return ex.request({ type: 'STATUS' });
    }
    const p = callerNamedForTheStack().catch((e: Error) => e);
    clock.advance(20_000);
    expect(((await p) as Error).stack).toContain('callerNamedForTheStack');
  });
});

describe('ClientIdentity', () => {
  it('ctr is strictly increasing and above the wall clock in µs', () => {
    let wall = 1_000;
    const id = new ClientIdentity(undefined, () => wall);
    const a = id.nextCtr();
    const b = id.nextCtr();
    expect(a).toBe(1_000_000);
    expect(b).toBe(1_000_001);
    wall = 500; // a clock step back does not make ctr go back
    expect(id.nextCtr()).toBe(1_000_002);
    expect(id.cid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // A later run of the same cid starts above.
    wall = 2_000;
    expect(new ClientIdentity(id.cid, () => wall).nextCtr()).toBeGreaterThan(b);
  });

  it('rq wraps after maxRq and skips numbers in use', () => {
    const id = new ClientIdentity('abc');
    const first = id.nextRq();
    expect(id.nextRq((n) => n === first + 1)).toBe(first + 2);
    (id as unknown as { rq: number }).rq = 0xffffffff;
    expect(id.nextRq()).toBe(0);
    expect(() => new ClientIdentity('not valid!')).toThrow(/cid/);
  });

  it('encodes into a native envelope', () => {
    const id = new ClientIdentity();
    const bytes = encodeNative({ type: 'STATUS', rq: id.nextRq() }, { cid: id.cid, ctr: id.nextCtr() });
    expect(decodeNative(bytes).envelope.cid).toBe(id.cid);
  });
});
