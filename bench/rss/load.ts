/**
 * The rss load generator, as its own process: a lean native-dialect client
 * on a few raw UDP sockets (it measures the server, not the client
 * library). Requests are built by wire.ts and matched to replies by RQ#;
 * pushed MESSAGEs are acknowledged at once, as RssClient does. Load is
 * paced: closed-loop with a window of outstanding requests for the maximum
 * rate, open-loop at a target rate (latency counted from the intended send
 * time, so a slow server cannot hide its queueing) for latency and gaps.
 * Bench code may use node:dgram directly: it is not part of rss.
 */
import { createSocket, type Socket } from 'node:dgram';
import { MongoClient } from 'mongodb';
import { defaultRetryPolicy, firstWait, retransmitWait, sendsToBoth, type RetryPolicy } from '../../src/client/retry';
import { RoundTrips } from '../../src/util/round-trips';
import { DENIAL_REASONS, type Message } from '../../src/protocol/messages';
import type { Address } from '../../src/transport/types';
import { emitEvent, serveCommands } from './proc';
import { sleep, summarize } from './stats';
import { episodes } from './tail';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { NativeWire, readFast, readFrame, type Body } from './wire';

interface Pending {
  body: Body;
  bytes: Buffer;
  /** Re-sealings after a stale-counter refusal. */
  reseals: number;
  /** Intended send time (ms, performance.now()). */
  at: number;
  lastSent: number;
  tries: number;
  /** Copies sent (retransmissions, and the resends a CHANGE-SERVER makes): its round trip is measured only when 1. */
  copies: number;
  /** The first wait (firstWait of its client's round trips when sent, before jitter); then doubled each time, as RssClient's policy does. */
  firstWait: number;
  wait?: number;
  /** The datagrams of a RETRIEVED answer in several parts, until all are in. */
  parts?: Map<number, Extract<Message, { type: 'RETRIEVED' }>>;
  done: (reply: Message, now: number) => void;
}

interface Client {
  socket: Socket;
  wire: NativeWire;
  port: number;
  pending: Map<number, Pending>;
  /** Its exchanges' round trips: the first wait of a request, as RssClient's. */
  roundTrips: RoundTrips;
}

const TEXT = 'x'.repeat(64);
/** A request answered later than this (ms) counts as slow in the tail evidence. */
const SLOW_MS = 20;
let servers: [Address, Address];
let current: Address;
let epoch = -1;
const clients: Client[] = [];
/** Which client (socket + cid) each user belongs to. */
const owner = new Map<string, Client>();
/** Last pushed seq shown per user: counts each delivery once, however often it is retransmitted. */
const lastSeq = new Map<string, number>();
let deliveries = 0;
let retransmits = 0;
const changes: number[] = [];
/** RssClient's retry policy with the first wait at least `first` ms (`open`'s retransmitMs, 200 by default). */
const policyWith = (first: number): RetryPolicy => ({ ...defaultRetryPolicy(), ackTimeoutMs: first, maxWaitMs: Math.max(2000, first) });
let retryPolicy = policyWith(200);
let sweeper: NodeJS.Timeout | undefined;

function send(c: Client, bytes: Buffer, to: Address = current): void {
  c.socket.send(bytes, to.port, to.host);
}

/** Users whose pushes are not acknowledged (the retrieve scenario's reader: what is pushed to it stays owed). */
const silent = new Set<string>();
/** What a PUBLISHED read by the fast path resolves its request with (the callers only look at the type). */
const PUBLISHED = { type: 'PUBLISHED' } as Message;

function onDatagram(c: Client, bytes: Buffer, from: { address: string; port: number }): void {
  // The two datagrams of every publish, read without JSON.parse (wire.ts readFast); anything else decoded in full below.
  const fast = readFast(bytes);
  if (fast?.type === 'MESSAGE') {
    if (silent.has(fast.to)) return;
    c.socket.send(c.wire.fastAck(fast.to, fast.seq), from.port, from.address);
    if (fast.seq > (lastSeq.get(fast.to) ?? 0)) {
      lastSeq.set(fast.to, fast.seq);
      deliveries++;
    }
    return;
  }
  if (fast?.type === 'PUBLISHED') {
    const p = c.pending.get(fast.rq);
    if (!p) return;
    if (fast.pv && 'name' in p.body) c.wire.proven.add(p.body.name);
    c.pending.delete(fast.rq);
    p.done(PUBLISHED, performance.now());
    return;
  }
  const frame = readFrame(bytes);
  if (!frame) return;
  const m = frame.message;
  if (frame.envelope.pv === 1 && 'name' in m) c.wire.proven.add(m.name);
  if (m.type === 'MESSAGE') {
    // Every copy is acknowledged (the server retransmits until it hears one).
    if (m.to && !silent.has(m.to)) {
      c.socket.send(c.wire.ack(m.to, m.seq), from.port, from.address);
      if (m.seq > (lastSeq.get(m.to) ?? 0)) {
        lastSeq.set(m.to, m.seq);
        deliveries++;
      }
    }
    return;
  }
  if (m.type === 'CHALLENGE') {
    // The address proves it receives (pushes wait for it), as RssClient answers.
    c.socket.send(c.wire.challengeResponse(m.to, m.nonce), from.port, from.address);
    return;
  }
  if (m.type === 'CHANGE-SERVER') {
    if (m.epoch !== undefined && m.epoch <= epoch) return;
    if (m.epoch !== undefined) epoch = m.epoch;
    const now = performance.now();
    changes.push(now);
    current = servers.find((s) => s.port === m.port) ?? current;
    // A user told to switch asks the new server at once for everything still unanswered.
    for (const cl of clients) for (const p of cl.pending.values()) { send(cl, p.bytes); p.lastSent = now; p.copies++; }
    return;
  }
  if ('rq' in m && typeof m.rq === 'number') {
    const p = c.pending.get(m.rq);
    if (!p) return;
    if ((m as { reason?: string }).reason === DENIAL_REASONS.staleCounter && p.reseals < 3) {
      // Not executed: our counter fell behind the server's window (after a handoff); seal it afresh, as RssClient does.
      p.reseals++;
      p.copies++;
      p.bytes = c.wire.request(p.body, m.rq);
      send(c, p.bytes, { host: from.address, port: from.port });
      return;
    }
    if (m.type === 'RETRIEVED' && m.parts !== undefined && m.parts > 1) {
      // An answer in several datagrams (RssClient asks for up to 16): done when every part is in, texts in part order.
      const held = p.parts?.values().next().value;
      if (!p.parts || (held && (held.parts !== m.parts || held.answer !== m.answer))) p.parts = new Map();
      p.parts.set(m.part ?? 0, m);
      if (p.parts.size < m.parts) return;
      const all = [...p.parts.entries()].sort((x, y) => x[0] - y[0]).map(([, r]) => r);
      c.pending.delete(m.rq);
      measure(c, p);
      p.done({ ...m, texts: all.flatMap((r) => r.texts), more: all.some((r) => r.more) }, performance.now());
      return;
    }
    c.pending.delete(m.rq);
    measure(c, p);
    c.wire.learn(m);
    p.done(m, performance.now());
  }
}

/** An answered request's round trip, when it was sent once (Karn's rule, as RssClient's). */
function measure(c: Client, p: Pending): void {
  if (p.copies === 1) c.roundTrips.sample(performance.now() - p.lastSent);
}

/** Retransmit the identical bytes of requests left unanswered; after two tries (or as late as two would come), to both servers. */
function sweep(): void {
  const now = performance.now();
  for (const c of clients) {
    for (const p of c.pending.values()) {
      // As RssClient's (retransmitWait): the first wait is what the client's round trips call for (at least
      // retransmitMs), each wait stretched by up to 1.5 and doubled up to 2 s. With fixed waits, one stall of the
      // server made every outstanding request come again every 200 ms, and the copies kept the server too busy to
      // catch up (a floor run at half its maximum never recovered); with a fixed first wait, a server that fell
      // 200 ms behind was still sent a copy of each.
      p.wait ??= retransmitWait(retryPolicy, 0, Math.random, p.firstWait);
      if (now - p.lastSent < p.wait) continue;
      if (p.copies === 1) c.roundTrips.ranOut(p.firstWait);
      p.wait = retransmitWait(retryPolicy, p.tries, Math.random, p.firstWait);
      p.tries++;
      p.copies++;
      p.lastSent = now;
      retransmits++;
      // As RssClient: an answer may have been held back by a budget, so the user's requests are padded again.
      if ('name' in p.body) c.wire.proven.delete(p.body.name);
      if (sendsToBoth(retryPolicy, p.tries - 1, now - p.at)) for (const s of servers) send(c, p.bytes, s);
      else send(c, p.bytes);
    }
  }
}

/** Pre-encoded PUBLISH builders per publisher (wire.ts), used while the publisher is proven; its body, built once. */
const builders = new Map<string, (rq: number) => Buffer>();
const bodies = new Map<string, Body>();

/**
 * Send `name`'s PUBLISH (intended at `at`) and call `done` with its answer:
 * the hot path of every scenario, with no promise and no JSON.stringify
 * per publish once the publisher is proven.
 */
function publish(name: string, at: number, done: (reply: Message, now: number) => void): void {
  const c = owner.get(name)!;
  let body = bodies.get(name);
  if (!body) bodies.set(name, (body = { type: 'PUBLISH', name, subject: subjectOf.get(name)!, text: TEXT }));
  const rq = c.wire.nextRq();
  let build = c.wire.proven.has(name) ? builders.get(name) : undefined;
  if (!build && c.wire.proven.has(name)) {
    build = c.wire.publisher(name, subjectOf.get(name)!, TEXT);
    if (build) builders.set(name, build);
  }
  const bytes = build ? build(rq) : c.wire.request(body, rq);
  c.pending.set(rq, { body, bytes, reseals: 0, at, lastSent: performance.now(), tries: 1, copies: 1, firstWait: firstWait(c.roundTrips, retryPolicy), done });
  send(c, bytes);
}

function request(c: Client, body: Body, at = performance.now()): Promise<{ reply: Message; at: number; now: number }> {
  return new Promise((resolve) => {
    const rq = c.wire.nextRq();
    const bytes = c.wire.request(body, rq);
    c.pending.set(rq, {
      body, bytes, reseals: 0, at, lastSent: performance.now(), tries: 1, copies: 1, firstWait: firstWait(c.roundTrips, retryPolicy),
      done: (reply, now) => resolve({ reply, at, now }),
    });
    send(c, bytes);
  });
}

function requestAs(user: string, body: Body, at?: number) {
  return request(owner.get(user)!, body, at);
}

async function openSocket(): Promise<Client> {
  // Addresses are literal IPs: answering the lookup at once spares dns.lookup's deferred callback on every send.
  const lookup = (host: string, _o: unknown, cb: (err: Error | null, address: string, family: number) => void) => cb(null, host, 4);
  const socket = createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20, lookup: lookup as never });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const c: Client = { socket, wire: new NativeWire(), port: socket.address().port, pending: new Map(), roundTrips: new RoundTrips() };
  socket.on('message', (b, from) => onDatagram(c, b, from));
  return c;
}

/** Run `task(i)` for i in [0, n) with at most `window` running at once. */
async function windowed(n: number, window: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(window, n) }, async () => {
    while (next < n) await task(next++);
  }));
}

function expect(reply: Message, type: string, what: string): void {
  if (reply.type === 'REGISTER-DENIED' && /key/i.test(reply.reason)) {
    throw new Error(`${what}: ${reply.reason}. This commit's native dialect is authenticated and bench/rss/wire.ts does not speak it yet: ` +
      'bench an earlier commit with --ref (see docs/BENCHMARKS.md)');
  }
  if (reply.type !== type) throw new Error(`${what}: ${JSON.stringify(reply)}`);
}

/** Users of a publish scenario: publisher p<i> alone publishes on subject t<i>; listeners l<i>_<j> follow it. */
let publishers: string[] = [];
/** Each publisher's subject, worked out once (not per publish: the generator must stay cheap). */
const subjectOf = new Map<string, string>();

function counters() {
  return { deliveries, retransmits };
}

serveCommands({
  /** Bind `sockets` client sockets; requests go to `servers[first]` until a CHANGE-SERVER says otherwise. */
  async open(a: { servers: [Address, Address]; first: number; sockets: number; retransmitMs?: number }) {
    servers = a.servers;
    current = servers[a.first]!;
    retryPolicy = policyWith(a.retransmitMs ?? 200);
    while (clients.length < a.sockets) clients.push(await openSocket());
    sweeper ??= setInterval(sweep, Math.max(5, Math.min(50, retryPolicy.ackTimeoutMs / 4)));
    return clients.map((c) => ({ port: c.port, cid: c.wire.cid }));
  },

  /** Register `publishers` publishers, each with its own subject and `fanout` listeners on it. */
  async setup(a: { publishers: number; fanout: number; prefix: string }) {
    const users: { name: string; subject: string }[] = [];
    publishers = [];
    for (let i = 0; i < a.publishers; i++) {
      const subject = `${a.prefix}t${i}`;
      publishers.push(`${a.prefix}p${i}`);
      subjectOf.set(`${a.prefix}p${i}`, subject);
      users.push({ name: `${a.prefix}p${i}`, subject });
      for (let j = 0; j < a.fanout; j++) users.push({ name: `${a.prefix}l${i}_${j}`, subject });
    }
    const t0 = performance.now();
    await windowed(users.length, 32, async (i) => {
      const u = users[i]!;
      const c = clients[i % clients.length]!;
      owner.set(u.name, c);
      expect((await request(c, { type: 'REGISTER', name: u.name, host: '127.0.0.1', port: c.port })).reply, 'REGISTERED', `register ${u.name}`);
      expect((await request(c, { type: 'SUBJECTS', name: u.name, subjects: [u.subject] })).reply, 'SUBJECTS-UPDATED', `subjects ${u.name}`);
    });
    return { users: users.length, ms: performance.now() - t0 };
  },

  /** Closed loop: one PUBLISH outstanding per publisher (window = publishers); count what is acknowledged and delivered. */
  async throughput(a: { warmupMs: number; durationMs: number; window?: number }) {
    const window = Math.min(a.window ?? publishers.length, publishers.length);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let ackedAll = 0;
    const from = t0 + a.warmupMs;
    const until = from + a.durationMs;
    let acked = 0;
    let denied = 0;
    const lat: number[] = [];
    let d0 = 0;
    let r0 = 0;
    setTimeout(() => { d0 = deliveries; r0 = retransmits; }, a.warmupMs);
    await new Promise<void>((resolve) => {
      let running = window;
      const next = (name: string) => {
        const at = performance.now();
        if (at >= until) {
          if (--running === 0) resolve();
          return;
        }
        publish(name, at, (reply, now) => {
          if (reply.type !== 'PUBLISHED') denied++;
          else ackedAll++;
          if (now >= from && now < until) { acked++; lat.push(now - at); }
          next(name);
        });
      };
      for (const name of publishers.slice(0, window)) next(name);
    });
    const d1 = deliveries;
    // Let pushes still in flight arrive, so deliveries are not cut short by the stop.
    await sleep(300);
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    return {
      acked, rate: (acked / a.durationMs) * 1000, deliveries: d1 - d0, deliveryRate: ((d1 - d0) / a.durationMs) * 1000, denied,
      retransmits: retransmits - r0, latency: summarize(lat), window,
      // For CPU per publish: every publish acknowledged during the call (warm-up included), and how long the call took.
      ackedAll, seconds,
      /** Share of one core this generator used during the call: near 100% means it, not the server, may be the bound. */
      loadCpu: (cpu.user + cpu.system) / 1e6 / seconds,
    };
  },

  /** Open loop at `rate` PUBLISH/s, round-robin over publishers; latency from the intended send time. */
  async latency(a: { rate: number; warmupMs: number; durationMs: number }) {
    const lat: number[] = [];
    /** Each measured request: intended send time (absolute ms) and latency, to find how the slow ones cluster. */
    const samples: { at: number; ms: number }[] = [];
    // The generator's own stalls would count as the server's latency: record them too.
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    let denied = 0;
    const r0 = retransmits;
    const t0 = performance.now();
    const from = t0 + a.warmupMs;
    const until = from + a.durationMs;
    let outstanding = 0;
    let sent = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        if (now >= until) return resolve();
        const due = dueBy(now, t0, a.rate);
        while (sent < due) {
          const at = t0 + (sent * 1000) / a.rate;
          const name = publishers[sent % publishers.length]!;
          sent++;
          outstanding++;
          publish(name, at, (reply, t) => {
            outstanding--;
            if (reply.type !== 'PUBLISHED') denied++;
            if (at >= from) { lat.push(t - at); samples.push({ at: performance.timeOrigin + at, ms: t - at }); }
          });
        }
        setImmediate(tick);
      };
      tick();
    });
    for (const t0w = performance.now(); outstanding > 0 && performance.now() - t0w < 10_000;) await sleep(5);
    loop.disable();
    const slow = episodes(samples, SLOW_MS);
    return {
      rate: a.rate, sent, latency: summarize(lat), denied, retransmits: retransmits - r0,
      loadLoopDelay: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
      slowRequests: slow.reduce((n, e) => n + e.requests, 0), episodes: slow.length,
      worstEpisodes: slow.sort((x, y) => y.requests - x.requests).slice(0, 3),
    };
  },

  /**
   * Open loop at `rate` for `durationMs` while the orchestrator causes
   * handoffs and a crash (it calls `mark` just before each event it
   * causes); answer times give the gap in service around each event.
   */
  async gaps(a: { rate: number; durationMs: number }) {
    changes.length = 0;
    marks.length = 0;
    const answers: number[] = [];
    const lat: number[] = [];
    const t0 = performance.now();
    let sent = 0;
    const inFlight: Promise<unknown>[] = [];
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        if (now - t0 >= a.durationMs) return resolve();
        const due = dueBy(now, t0, a.rate);
        while (sent < due) {
          const at = t0 + (sent * 1000) / a.rate;
          const name = publishers[sent % publishers.length]!;
          sent++;
          inFlight.push(requestAs(name, { type: 'PUBLISH', name, subject: subjectOf.get(name)!, text: TEXT }, at).then(({ now: t }) => {
            answers.push(t);
            lat.push(t - at);
          }));
        }
        setTimeout(tick, 0.5);
      };
      tick();
    });
    await Promise.race([Promise.all(inFlight), sleep(10_000)]);
    answers.sort((x, y) => x - y);
    const gapAround = (t: number) => {
      let best = 0;
      for (let i = 1; i < answers.length; i++) {
        const s = answers[i - 1]!;
        const e = answers[i]!;
        if (e > t && s < t + 300) best = Math.max(best, e - s);
        if (s > t + 300) break;
      }
      return best;
    };
    // Where the gap fell around a CHANGE-SERVER: since the last answer before it, and until the first answer after it.
    const split = (t: number) => {
      const i = answers.findIndex((x) => x > t);
      return { before: i > 0 ? t - answers[i - 1]! : NaN, after: i >= 0 ? answers[i]! - t : NaN };
    };
    // The ordinary spacing of answers, away from any event: what a gap is compared with.
    const quiet: number[] = [];
    for (let i = 1; i < answers.length; i++) quiet.push(answers[i]! - answers[i - 1]!);
    return {
      sent,
      answered: answers.length,
      handoffs: changes.map((t) => ({ at: t - t0, gap: gapAround(t), ...split(t) })),
      marks: marks.map((m) => ({ label: m.label, at: m.at - t0, gap: gapAround(m.at) })),
      spacing: summarize(quiet),
      latency: summarize(lat),
    };
  },

  mark(a: { label: string }) {
    marks.push({ label: a.label, at: performance.now() });
    return true;
  },

  /** Insert `count` texts (documents as src/store/documents.ts) through the driver, in batches. */
  async seedTexts(a: { uri: string; dbName: string; count: number; subjects: number }) {
    const mongo = await MongoClient.connect(a.uri);
    const texts = mongo.db(a.dbName).collection('texts');
    const t0 = performance.now();
    const at = Date.now();
    const batch = 10_000;
    for (let i = 1; i <= a.count; i += batch) {
      const docs = [];
      for (let s = i; s < Math.min(a.count + 1, i + batch); s++) {
        docs.push({ _id: s, from: 'seeder', subject: `s${s % a.subjects}`, text: `seeded text number ${s} `.padEnd(64, '.'), at, req: `seed:${s}`, epoch: 1 });
      }
      await texts.insertMany(docs as never[], { ordered: false });
    }
    // Later allocations must not reuse the seeded numbers.
    await mongo.db(a.dbName).collection('control').updateOne({ _id: 'lease' } as never, { $max: { seq: a.count } });
    await mongo.close();
    return { ms: performance.now() - t0 };
  },

  /** A native user owned by socket `client`, registered as RssClient does (key agreement, CHALLENGE answered: its address is validated). */
  async registerUser(a: { name: string; subjects: string[]; client: number }) {
    const c = clients[a.client]!;
    owner.set(a.name, c);
    expect((await request(c, { type: 'REGISTER', name: a.name, host: '127.0.0.1', port: c.port })).reply, 'REGISTERED', `register ${a.name}`);
    expect((await request(c, { type: 'SUBJECTS', name: a.name, subjects: a.subjects })).reply, 'SUBJECTS-UPDATED', `subjects ${a.name}`);
    return true;
  },

  /** `count` idle native users (two subjects of ten, each its own cid), straight into the store. */
  async seedUsers(a: { uri: string; dbName: string; count: number }) {
    const mongo = await MongoClient.connect(a.uri);
    const users = mongo.db(a.dbName).collection('users');
    const t0 = performance.now();
    const batch = 10_000;
    for (let i = 0; i < a.count; i += batch) {
      const docs = [];
      for (let k = i; k < Math.min(a.count, i + batch); k++) {
        docs.push({
          _id: `user${String(k).padStart(7, '0')}`, host: '127.0.0.1', port: 20_000 + (k % 40_000), dialect: 'native',
          subjects: [`s${k % 10}`, `s${(k + 3) % 10}`], cid: new NativeWire().cid, createdAt: Date.now(),
        });
      }
      await users.insertMany(docs as never[], { ordered: false });
    }
    await mongo.close();
    return { ms: performance.now() - t0 };
  },

  /**
   * RETRIEVE-TEXTS of `n` unseen texts among `total` stored, `iterations`
   * times: each round `writer` publishes `n` texts on the reader's subjects
   * (untimed; the reader never acknowledges a push, so they stay owed: what
   * a user is owed is always the texts after its cursor), then the
   * retrieval is timed until the user has them all. As the native client
   * does, each ask says what the answers before it brought (`seen`), and
   * the ask that says the last ones were shown (an empty answer) comes
   * after the timing.
   */
  async retrieve(a: { uri: string; dbName: string; name: string; writer: string; subjects: string[]; n: number; total: number; iterations: number; warmup?: number }) {
    const times: number[] = [];
    let got = 0;
    let rounds = 0;
    const warmup = a.warmup ?? 0;
    silent.add(a.name);
    // The seeded texts were stored behind the server's back, numbered below what it has issued once the writer
    // published: the reader takes its subjects anew after that, so they are not owed to it (only what comes next).
    const expectType = (r: { reply: { type: string } }, type: string) => {
      if (r.reply.type !== type) throw new Error(`expected ${type}: ${JSON.stringify(r.reply)}`);
    };
    expectType(await requestAs(a.writer, { type: 'PUBLISH', name: a.writer, subject: a.subjects[0]!, text: 'first' }), 'PUBLISHED');
    expectType(await requestAs(a.name, { type: 'SUBJECTS', name: a.name, subjects: [] }), 'SUBJECTS-UPDATED');
    expectType(await requestAs(a.name, { type: 'SUBJECTS', name: a.name, subjects: a.subjects }), 'SUBJECTS-UPDATED');
    let seen = 0;
    const ask = async () => {
      const { reply } = await requestAs(a.name, { type: 'RETRIEVE-TEXTS', name: a.name, parts: 16, seen });
      if (reply.type !== 'RETRIEVED') throw new Error(`retrieve: ${JSON.stringify(reply)}`);
      seen = Math.max(seen, reply.texts.at(-1)?.seq ?? 0);
      return reply;
    };
    // Whatever is owed already (a server that keeps an inbox owes the writer's first text) is taken, untimed.
    while ((await ask()).texts.length > 0);
    for (let it = -warmup; it < a.iterations; it++) {
      // The last answer's texts were said to be shown before this round (the untimed ask below).
      for (let k = 0; k < a.n; k++) {
        const { reply } = await requestAs(a.writer, { type: 'PUBLISH', name: a.writer, subject: a.subjects[k % a.subjects.length]!, text: `owed text ${it}.${k} `.padEnd(64, '.') });
        if (reply.type !== 'PUBLISHED') throw new Error(`publish: ${JSON.stringify(reply)}`);
      }
      const t0 = performance.now();
      let count = 0;
      while (count < a.n) {
        const reply = await ask();
        if (it >= 0) rounds++;
        if (reply.texts.length === 0) break;
        count += reply.texts.length;
      }
      const took = performance.now() - t0;
      if (count !== a.n) throw new Error(`retrieved ${count} texts, expected ${a.n}`);
      const after = await ask();
      if (after.texts.length > 0) throw new Error(`${after.texts.length} texts owed after the ${a.n} retrieved`);
      if (it < 0) continue; // warm-up rounds: the same work, not timed
      times.push(took);
      got += count;
    }
    return { ...summarize(times), texts: got / a.iterations, repliesPerRetrieve: rounds / a.iterations };
  },

  counters,

  async close() {
    if (sweeper) clearInterval(sweeper);
    for (const c of clients) c.socket.close();
    return true;
  },
});

const marks: { label: string; at: number }[] = [];
emitEvent('up');

/**
 * How many of an open loop's requests are due at `now`: request k is
 * intended at t0 + k / rate and goes out once that time has come (request
 * 0 at t0). Counting only the intervals that had passed sent each request
 * one interval after its intended time, and that interval counted as the
 * server's latency (100 ms at 10/s, 1 ms at 1,000/s).
 */
function dueBy(now: number, t0: number, rate: number): number {
  return Math.floor(((now - t0) * rate) / 1000) + 1;
}
