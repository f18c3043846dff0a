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
import { LOAD_CPU, SERVER_CPU, cpuSeconds, stop, worker } from './workers';

export interface ThroughputResult {
  system: 'rss' | 'aedes';
  fanout: number;
  store: string;
  rate: number;
  deliveryRate: number;
  latency: Summary;
  /** Share of one core the server process used while measured (warm-up included). */
  serverCpu: number;
  retransmits?: number;
  users: number;
}

export interface LatencyResult {
  share: number;
  rate: number;
  latency: Summary;
  /** Requests the load generator sent again (no answer within its 200 ms). */
  retransmits?: number;
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
    await load.call('open', { servers: pair.servers, first: pair.serving === 'A' ? 0 : 1, sockets: cfg.sockets });
    const setup = await load.call('setup', { publishers: cfg.publishers, fanout: run.fanout, prefix: '' });
    if (run.profile) await server.call('profileStart');
    const c0 = await server.call('cpu');
    const t = await load.call('throughput', { warmupMs: cfg.warmupMs, durationMs: cfg.durationMs });
    const c1 = await server.call('cpu');
    if (run.profile) await server.call('profileStop', { path: run.profile });
    const throughput: ThroughputResult = {
      system: 'rss', fanout: run.fanout, store: dir ? 'data directory (journal)' : 'in memory',
      rate: t.rate, deliveryRate: t.deliveryRate, latency: t.latency, retransmits: t.retransmits, users: setup.users,
      serverCpu: cpuSeconds(c0, c1) / ((cfg.warmupMs + cfg.durationMs + 300) / 1000),
    };
    log(`rss fan-out ${run.fanout} (${throughput.store}): ${Math.round(t.rate)} publishes/s, ${Math.round(t.deliveryRate)} deliveries/s, server CPU ${pct(throughput.serverCpu)}`);
    const latency: LatencyResult[] = [];
    for (const share of run.latencyShares ?? []) {
      const rate = Math.max(1, Math.round(t.rate * share));
      // The closed loop before leaves a backlog (requests queued in the server's socket buffer, their
      // retransmissions, pushes and ACKs): let it drain, or the first open-loop rate measures it.
      await new Promise((r) => setTimeout(r, QUIET_MS));
      const l = await load.call('latency', { rate, warmupMs: 500, durationMs: cfg.latencyMs });
      latency.push({ share, rate, latency: l.latency, retransmits: l.retransmits });
      log(`rss latency at ${pct(share)} (${rate}/s): p50 ${l.latency.p50.toFixed(2)} ms, p99 ${l.latency.p99.toFixed(2)} ms, p99.9 ${l.latency.p999.toFixed(2)} ms, ${l.retransmits} retransmissions`);
    }
    return { throughput, latency };
  } finally {
    await stop(load);
    await stop(server);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/** The same topology against Aedes (QoS 1, MQTT.js clients). */
export async function aedesPublish(cfg: BenchConfig, fanout: number): Promise<ThroughputResult> {
  const broker = await worker('aedes-server', { cpu: SERVER_CPU });
  const load = await worker('aedes-load', { cpu: LOAD_CPU });
  try {
    const { port } = await broker.call('start');
    const setup = await load.call('setup', { port, publishers: cfg.publishers, fanout });
    const c0 = await broker.call('cpu');
    const t = await load.call('throughput', { warmupMs: cfg.warmupMs, durationMs: cfg.durationMs });
    const c1 = await broker.call('cpu');
    const r: ThroughputResult = {
      system: 'aedes', fanout, store: 'in memory', rate: t.rate, deliveryRate: t.deliveryRate, latency: t.latency, users: setup.users,
      serverCpu: cpuSeconds(c0, c1) / ((cfg.warmupMs + cfg.durationMs + 300) / 1000),
    };
    log(`aedes fan-out ${fanout}: ${Math.round(t.rate)} publishes/s, ${Math.round(t.deliveryRate)} deliveries/s, broker CPU ${pct(r.serverCpu)}`);
    return r;
  } finally {
    await stop(load);
    await stop(broker);
  }
}

export const pct = (x: number) => `${Math.round(x * 100)}%`;
export const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
