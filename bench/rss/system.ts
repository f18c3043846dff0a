/**
 * Scenarios 3-6: the gaps in service at handoffs and at a crash failover,
 * RETRIEVE-TEXTS among many stored texts, server memory per idle user, and
 * `rss demo` start-up time.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { cliPath } from './build';
import type { BenchConfig } from './config';
import type { Worker } from './proc';
import { log } from './publish';
import { median, sleep, type Summary } from './stats';
import { LOAD_CPU, SERVER_CPU, stop, worker } from './workers';

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Resolve with the next `event` of any of `workers` that satisfies `pred`. */
function nextEvent(workers: Worker[], event: string, pred: (d: any) => boolean = () => true, ms = 15_000): Promise<any> {
  return new Promise((resolve, reject) => {
    let done = false;
    const t = setTimeout(() => { done = true; reject(new Error(`no ${event} event within ${ms} ms`)); }, ms);
    for (const w of workers) w.on(event, (d) => {
      if (done || !pred(d)) return;
      done = true;
      clearTimeout(t);
      resolve(d);
    });
  });
}

interface PairProcs { engine: Worker; a: Worker; b: Worker; ports: [number, number]; uri: string; serving: () => 'A' | 'B' | undefined }

/** A shared engine process and servers A and B as two more processes (as in a real deployment). */
async function separatePair(period: number, dbName: string, pin: boolean): Promise<PairProcs> {
  const engine = await worker('server', { nodeArgs: ['--expose-gc'] });
  const { uri } = await engine.call('engine', {});
  const ports: [number, number] = [await freeUdpPort(), await freeUdpPort()];
  const opts = { nodeArgs: ['--expose-gc'], ...(pin ? { cpu: SERVER_CPU } : {}) };
  const a = await worker('server', opts);
  const b = await worker('server', opts);
  let serving: 'A' | 'B' | undefined;
  for (const w of [a, b]) {
    w.on('serving', (e) => { serving = e.tag; });
    w.on('standby', (e) => { if (serving === e.tag) serving = undefined; });
  }
  const first = nextEvent([a, b], 'serving');
  await a.call('server', { tag: 'A', port: ports[0], peerPort: ports[1], mongo: uri, period, dbName });
  await b.call('server', { tag: 'B', port: ports[1], peerPort: ports[0], mongo: uri, period, dbName });
  await first;
  return { engine, a, b, ports, uri, serving: () => serving };
}

const addresses = (p: [number, number]) => p.map((port) => ({ host: '127.0.0.1', port }));

export interface GapResult {
  period: number;
  rate: number;
  handoffGaps: number[];
  crashGap: number;
  spacing: Summary;
  sent: number;
  answered: number;
  /** Each handoff's steps as the two servers timed them (ms): the old one's (drain ... told), the new one's (lease ... held). */
  steps?: { handoff?: PhaseTimes; takeover?: PhaseTimes }[];
}

interface PhaseTimes { totalMs: number; phases: Record<string, number> }

const showPhases = (t?: PhaseTimes) => (t ? `${t.totalMs.toFixed(1)} (${Object.entries(t.phases).map(([k, v]) => `${k} ${v}`).join(', ')})` : '?');

/** Scenario 3: continuous requests while the pair hands over every period, then a SIGKILL of the serving server. */
export async function gaps(cfg: BenchConfig): Promise<GapResult> {
  const pair = await separatePair(cfg.gapPeriodMs, 'gaps', false);
  const load = await worker('load');
  // The steps of each handoff, by the epoch it handed to: the old server's handoff event, the new one's serving event.
  const steps = new Map<number, { handoff?: PhaseTimes; takeover?: PhaseTimes }>();
  const step = (epoch: number) => steps.get(epoch) ?? steps.set(epoch, {}).get(epoch)!;
  for (const w of [pair.a, pair.b]) {
    w.on('handoff', (e) => { if (e.took) step(e.epoch + 1).handoff = e.took; });
    w.on('serving', (e) => { if (e.reason === 'handoff' && e.took) step(e.epoch).takeover = e.took; });
  }
  try {
    await load.call('open', { servers: addresses(pair.ports), first: pair.serving() === 'B' ? 1 : 0, sockets: 1, retransmitMs: 20 });
    await load.call('setup', { publishers: 20, fanout: 0, prefix: 'g' });
    const run = load.call('gaps', { rate: cfg.gapRate, durationMs: cfg.gapRunMs });
    await sleep(cfg.gapKillAtMs);
    const victim = pair.serving() ?? 'A';
    await load.call('mark', { label: `SIGKILL ${victim}` });
    await (victim === 'A' ? pair.a : pair.b).kill('SIGKILL');
    const r = await run;
    const killAt = r.marks[0].at as number;
    // CHANGE-SERVERs after the crash come from the failover itself, not from a planned handoff; nor is a handoff
    // whose 300 ms window (see the load generator's gaps) reaches the crash (it measured the failover).
    const handoffs = (r.handoffs as { at: number; gap: number; before: number; after: number }[]).filter((h) => h.at + 300 < killAt);
    const handoffGaps = handoffs.map((h) => h.gap);
    const res: GapResult = {
      period: cfg.gapPeriodMs, rate: cfg.gapRate, handoffGaps, crashGap: r.marks[0].gap, spacing: r.spacing, sent: r.sent, answered: r.answered,
      steps: [...steps.values()],
    };
    for (const h of handoffs) log(`  gap ${h.gap.toFixed(1)} ms: last answer ${h.before.toFixed(1)} ms before CHANGE-SERVER reached the client, first ${h.after.toFixed(1)} ms after`);
    for (const [epoch, s] of steps) log(`  epoch ${epoch}: handoff ${showPhases(s.handoff)}; takeover ${showPhases(s.takeover)}`);
    log(`handoff gaps (ms): ${handoffGaps.map((g) => g.toFixed(1)).join(', ')}; crash failover gap ${res.crashGap.toFixed(0)} ms; ${r.answered}/${r.sent} answered`);
    return res;
  } finally {
    await stop(load);
    for (const w of [pair.a, pair.b, pair.engine]) await stop(w);
  }
}

export interface RetrieveResult { stored: number; n: number; seedMs: number; retrieve: Summary & { repliesPerRetrieve: number } }

/** Untimed rounds before scenario 4's timed ones (the server's code paths are compiled by then, as in a running server). */
export const RETRIEVE_WARMUP = 10;

/** Scenario 4: RETRIEVE-TEXTS of `n` unseen texts with `storedTexts` stored (seeded through the driver). */
export async function retrieve(cfg: BenchConfig): Promise<RetrieveResult> {
  const server = await worker('server', { cpu: SERVER_CPU, nodeArgs: ['--expose-gc'] });
  const load = await worker('load', { cpu: LOAD_CPU });
  try {
    const { uri } = await server.call('engine', {});
    const pair = await server.call('pair', { period: 3_600_000, dbName: 'retrieve' });
    await load.call('open', { servers: pair.servers, first: pair.serving === 'A' ? 0 : 1, sockets: 1 });
    const seeded = await load.call('seedTexts', { uri, dbName: 'retrieve', count: cfg.storedTexts, subjects: 10 });
    log(`seeded ${cfg.storedTexts} texts in ${Math.round(seeded.ms)} ms`);
    const subjects = Array.from({ length: 10 }, (_, i) => `s${i}`);
    await load.call('registerUser', { name: 'reader', subjects, client: 0 });
    await load.call('registerUser', { name: 'writer', subjects, client: 0 });
    const r = await load.call('retrieve', { uri, dbName: 'retrieve', name: 'reader', writer: 'writer', subjects, n: cfg.retrieveN, total: cfg.storedTexts, iterations: cfg.retrieveRounds, warmup: RETRIEVE_WARMUP });
    log(`retrieve ${cfg.retrieveN} of ${cfg.storedTexts}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms (${r.repliesPerRetrieve} replies each)`);
    return { stored: cfg.storedTexts, n: cfg.retrieveN, seedMs: seeded.ms, retrieve: r };
  } finally {
    await stop(load);
    await stop(server);
  }
}

export interface MemoryResult { users: number; heapPerUser: number; rssPerUser: number; enginePerUser: number; loadMs: number }

/** Scenario 5: heap of the server that takes the lease before and after it loads `idleUsers` users. */
export async function memory(cfg: BenchConfig): Promise<MemoryResult> {
  const pair = await separatePair(3_600_000, 'memory', true);
  const load = await worker('load', { cpu: LOAD_CPU });
  try {
    const standby = pair.serving() === 'A' ? pair.b : pair.a;
    const before = await standby.call('memory');
    const engineBefore = await pair.engine.call('memory');
    await load.call('seedUsers', { uri: pair.uri, dbName: 'memory', count: cfg.idleUsers });
    const engineAfter = await pair.engine.call('memory');
    const took = nextEvent([standby], 'serving');
    const t0 = performance.now();
    await (standby === pair.a ? pair.b : pair.a).call('handoff');
    await took;
    const loadMs = performance.now() - t0;
    const after = await standby.call('memory');
    if (Math.max(...after.users) !== cfg.idleUsers) throw new Error(`the server loaded ${after.users} users, expected ${cfg.idleUsers}`);
    const res: MemoryResult = {
      users: cfg.idleUsers,
      heapPerUser: (after.heapUsed - before.heapUsed) / cfg.idleUsers,
      rssPerUser: (after.rss - before.rss) / cfg.idleUsers,
      enginePerUser: (engineAfter.heapUsed - engineBefore.heapUsed) / cfg.idleUsers,
      loadMs,
    };
    log(`memory: ${Math.round(res.heapPerUser)} B heap per idle user (${Math.round(res.rssPerUser)} B RSS), engine ${Math.round(res.enginePerUser)} B; takeover with ${cfg.idleUsers} users in ${Math.round(loadMs)} ms`);
    return res;
  } finally {
    await stop(load);
    for (const w of [pair.a, pair.b, pair.engine]) await stop(w);
  }
}

export interface StartupResult { what: string; wallMs: number; reportedMs: number; runs: number }

/** Scenario 6: from spawning `rss demo` to its `ready` line, median of `demoStarts` runs. */
export async function demoStartup(cfg: BenchConfig): Promise<StartupResult[]> {
  // The CLI bundled from the benched source exactly as scripts/build.mjs bundles dist/rss.cjs (what bin/rss runs).
  const targets = [{ what: '`rss demo` (node + bundled CLI)', cmd: process.execPath, args: [cliPath, 'demo'] }];
  const out: StartupResult[] = [];
  for (const t of targets) {
    const wall: number[] = [];
    const reported: number[] = [];
    for (let i = 0; i < cfg.demoStarts; i++) {
      const r = await startOnce(t.cmd, t.args);
      wall.push(r.wallMs);
      reported.push(r.reportedMs);
    }
    out.push({ what: t.what, wallMs: median(wall), reportedMs: median(reported), runs: cfg.demoStarts });
    log(`${t.what}: ready ${Math.round(median(wall))} ms after spawn (it reports ${Math.round(median(reported))} ms)`);
  }
  return out;
}

function startOnce(cmd: string, args: string[]): Promise<{ wallMs: number; reportedMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    const t = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`demo not ready in 20 s: ${out}`)); }, 20_000);
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready in (\d+) ms/.exec(out);
      if (!m) return;
      const wallMs = performance.now() - t0;
      clearTimeout(t);
      p.once('exit', () => resolve({ wallMs, reportedMs: Number(m[1]) }));
      p.kill('SIGTERM');
    });
    p.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  });
}
