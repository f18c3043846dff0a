/**
 * Scenarios 1 and 2: acknowledged PUBLISH throughput (one and ten
 * interested users per subject, rss and Aedes side by side) and request
 * latency at 10/50/90% of the maximum rate. The server side runs the demo's
 * pair with the embedded engine in its own process on core 0; the load
 * generator runs on core 1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchConfig } from './config';
import type { Summary } from './stats';
import { dropsSince, udpDrops, type UdpDrops } from './snmp';
import type { Worker } from './proc';
import { LOAD_CPU, SERVER_CPU, cpuSeconds, stop, worker } from './workers';
import { cpuTicks, socketDrops, ticksSince, type CallStats, type Episode } from './tail';

export interface ThroughputResult {
  /** `floor`: the minimal server of floor-server.ts, the same datagrams with no store. */
  system: 'rss' | 'aedes' | 'floor';
  fanout: number;
  store: string;
  rate: number;
  deliveryRate: number;
  latency: Summary;
  /** Share of one core the server process used while measured (warm-up included). */
  serverCpu: number;
  /**
   * Server CPU time (user + system, process.cpuUsage) per acknowledged
   * publish, its deliveries and their ACKs included: the primary figure,
   * far less sensitive than rates to other work on the machine.
   */
  cpuPerPublishUs: number;
  /** Share of one core the load generator used (near 100%: the generator may be the bound). */
  loadCpu: number;
  /** The load generator's CPU time per acknowledged publish (µs): what driving one publish costs the client side. */
  loadCpuPerPublishUs: number;
  /** UDP datagrams the machine dropped for a full receive buffer during the run (system-wide: other work adds to it). */
  udpDrops?: number;
  retransmits?: number;
  users: number;
}

export interface LatencyResult {
  /** rss, or the floor server (the same datagrams, no store): the same machine's tail without rss's store path. */
  system?: 'rss' | 'floor';
  share: number;
  rate: number;
  latency: Summary;
  /** Requests the load generator sent again (no answer within its 200 ms). */
  retransmits?: number;
  /** How late the server's event loop ran (ms): a stall delays every datagram behind it. */
  loopDelay?: { p50: number; p99: number; max: number };
  /** UDP datagrams dropped for a full receive buffer meanwhile (system-wide). */
  udpDrops?: number;
  /** The evidence for the tail at this rate (see tail.ts). */
  tail?: TailEvidence;
}

export interface TailEvidence {
  /** Datagrams dropped by the servers' sockets and by the load generator's (/proc/net/udp, per socket). */
  serverSocketDrops?: number;
  loadSocketDrops?: number;
  /** System-wide /proc/net/snmp deltas. */
  snmp?: UdpDrops;
  /** Requests the servers took over 50 ms with (arrival to answer), of all they answered. */
  serverOver50ms: number;
  serverRequests: number;
  /** The slowest store call (method, ms) and how many store calls took over 10 ms. */
  slowestStoreCall?: { method: string; ms: number; at: number };
  storeCallsOver10ms: number;
  /** The server process's garbage collections meanwhile: how many, the longest pause, all pauses (ms). */
  gc?: { count: number; maxMs: number; totalMs: number };
  /** The server's main thread meanwhile: ms on a CPU, ms runnable but waiting for one (taken by other work on its core). */
  sched?: { runMs: number; waitMs: number };
  /** The load generator's own event-loop delay (ms). */
  loadLoopDelay: { p99: number; max: number };
  /** Requests answered over 20 ms after their intended send, and into how many episodes they cluster (see tail.ts). */
  slowRequests: number;
  episodes: number;
  worstEpisode?: Episode;
  /** Share of the machine's CPU the hypervisor stole, and share busy (all processes), during the rate. */
  steal?: number;
  busy?: number;
}

interface RssRun {
  fanout: number;
  dataDir?: boolean;
  /** Fractions of the measured maximum at which to measure open-loop latency afterwards. */
  latencyShares?: number[];
  /** Write a CPU profile of the server during the throughput run to this path. */
  profile?: string;
}

/** Pause between the closed-loop run (or a latency rate) and the next open-loop rate. */
const QUIET_MS = 2000;

/** One rss server process (engine + pair), one load process: throughput, then optionally latency. */
export async function rssPublish(cfg: BenchConfig, run: RssRun): Promise<{ throughput: ThroughputResult; latency: LatencyResult[] }> {
  const dir = run.dataDir ? await mkdtemp(join(tmpdir(), 'rss-bench-')) : undefined;
  const server = await worker('server', { cpu: SERVER_CPU, nodeArgs: ['--expose-gc'] });
  const load = await worker('load', { cpu: LOAD_CPU });
  try {
    await server.call('engine', dir ? { dataDir: dir } : {});
    const pair = await server.call('pair', { period: 3_600_000, dbName: 'bench' });
    if (run.latencyShares?.length) log(`servers' UDP receive buffers: ${(pair.rcvbuf as number[]).map((b) => `${Math.round(b / 1024)} KB`).join(', ')}`);
    const loadSockets: { port: number }[] = await load.call('open', { servers: pair.servers, first: pair.serving === 'A' ? 0 : 1, sockets: cfg.sockets });
    const serverPorts = (pair.servers as { port: number }[]).map((x) => x.port);
    const loadPorts = loadSockets.map((x) => x.port);
    const setup = await load.call('setup', { publishers: cfg.publishers, fanout: run.fanout, prefix: '' });
    if (run.profile) await server.call('profileStart');
    const c0 = await server.call('cpu');
    const drops = udpDrops();
    const t = await load.call('throughput', { warmupMs: cfg.warmupMs, durationMs: cfg.durationMs });
    const c1 = await server.call('cpu');
    t.drops = dropsSince(drops);
    if (run.profile) await server.call('profileStop', { path: run.profile });
    const throughput: ThroughputResult = {
      system: 'rss', fanout: run.fanout, store: dir ? 'data directory (journal)' : 'in memory',
      rate: t.rate, deliveryRate: t.deliveryRate, latency: t.latency, retransmits: t.retransmits, users: setup.users,
      ...cpuFigures(t, c0, c1),
    };
    logRun(`rss fan-out ${run.fanout} (${throughput.store})`, throughput);
    // BENCH_LATENCY_MAX=<publishes/s>: the open-loop rates are shares of this instead of the run's own maximum,
    // so runs of two commits compared side by side answer the very same rates.
    const latencyMax = Number(process.env.BENCH_LATENCY_MAX) || t.rate;
    const latency = await openLoop('rss', server, load, latencyMax, run.latencyShares ?? [], serverPorts, loadPorts, cfg);
    return { throughput, latency };
  } finally {
    await stop(load);
    await stop(server);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Open-loop latency at `shares` of `maxRate`, each after a quiet pause,
 * with the tail evidence of each rate (see TailEvidence). The server
 * worker answers loopDelayStart/loopDelayStop (rss's or the floor's).
 */
async function openLoop(
  what: string, server: Worker, load: Worker, maxRate: number, shares: number[], serverPorts: number[], loadPorts: number[], cfg: BenchConfig,
): Promise<LatencyResult[]> {
  const latency: LatencyResult[] = [];
  for (const share of shares) {
    const rate = Math.max(1, Math.round(maxRate * share));
    // The closed loop before leaves a backlog (requests queued in the server's socket buffer, their
    // retransmissions, pushes and ACKs): let it drain, or the first open-loop rate measures it.
    await new Promise((r) => setTimeout(r, QUIET_MS));
    await server.call('loopDelayStart');
    if (process.env.BENCH_PROFILE_OPEN_LOOP && what === 'rss') await server.call('profileStart');
    const drops = udpDrops();
    const serverDrops0 = socketDrops(serverPorts);
    const loadDrops0 = socketDrops(loadPorts);
    const ticks = cpuTicks();
    const l = await load.call('latency', { rate, warmupMs: 500, durationMs: cfg.latencyMs });
    const cpu = ticksSince(ticks);
    const dropped = dropsSince(drops);
    const serverDrops1 = socketDrops(serverPorts);
    const loadDrops1 = socketDrops(loadPorts);
    const loopDelay = await server.call('loopDelayStop');
    if (process.env.BENCH_PROFILE_OPEN_LOOP && what === 'rss') await server.call('profileStop', { path: `${process.env.BENCH_PROFILE_OPEN_LOOP}/open-loop-${Math.round(share * 100)}.cpuprofile` });
    const calls = Object.entries(loopDelay.storeCalls as Record<string, CallStats>);
    const slowest = calls.sort((x, y) => y[1].max - x[1].max)[0];
    const tail: TailEvidence = {
      ...(serverDrops0 !== undefined && serverDrops1 !== undefined ? { serverSocketDrops: serverDrops1 - serverDrops0 } : {}),
      ...(loadDrops0 !== undefined && loadDrops1 !== undefined ? { loadSocketDrops: loadDrops1 - loadDrops0 } : {}),
      ...(dropped ? { snmp: dropped } : {}),
      serverOver50ms: loopDelay.serverOver50ms, serverRequests: loopDelay.serverRequests,
      ...(slowest ? { slowestStoreCall: { method: slowest[0], ms: slowest[1].max, at: slowest[1].maxAt } } : {}),
      storeCallsOver10ms: calls.reduce((n, [, c]) => n + c.over10ms, 0), gc: loopDelay.gc, ...(loopDelay.sched ? { sched: loopDelay.sched } : {}),
      loadLoopDelay: l.loadLoopDelay, slowRequests: l.slowRequests, episodes: l.episodes,
      ...(l.worstEpisodes[0] ? { worstEpisode: l.worstEpisodes[0] } : {}),
      ...(cpu && cpu.total > 0 ? { steal: cpu.steal / cpu.total, busy: cpu.busy / cpu.total } : {}),
    };
    latency.push({
      system: what === 'floor' ? 'floor' : 'rss', share, rate, latency: l.latency, retransmits: l.retransmits,
      loopDelay: { p50: loopDelay.p50, p99: loopDelay.p99, max: loopDelay.max }, ...(dropped ? { udpDrops: dropped.rcvbufErrors } : {}), tail,
    });
    const f = (x: number | null, d: number) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');
    log(`${what} latency at ${pct(share)} (${rate}/s): p50 ${f(l.latency.p50, 2)} ms, p99 ${f(l.latency.p99, 2)} ms, p99.9 ${f(l.latency.p999, 2)} ms, ` +
      `max ${f(l.latency.max, 1)} ms, ${l.latency.n} answered, ${l.retransmits} retransmissions; ${describeTail(tail, loopDelay)}`);
  }
  return latency;
}

/** The same topology against Aedes (QoS 1, MQTT.js clients). */
export async function aedesPublish(cfg: BenchConfig, fanout: number): Promise<ThroughputResult> {
  const broker = await worker('aedes-server', { cpu: SERVER_CPU });
  const load = await worker('aedes-load', { cpu: LOAD_CPU });
  try {
    const { port } = await broker.call('start');
    const setup = await load.call('setup', { port, publishers: cfg.publishers, fanout });
    const c0 = await broker.call('cpu');
    const drops = udpDrops();
    const t = await load.call('throughput', { warmupMs: cfg.warmupMs, durationMs: cfg.durationMs });
    t.drops = dropsSince(drops);
    const c1 = await broker.call('cpu');
    const r: ThroughputResult = {
      system: 'aedes', fanout, store: 'in memory', rate: t.rate, deliveryRate: t.deliveryRate, latency: t.latency, users: setup.users,
      ...cpuFigures(t, c0, c1),
    };
    logRun(`aedes fan-out ${fanout}`, r);
    return r;
  } finally {
    await stop(load);
    await stop(broker);
  }
}

/** The same load generator and topology against the floor server (no store: the datagram work alone). */
/**
 * `latencyAt`: open-loop latency at these shares of `maxRate` — rss's maximum, so the floor answers the very rates
 * rss answered (its own maximum is 5× higher, where the load generator, not the floor, would be measured).
 */
export async function floorPublish(
  cfg: BenchConfig, fanout: number, latencyAt?: { maxRate: number; shares: number[] },
): Promise<{ throughput: ThroughputResult; latency: LatencyResult[] }> {
  const server = await worker('floor-server', { cpu: SERVER_CPU });
  const load = await worker('load', { cpu: LOAD_CPU });
  try {
    const floor = await server.call('start');
    const loadSockets: { port: number }[] = await load.call('open', { servers: floor.servers, first: 0, sockets: cfg.sockets });
    const setup = await load.call('setup', { publishers: cfg.publishers, fanout, prefix: '' });
    const c0 = await server.call('cpu');
    const drops = udpDrops();
    const t = await load.call('throughput', { warmupMs: cfg.warmupMs, durationMs: cfg.durationMs });
    const c1 = await server.call('cpu');
    t.drops = dropsSince(drops);
    const r: ThroughputResult = {
      system: 'floor', fanout, store: 'none', rate: t.rate, deliveryRate: t.deliveryRate, latency: t.latency, retransmits: t.retransmits,
      users: setup.users, ...cpuFigures(t, c0, c1),
    };
    logRun(`floor fan-out ${fanout}`, r);
    const latency = latencyAt
      ? await openLoop('floor', server, load, latencyAt.maxRate, latencyAt.shares, [floor.servers[0].port], loadSockets.map((x) => x.port), cfg)
      : [];
    return { throughput: r, latency };
  } finally {
    await stop(load);
    await stop(server);
  }
}

/** What a load generator's throughput call and the server's CPU readings around it give. */
function cpuFigures(t: { ackedAll: number; seconds: number; loadCpu: number; drops?: UdpDrops }, c0: NodeJS.CpuUsage, c1: NodeJS.CpuUsage) {
  const cpu = cpuSeconds(c0, c1);
  return {
    serverCpu: cpu / t.seconds, cpuPerPublishUs: (cpu * 1e6) / Math.max(1, t.ackedAll), loadCpu: t.loadCpu,
    loadCpuPerPublishUs: (t.loadCpu * t.seconds * 1e6) / Math.max(1, t.ackedAll),
    ...(t.drops ? { udpDrops: t.drops.rcvbufErrors } : {}),
  };
}

function logRun(what: string, r: ThroughputResult): void {
  log(`${what}: ${Math.round(r.rate)} publishes/s, ${Math.round(r.deliveryRate)} deliveries/s; server ${Math.round(r.cpuPerPublishUs)} µs CPU per publish ` +
    `(${pct(r.serverCpu)} of a core), load generator ${pct(r.loadCpu)} of a core (${Math.round(r.loadCpuPerPublishUs)} µs per publish)` +
    `${r.retransmits === undefined ? '' : `, ${r.retransmits} retransmissions`}${r.udpDrops === undefined ? '' : `, ${r.udpDrops} UDP receive-buffer drops (system-wide)`}`);
}

/** One line of tail evidence for the log. */
export function describeTail(t: TailEvidence, loop: { p99: number; max: number }): string {
  const w = t.worstEpisode;
  return `socket drops: servers ${t.serverSocketDrops ?? '?'}, generator ${t.loadSocketDrops ?? '?'} ` +
    `(system: rcvbuf ${t.snmp?.rcvbufErrors ?? '?'}, sndbuf ${t.snmp?.sndbufErrors ?? '?'}, in ${t.snmp?.inErrors ?? '?'}); ` +
    `event-loop delay p99/max: server ${loop.p99.toFixed(1)}/${loop.max.toFixed(1)} ms, generator ${t.loadLoopDelay.p99.toFixed(1)}/${t.loadLoopDelay.max.toFixed(1)} ms; ` +
    (t.serverRequests === 0 && !t.slowestStoreCall ? 'no store, requests not timed; ' :
      `server-side over 50 ms: ${t.serverOver50ms} of ${t.serverRequests}; slowest store call ${t.slowestStoreCall ? `${t.slowestStoreCall.method} ${t.slowestStoreCall.ms.toFixed(1)} ms` : '?'}, ` +
      `${t.storeCallsOver10ms} over 10 ms; `) +
    `GC ${t.gc ? `${t.gc.count} pauses, longest ${t.gc.maxMs.toFixed(1)} ms, ${t.gc.totalMs.toFixed(0)} ms in all` : '?'}; ${t.slowRequests} requests over 20 ms in ${t.episodes} episodes` +
    `${w ? ` (largest: ${w.requests} requests sent within ${w.spanMs.toFixed(0)} ms, worst ${w.worstMs.toFixed(0)} ms` +
      `${t.slowestStoreCall ? `; the slowest store call began ${(t.slowestStoreCall.at - w.from).toFixed(0)} ms after its first send` : ''})` : ''}; ` +
    `server main thread ${t.sched ? `${Math.round(t.sched.runMs)} ms on a CPU, ${Math.round(t.sched.waitMs)} ms waiting for one` : '?'}; ` +
    `CPU stolen by the host ${t.steal === undefined ? '?' : pct(t.steal)}, machine busy ${t.busy === undefined ? '?' : pct(t.busy)}`;
}

export const pct = (x: number) => `${Math.round(x * 100)}%`;
const benchStart = performance.now();
export const log = (s: string) => process.stderr.write(`bench [${Math.round((performance.now() - benchStart) / 1000)} s]: ${s}\n`);
