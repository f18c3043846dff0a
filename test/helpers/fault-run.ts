/**
 * One run of the chaos test with a fault: `rss engine`, a `rss store-proxy`
 * in front of it, servers A and B as separate processes (network chaos on:
 * loss, duplication, reordering, a handoff every 2 s), 20 clients
 * publishing; a third of the way in, the scenario's fault. Afterwards it
 * measures what the fault table shows: acknowledged, lost, duplicated,
 * shown out of order, and how long after the fault's end a publish was
 * acknowledged again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { cursorsPast, joinAsListener, storedFaults, untilDelivered } from './delivery-check';
import { RssClient, type ReceivedText } from '../../src/client/client';
import { freeUdpPort, rss, type Child } from './processes';
import { delay } from './system';

export type Tag = 'A' | 'B';
const SUBJECTS = ['s0', 's1', 's2', 's3', 's4'];
const CHAOS = 'drop=0.1,dup=0.05,reorder=0.1,delay=0-3ms';
export const LEASE_MS = 1500;
const SILENCE_WINDOW_MS = 5000;

/** What a fault can do to the system under test. */
export interface FaultWorld {
  servers: Record<Tag, Child>;
  /** The server holding the lease now, chosen when no handoff is near (its period started 0.3–1.2 s ago). */
  servingForSure(): Promise<Tag>;
  /** Send a command to the store proxy (up, down, flap 400, ...). */
  store(command: string): void;
  killServer(tag: Tag, signal: NodeJS.Signals): Promise<void>;
  restartServer(tag: Tag): void;
  /** Signal the engine (SIGKILL: it is expected to die). */
  signalEngine(signal: NodeJS.Signals): Promise<void>;
  restartEngine(): Promise<void>;
  /** Serving events seen so far. */
  events: ServingEvent[];
}

export interface ServingEvent {
  tag: Tag;
  epoch: number;
  reason: string;
  at: number;
}

/** When a fault started and ended (Date.now()). */
export interface FaultSpan {
  start: number;
  end: number;
}

export interface Scenario {
  name: string;
  /** Runs the fault; resolves with when it started and ended. */
  fault(w: FaultWorld): Promise<FaultSpan>;
  /** The engine keeps its data in a folder (needed to restart it). */
  dataDir?: boolean;
  /** Runs only in the long variant (RSS_FAULTS_LONG=1). */
  longOnly?: boolean;
}

export interface FaultFigures {
  scenario: string;
  publishes: number;
  acknowledged: number;
  lost: number;
  /** Texts a stored cursor passed that its user was never shown. */
  cursorPast: number;
  storedTwice: number;
  wrongSeq: number;
  missing: number;
  duplicated: number;
  outOfOrder: number;
  /** From the fault's end to the first publish acknowledged after it, ms. */
  timeToServe: number;
  /** The longest time without any publish acknowledged, from the fault's start to 5 s after its end, ms. */
  longestSilence: number;
  /** How long the fault lasted, ms. */
  faultMs: number;
  /** How long the whole run took, ms. */
  tookMs: number;
  /** Processes that died on their own (a crash). */
  crashed: string[];
}

const interests = (i: number) => [SUBJECTS[i % 5]!, SUBJECTS[(i + 1) % 5]!];

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const addr = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof addr === 'object' && addr ? addr.port : 0;
}

export async function runFaultScenario(scenario: Scenario, opts: { users: number; perUser: number }): Promise<FaultFigures> {
  const children: Child[] = [];
  const clients: RssClient[] = [];
  const dir = scenario.dataDir ? mkdtempSync(join(tmpdir(), 'rss-fault-')) : undefined;
  const expectedExit = new Set<Child>();
  const began = Date.now();
  try {
    const enginePort = await freeTcpPort();
    const engineArgs = ['engine', '--port', String(enginePort), ...(dir ? ['--data-dir', dir] : [])];
    let engine = rss(engineArgs);
    children.push(engine);
    const engineUri = (await engine.waitFor(/^mongodb:\/\//)).trim();
    const proxy = rss(['store-proxy', '--to', `127.0.0.1:${enginePort}`]);
    children.push(proxy);
    const uri = (await proxy.waitFor(/^mongodb:\/\//)).trim();

    const [pa, pb] = [await freeUdpPort(), await freeUdpPort()];
    const events: ServingEvent[] = [];
    const serverArgs = (role: Tag) => [
      'server', '--role', role, '--port', String(role === 'A' ? pa : pb), '--peer', `127.0.0.1:${role === 'A' ? pb : pa}`,
      '--mongo', uri, '--period', '2s', '--chaos', `${CHAOS},seed=${role === 'A' ? 11 : 22}`, '--log-level', 'warn',
    ];
    const startServer = (role: Tag): Child => {
      const c = rss(serverArgs(role));
      children.push(c);
      c.proc.stdout!.on('data', (chunk: Buffer) => {
        for (const m of chunk.toString('utf8').matchAll(/^([AB]) serving \(epoch (\d+), (\w+)\)$/gm)) {
          events.push({ tag: m[1] as Tag, epoch: Number(m[2]), reason: m[3]!, at: Date.now() });
        }
      });
      return c;
    };
    const servers: Record<Tag, Child> = { A: startServer('A'), B: startServer('B') };
    await servers.A.waitFor(/ready on/);
    await servers.B.waitFor(/ready on/);
    const addrs: [{ host: string; port: number }, { host: string; port: number }] = [{ host: '127.0.0.1', port: pa }, { host: '127.0.0.1', port: pb }];

    const received = new Map<string, ReceivedText[]>();
    for (let i = 0; i < opts.users; i++) {
      const c = await RssClient.open({
        servers: addrs, bind: { host: '127.0.0.1', port: 0 },
        // Patient enough to outlast the longest fault (about 30 s of retransmissions).
        policy: { ackTimeoutMs: 80, maxRetransmit: 80, maxWaitMs: 400, exchangeLifetimeMs: 60_000, listenSilenceMs: 1500 },
      });
      clients.push(c);
      await joinAsListener(c, `u${i}`, interests(i), received);
    }

    const world: FaultWorld = {
      servers,
      events,
      async servingForSure() {
        for (const until = Date.now() + 20_000; Date.now() < until; await delay(50)) {
          const last = events.at(-1);
          const age = last ? Date.now() - last.at : -1;
          if (last && age >= 300 && age <= 1200) return last.tag;
        }
        throw new Error('no handoff for 20 s: the pair stopped taking turns');
      },
      store: (command) => void proxy.proc.stdin!.write(`${command}\n`),
      async killServer(tag, signal) {
        if (signal === 'SIGKILL') expectedExit.add(servers[tag]);
        if (signal === 'SIGKILL') await servers[tag].kill('SIGKILL');
        else servers[tag].proc.kill(signal);
      },
      restartServer(tag) {
        servers[tag] = startServer(tag);
      },
      async signalEngine(signal) {
        if (signal !== 'SIGKILL') return void engine.proc.kill(signal);
        expectedExit.add(engine);
        await engine.kill('SIGKILL');
      },
      async restartEngine() {
        engine = rss(engineArgs);
        children.push(engine);
        await engine.waitFor(/^mongodb:\/\//, 20_000);
      },
    };

    // Publish; the fault starts a third of the way in and runs beside the publishers.
    const acked: { name: string; subject: string; text: string; seq: number; at: number }[] = [];
    let faultRun: Promise<FaultSpan> | undefined;
    await Promise.all(clients.map(async (c, i) => {
      const name = `u${i}`;
      for (let k = 0; k < opts.perUser; k++) {
        const subject = interests(i)[k % 2]!;
        const text = `${name}#${k}`;
        try {
          const r = await c.publish(name, subject, text);
          acked.push({ name, subject, text, seq: r.seq, at: Date.now() });
        } catch {
          // Not acknowledged: nothing is owed for it (counted as publishes minus acknowledged).
        }
        if (!faultRun && acked.length >= (opts.users * opts.perUser) / 3) faultRun = scenario.fault(world);
      }
    }));
    const span = await (faultRun ?? scenario.fault(world));
    // If the fault outlasted the publishing, publish once more to measure when the pair serves again.
    if (!acked.some((a) => a.at > span.end)) {
      const r = await clients[0]!.publish('u0', interests(0)[0]!, 'u0#after');
      acked.push({ name: 'u0', subject: interests(0)[0]!, text: 'u0#after', seq: r.seq, at: Date.now() });
    }
    const firstAfter = Math.min(...acked.filter((a) => a.at > span.end).map((a) => a.at));
    const timeToServe = firstAfter - span.end;
    // Acknowledgements already on their way when a server was killed still arrive: the silence that users
    // notice may begin after the fault's start, so look until SILENCE_WINDOW_MS past its end.
    const times = [span.start, ...acked.map((a) => a.at).filter((t) => t > span.start && t <= Math.max(firstAfter, span.end + SILENCE_WINDOW_MS)).sort((x, y) => x - y)];
    const longestSilence = Math.max(...times.slice(1).map((t, i) => t - times[i]!));

    // Wait until every user was shown everything owed to it (pushes, and the clients' own gap-filling after a
    // silence), or 30 s: then count what is missing.
    await untilDelivered(clients, received, acked, (name, subject) => interests(Number(name.slice(1))).includes(subject));

    // Every acknowledged publish stored exactly once, under the seq it was acknowledged with.
    const { lost, storedTwice, wrongSeq } = await storedFaults(engineUri, acked);
    // No stored cursor passed a text its user was never shown.
    const cursorPast = await cursorsPast(engineUri, received, acked, (name, subject) => interests(Number(name.slice(1))).includes(subject), scenario.name);

    // Every interested user shown each acknowledged text exactly once, in sequence order.
    let missing = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    const allLacks: { name: string; seq: number }[] = [];
    for (let i = 0; i < opts.users; i++) {
      const name = `u${i}`;
      const seqs = received.get(name)!.map((t) => t.seq);
      const want = acked.filter((a) => a.name !== name && interests(i).includes(a.subject)).map((a) => a.seq);
      duplicated += seqs.length - new Set(seqs).size;
      for (let k = 1; k < seqs.length; k++) if (seqs[k]! <= seqs[k - 1]!) outOfOrder++;
      const have = new Set(seqs);
      const lacks = want.filter((s) => !have.has(s));
      missing += lacks.length;
      if (lacks.length > 0) console.error(`${scenario.name}: ${name} lacks ${lacks.join(',')}; shown ${seqs.length} of ${want.length}, the last ${seqs.slice(-5).join(',')}`);
      if (lacks.length > 0) allLacks.push(...lacks.map((seq) => ({ name, seq })));
    }
    if (allLacks.length > 0) {
      // Where the store's cursors stand (a text below its user's cursor is counted received; above: still owed),
      // and who served when: enough to tell a cursor moved too far from a text shown out of turn.
      const m = new MongoClient(engineUri);
      const users = await m.db('rss').collection('users').find({}, { projection: { cursor: 1, since: 1 } }).toArray();
      await m.close();
      console.error(`${scenario.name}: stored cursors: ${JSON.stringify(users.map((u) => `${u._id}:${u.cursor}`))}`);
      console.error(`${scenario.name}: serving events: ${events.map((e) => `${e.tag} ${e.epoch} ${e.reason} +${e.at - began}ms`).join(', ')}`);
    }
    const crashed = children.filter((c) => !expectedExit.has(c) && (c.proc.exitCode !== null || c.proc.signalCode !== null)).map((c) => c.proc.spawnargs.slice(2, 5).join(' '));
    return {
      scenario: scenario.name, publishes: opts.users * opts.perUser + (acked.some((a) => a.text === 'u0#after') ? 1 : 0), acknowledged: acked.length,
      lost, storedTwice, wrongSeq, cursorPast, missing, duplicated, outOfOrder, timeToServe, longestSilence, faultMs: span.end - span.start, tookMs: Date.now() - began, crashed,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    // SIGCONT first: a stopped process cannot act on SIGKILL's exit until it is reaped, and must not stay stopped.
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGCONT');
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
