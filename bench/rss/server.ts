/**
 * The server side of the rss scenarios, as its own process: the embedded
 * engine, the demo's pair (A and B in one process, sharing that engine, as
 * `rss demo` runs them) or one server of a pair reaching a shared engine.
 * Driven over IPC by the orchestrator (proc.ts); reports role events and,
 * on request, its own memory (after a full GC: start it with --expose-gc)
 * and CPU time.
 */
import { Socket as DgramSocket } from 'node:dgram';
import { writeFile } from 'node:fs/promises';
import { writeHeapSnapshot } from 'node:v8';
import { Session } from 'node:inspector/promises';
import { startPair, startServer, type StartedPair, type StartedServer } from '../../src/app/pair';
import { startEngine, type RunningEngine } from '../../src/engine';
import type { ServerTag } from '../../src/protocol/messages';
import type { RssServer } from '../../src/server/server';
import { DURATION_BUCKETS } from '../../src/server/telemetry';
import { emitEvent, serveCommands } from './proc';
import { ThreadProbe, timeMethods, type CallStats } from './tail';

let engine: RunningEngine | undefined;
let pair: StartedPair | undefined;
let single: StartedServer | undefined;
let profiler: Session | undefined;
/** Store calls of the pair's servers, timed by method name (bench only: the instances are wrapped). */
const storeCalls = new Map<string, CallStats>();
/** The servers' request-duration histograms when the probe started. */
let durations0: number[][] = [];
const probe = new ThreadProbe();

function servers(): RssServer[] {
  if (pair) return [pair.a.server, pair.b.server];
  return single ? [single.server] : [];
}

function watch(s: RssServer): void {
  s.on('serving', (e) => emitEvent('serving', { ...e, at: Date.now() }));
  s.on('standby', (e) => emitEvent('standby', { ...e, at: Date.now() }));
  s.on('handoff', (e) => emitEvent('handoff', { ...e, at: Date.now() }));
}

/**
 * The load generator is a handful of loopback sockets carrying hundreds of
 * users: the per-address, per-user and unauthenticated rate limits
 * would measure themselves, so the bench lifts them (everything else of the
 * security layer — MACs, replay window, CHALLENGE — stays on).
 */
const UNLIMITED = { burst: 1e9, perSecond: 1e9 };
const BENCH_SECURITY = { sourceRate: UNLIMITED, userRate: UNLIMITED, unauthRate: UNLIMITED, unauthPrefixRate: UNLIMITED };

/**
 * BENCH_SERVER_RCVBUF=<bytes> sets the servers' SO_RCVBUF after they
 * opened their sockets (rss asks for SERVER_RECV_BUFFER), to compare
 * receive buffers on one commit. The pair's UDP sockets are the only
 * datagram sockets of this process. Returns what the kernel granted.
 */
function serverRecvBuffer(): number[] {
  const want = Number(process.env.BENCH_SERVER_RCVBUF ?? 0);
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const sockets = handles.filter((h): h is DgramSocket => h instanceof DgramSocket);
  if (want > 0) for (const s of sockets) s.setRecvBufferSize(want);
  return sockets.map((s) => s.getRecvBufferSize());
}

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('start the server worker with --expose-gc');
  for (let i = 0; i < 3; i++) gc();
}

serveCommands({
  /** Start the embedded engine in this process (in memory, or journaled in `dataDir`). */
  async engine(a: { dataDir?: string }) {
    engine = await startEngine({ port: 0, ...(a.dataDir ? { dataDir: a.dataDir } : {}) });
    return { uri: engine.uri };
  },
  /** Servers A and B in this process on one store (this process's engine unless `mongo` is given). */
  async pair(a: { mongo?: string; period: number; dbName: string; keepMs?: number; replyLifetime?: number }) {
    const mongoUri = a.mongo ?? engine!.uri;
    // keepMs: how long texts everyone received are kept (retention; -1: forever); replyLifetime: how long answers are
    // (texts are never kept shorter); the server's defaults otherwise.
    const retention = {
      ...(a.keepMs !== undefined ? { retention: { keepMs: a.keepMs < 0 ? Infinity : a.keepMs } } : {}),
      ...(a.replyLifetime !== undefined ? { replyLifetime: a.replyLifetime } : {}),
    };
    pair = await startPair({ mongoUri, portA: 0, portB: 0, period: a.period, dbName: a.dbName, security: BENCH_SECURITY, ...retention });
    for (const s of [pair.a, pair.b]) timeMethods(s.store, storeCalls);
    const rcvbuf = serverRecvBuffer();
    watch(pair.a.server);
    watch(pair.b.server);
    return { servers: [pair.a.server.address, pair.b.server.address], serving: pair.a.server.serving ? 'A' : 'B', rcvbuf };
  },
  /** One server of a pair whose other half runs in another process. */
  async server(a: { tag: ServerTag; port: number; peerPort: number; mongo: string; period: number; dbName: string }) {
    single = await startServer({
      tag: a.tag, host: '127.0.0.1', port: a.port, peer: { host: '127.0.0.1', port: a.peerPort },
      mongoUri: a.mongo, period: a.period, dbName: a.dbName, security: BENCH_SECURITY,
    });
    watch(single.server);
    return { address: single.server.address };
  },
  /** Which server of this process serves (if any). */
  serving() {
    return servers().find((s) => s.serving)?.tag ?? null;
  },
  /** End the serving server's period now. */
  async handoff() {
    const s = servers().find((x) => x.serving);
    return s ? s.handoff() : false;
  },
  /** process.memoryUsage() after a full collection, plus the directory sizes. */
  memory() {
    fullGc();
    return { ...process.memoryUsage(), users: servers().map((s) => s.directory.size) };
  },
  cpu() {
    return process.cpuUsage();
  },
  /** Start sampling this process's CPU (V8 profiler, every `intervalUs`, 1 ms by default), for the measured window only. */
  async profileStart(a?: { intervalUs?: number }) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: a?.intervalUs ?? 1000 });
    await profiler.post('Profiler.start');
    return true;
  },
  /** Writes this process's heap (V8 heap snapshot) to `path` (bench/tail-trace.ts --heap-snapshot). */
  heapSnapshot(a: { path: string }) {
    return writeHeapSnapshot(a.path);
  },
  /** Start the sampling heap profiler (allocations, one sample per `intervalBytes` on average), for the measured window only. */
  async allocStart(a?: { intervalBytes?: number }) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('HeapProfiler.enable');
    await profiler.post('HeapProfiler.startSampling', { samplingInterval: a?.intervalBytes ?? 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    return true;
  },
  /** Stop the heap profiler and write its profile (.heapprofile JSON) to `path`. */
  async allocStop(a: { path: string }) {
    const { profile } = await profiler!.post('HeapProfiler.stopSampling');
    profiler!.disconnect();
    await writeFile(a.path, JSON.stringify(profile));
    return true;
  },
  /** Stop sampling and write the profile (.cpuprofile JSON) to `path`. */
  async profileStop(a: { path: string }) {
    const { profile } = await profiler!.post('Profiler.stop');
    profiler!.disconnect();
    await writeFile(a.path, JSON.stringify(profile));
    return true;
  },
  /** Start recording how late the event loop runs its timers (1 ms resolution), the store calls and the servers' request durations. */
  loopDelayStart() {
    probe.start();
    storeCalls.clear();
    durations0 = servers().map((s) => [...(s.telemetry?.duration.buckets ?? [])]);
    return true;
  },
  /**
   * Stop recording. The thread's figures (ThreadProbe); the store calls by
   * method; how many requests the servers themselves took longer than
   * 50 ms over (from the datagram's arrival to its answer: what a client
   * sees beyond that was spent in sockets, queues of the kernel or the client).
   */
  loopDelayStop() {
    const over50 = DURATION_BUCKETS.findIndex((le) => le > 0.05);
    let serverOver50ms = 0;
    let serverRequests = 0;
    servers().forEach((s, i) => (s.telemetry?.duration.buckets ?? []).forEach((n, b) => {
      const d = n - (durations0[i]?.[b] ?? 0);
      serverRequests += d;
      if (b >= over50) serverOver50ms += d;
    }));
    return { ...probe.stop(), serverRequests, serverOver50ms, storeCalls: Object.fromEntries(storeCalls) };
  },
  status() {
    return servers().map((s) => s.status());
  },
  /** The serving parts' own counters (pushes, ACKs, cursor writes, requests) and the store calls by method, since start. */
  counters() {
    const sum = (xs: Record<string, number>[]) => xs.reduce<Record<string, number>>((a, x) => {
      for (const [k, v] of Object.entries(x)) if (typeof v === 'number') a[k] = (a[k] ?? 0) + v;
      return a;
    }, {});
    return {
      delivery: sum(servers().map((s) => ({ ...s.delivery.stats }))),
      cursors: sum(servers().map((s) => ({ ...s.cursors.stats }))),
      server: sum(servers().map((s) => ({ ...s.counters }))),
      storeCalls: Object.fromEntries([...storeCalls].map(([k, v]) => [k, v.n])),
      backlog: sum(servers().map((s) => ({ ...s.backlog.stats }))),
    };
  },
  async close() {
    await pair?.close();
    await single?.close();
    await engine?.close();
    return true;
  },
});
emitEvent('up');
