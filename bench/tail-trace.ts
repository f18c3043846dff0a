/**
 * `node --import tsx bench/tail-trace.ts <rate>[,<rate>...] [--ref <commit>] [--seconds S] [--show N]
 *   [--alloc | --no-trace] [--no-heap] [--engine-apart] [--heap-snapshot] [--keep S|forever] [--replies S]`
 *
 * What holds the server's event loop at a given open-loop PUBLISH rate
 * (scenario 2's setup: engine and pair in one process pinned to core 0, the
 * load generator on core 1; the working tree is benched unless --ref).
 * Per rate: latency, event-loop delay, GC, the server's CPU µs per publish
 * and the heap it keeps per publish (after full GCs), then one of:
 *
 * - (default) the server sampled by V8's profiler every 100 µs, cut into
 *   busy stretches (consecutive samples that are not idle): the datagrams
 *   arriving during one waited for it. Prints the stretch lengths on the
 *   CPU, GC pauses on the CPU, the share by kind of work, and for the N
 *   longest stretches the functions on the stack in most of their samples
 *   (mapped to src/). A gap between two samples much longer than the
 *   interval is time the thread was off the CPU (another process on its
 *   core), left out of the lengths.
 * - --alloc: the sampling heap profiler instead: bytes allocated per publish
 *   by kind and by the innermost function of src/ or the driver that asked.
 * - --no-trace: neither (the figures without a profiler's cost).
 *
 * --no-heap leaves out the heap figures and the forced full collections
 * they need around each rate. A forced collection makes V8 drop optimized
 * code whose embedded objects died, so the rate after it pays for
 * compiling again: 1,004 against 710 µs of CPU per publish at 300/s.
 * (--heap-snapshot forces one after each rate too.)
 * --heap-snapshot writes the server's heap after each rate to
 * bench/out/heap-<rate>.heapsnapshot (what the retained bytes are).
 * --engine-apart puts the engine in a process of its own on the same core
 * (what a worker thread would be there). BENCH_SERVER_NODE_ARGS (see
 * rss/workers.ts) passes node options, e.g. `--trace-gc` or V8 heap sizes.
 * --keep S|forever: texts everyone received are deleted once S seconds old
 * (server/retention.ts); --replies S: answers are kept S seconds (texts are
 * never kept shorter than answers); the server's defaults are 120 s both.
 * Prints on stderr; not part of `npm test`.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { OUT, ROOT, buildAll, workerPath } from './rss/build';
import { benchConfig } from './rss/config';
import { LOAD_CPU, SERVER_CPU, stop, worker } from './rss/workers';

const argv = process.argv.slice(2);
const value = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const rates = (argv[0] ?? '1000').split(',').map(Number);
const seconds = Number(value('seconds') ?? 3);
const INTERVAL_US = 100;
const ref = value('ref');
const built = await buildAll(ref ? { ref } : { worktree: true });
const cfg = benchConfig(true);
process.stderr.write(`tail trace of ${built.commit}\n`);

interface Frame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface Node { id: number; callFrame: Frame; children?: number[] }
interface Profile { nodes: Node[]; startTime: number; samples: number[]; timeDeltas: number[] }

const bundle = workerPath('server');
const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')));

function whereOf(cf: Frame): string {
  if (cf.url === `file://${bundle}` || cf.url === bundle) {
    const e = map.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string; originalLine?: number };
    if (!e.originalSource) return 'bench';
    return `${relative(ROOT, resolve(dirname(bundle), e.originalSource.replace(/^file:\/\//, ''))).replace(/^bench\/out\/tree\//, '')}:${(e.originalLine ?? 0) + 1}`;
  }
  const u = cf.url.replace(/^file:\/\//, '');
  return u.startsWith('/') ? relative(ROOT, u) : u;
}

/** The kind of work a sample belongs to: the outermost frame that says what the turn is doing. */
function kindOf(stack: string[]): string {
  const has = (re: RegExp) => stack.some((s) => re.test(s.slice(s.indexOf(' ') + 1)));
  if (stack[stack.length - 1]?.startsWith('(garbage collector)')) return 'GC';
  if (has(/^src\/engine\//)) return 'engine';
  if (has(/mongodb\/lib\//)) return 'driver';
  if (has(/^bson|node_modules\/bson/)) return 'bson';
  if (has(/^src\/server\/cursors/)) return 'server: cursors';
  if (has(/^src\/server\/delivery/)) return 'server: delivery';
  if (has(/^src\/server\//)) return 'server: other';
  if (has(/^src\//)) return 'src: other';
  if (stack[stack.length - 1]?.startsWith('(program)')) return 'program';
  return 'node/other';
}

function analyse(path: string, label: string): void {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const labelOf = new Map<number, string>();
  const nameOf = (id: number) => {
    let s = labelOf.get(id);
    if (s === undefined) {
      const cf = byId.get(id)!.callFrame;
      s = `${cf.functionName || '(anonymous)'} ${whereOf(cf)}`.trim();
      if (cf.functionName.startsWith('(')) s = cf.functionName;
      labelOf.set(id, s);
    }
    return s;
  };
  const stackCache = new Map<number, string[]>();
  const stackOf = (id: number): string[] => {
    let s = stackCache.get(id);
    if (!s) {
      s = [];
      for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) s.unshift(nameOf(x));
      stackCache.set(id, s);
    }
    return s;
  };
  // Sample times.
  const t: number[] = [];
  let now = p.startTime;
  for (const d of p.timeDeltas) { now += d; t.push(now); }
  const idle = (i: number) => nameOf(p.samples[i]!) === '(idle)';
  interface Stretch { from: number; to: number; samples: number[]; offCpuUs: number }
  const stretches: Stretch[] = [];
  let cur: Stretch | undefined;
  for (let i = 0; i < p.samples.length; i++) {
    if (idle(i)) { if (cur) stretches.push(cur); cur = undefined; continue; }
    const gap = i > 0 ? t[i]! - t[i - 1]! : 0;
    if (!cur) cur = { from: t[i - 1] ?? t[i]!, to: t[i]!, samples: [], offCpuUs: 0 };
    cur.to = t[i]!;
    cur.samples.push(i);
    if (gap > 4 * INTERVAL_US) cur.offCpuUs += gap - INTERVAL_US;
  }
  if (cur) stretches.push(cur);
  const total = (t[t.length - 1]! - p.startTime) / 1000;
  // GC pauses on the CPU: runs of consecutive garbage-collector samples, gaps off the CPU left out.
  const pauses: number[] = [];
  let run = -1;
  for (let i = 0; i < p.samples.length; i++) {
    const gc = nameOf(p.samples[i]!) === '(garbage collector)';
    if (gc && run < 0) run = 0;
    if (gc) { const gap = i > 0 ? t[i]! - t[i - 1]! : INTERVAL_US; run += gap > 4 * INTERVAL_US ? INTERVAL_US : gap; }
    if (!gc && run >= 0) { pauses.push(run / 1000); run = -1; }
  }
  pauses.sort((a, b) => a - b);
  const q = (f: number) => (pauses[Math.min(pauses.length - 1, Math.floor(f * pauses.length))] ?? 0).toFixed(2);
  process.stderr.write(`GC pauses on CPU (profile): ${pauses.length}, p50 ${q(0.5)} p90 ${q(0.9)} max ${q(1)} ms, total ${pauses.reduce((a, b) => a + b, 0).toFixed(0)} ms\n`);
  // On-CPU length: the samples' time, without the gaps when the thread was off the CPU.
  const ms = (s: Stretch) => (s.to - s.from - s.offCpuUs) / 1000;
  const buckets = [1, 2, 3, 5, 10, 20];
  const hist = buckets.map((b) => stretches.filter((s) => ms(s) >= b).length);
  const kinds = new Map<string, number>();
  const longKinds = new Map<string, number>();
  for (const s of stretches) for (const i of s.samples) {
    const k = kindOf(stackOf(p.samples[i]!));
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
    if (ms(s) >= 2) longKinds.set(k, (longKinds.get(k) ?? 0) + 1);
  }
  const busySamples = [...kinds.values()].reduce((a, b) => a + b, 0);
  const fmtKinds = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${(n * INTERVAL_US / 1000).toFixed(0)} ms`).join(', ');
  process.stderr.write(`\n== ${label}: ${total.toFixed(0)} ms profiled, busy ${(busySamples * INTERVAL_US / 1000).toFixed(0)} ms in ${stretches.length} stretches; ` +
    `stretches >= ${buckets.map((b, i) => `${b} ms: ${hist[i]}`).join(', ')}\n`);
  process.stderr.write(`   busy by kind: ${fmtKinds(kinds)}\n   in stretches >= 2 ms: ${fmtKinds(longKinds)}\n`);
  const longest = [...stretches].sort((a, b) => ms(b) - ms(a)).slice(0, Number(value('show') ?? 8));
  for (const s of longest) {
    const count = new Map<string, number>();
    for (const i of s.samples) for (const f of new Set(stackOf(p.samples[i]!))) {
      if (/^\(root\)|^\(program\)$/.test(f)) continue;
      count.set(f, (count.get(f) ?? 0) + 1);
    }
    const k = new Map<string, number>();
    for (const i of s.samples) { const x = kindOf(stackOf(p.samples[i]!)); k.set(x, (k.get(x) ?? 0) + 1); }
    const top = [...count].filter(([f]) => /src\/|mongodb\/lib|garbage/.test(f)).sort((a, b) => b[1] - a[1]).slice(0, 10);
    process.stderr.write(`  stretch ${ms(s).toFixed(1)} ms on CPU (${((s.to - s.from) / 1000).toFixed(1)} wall) at +${((s.from - p.startTime) / 1000).toFixed(0)} ms, ${s.samples.length} samples, off CPU ${(s.offCpuUs / 1000).toFixed(1)} ms; ${fmtKinds(k)}\n`);
    for (const [f, n] of top) process.stderr.write(`      ${String(Math.round((100 * n) / s.samples.length)).padStart(3)}%  ${f}\n`);
  }
}

interface AllocNode { callFrame: Frame; selfSize: number; children: AllocNode[] }

/** Bytes allocated per publish while the rate ran (sampling heap profiler), by kind of work and by function. */
function allocations(path: string, publishes: number): void {
  const head = (JSON.parse(readFileSync(path, 'utf8')) as { head: AllocNode }).head;
  const byKind = new Map<string, number>();
  const byFn = new Map<string, number>();
  let total = 0;
  const walk = (n: AllocNode, stack: string[]) => {
    const label = `${n.callFrame.functionName || '(anonymous)'} ${whereOf(n.callFrame)}`.trim();
    const s = [...stack, label];
    if (n.selfSize > 0) {
      total += n.selfSize;
      const k = kindOf(s);
      byKind.set(k, (byKind.get(k) ?? 0) + n.selfSize);
      // The innermost frame of our own code or the driver: who asked for the memory.
      const own = [...s].reverse().find((f) => /(^| )(src\/|node_modules\/(mongodb|bson))/.test(f)) ?? label;
      byFn.set(own, (byFn.get(own) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, s);
  };
  walk(head, []);
  const per = (b: number) => `${Math.round(b / publishes)} B`;
  process.stderr.write(`allocated ${per(total)} per publish (${(total / 1e6).toFixed(0)} MB for ${publishes}); by kind: ` +
    `${[...byKind].sort((a, b) => b[1] - a[1]).map(([k, b]) => `${k} ${per(b)}`).join(', ')}\n`);
  for (const [f, b] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, Number(value('show') ?? 25))) process.stderr.write(`  ${per(b).padStart(8)}  ${f}\n`);
}

const server = await worker('server', { cpu: SERVER_CPU, nodeArgs: ['--expose-gc'] });
const load = await worker('load', { cpu: LOAD_CPU });
// --engine-apart: the engine in a process of its own on the same core (what a worker thread would be there).
const apart = argv.includes('--engine-apart') ? await worker('server', { cpu: SERVER_CPU }) : undefined;
try {
  const store = await (apart ?? server).call('engine', {});
  const keep = value('keep');
  const replies = value('replies');
  const pair = await server.call('pair', {
    period: 3_600_000, dbName: 'bench', ...(apart ? { mongo: store.uri } : {}),
    ...(keep ? { keepMs: keep === 'forever' ? -1 : Number(keep) * 1000 } : {}),
    ...(replies ? { replyLifetime: Number(replies) * 1000 } : {}),
  });
  await load.call('open', { servers: pair.servers, first: pair.serving === 'A' ? 0 : 1, sockets: cfg.sockets });
  await load.call('setup', { publishers: cfg.publishers, fanout: 1, prefix: '' });
  await load.call('throughput', { warmupMs: 500, durationMs: 1500 });
  for (const rate of rates) {
    await new Promise((r) => setTimeout(r, 2000));
    const heap = !argv.includes('--no-heap');
    const m0 = heap ? await server.call('memory') : undefined;
    await server.call('loopDelayStart');
    const c0 = await server.call('cpu');
    const alloc = argv.includes('--alloc');
    if (alloc) await server.call('allocStart', {});
    else if (!argv.includes('--no-trace')) await server.call('profileStart', { intervalUs: INTERVAL_US });
    const l = await load.call('latency', { rate, warmupMs: 500, durationMs: seconds * 1000 });
    const path = `${OUT}tail-${rate}.cpuprofile`;
    if (alloc) await server.call('allocStop', { path: `${OUT}alloc-${rate}.heapprofile` });
    else if (!argv.includes('--no-trace')) await server.call('profileStop', { path });
    const c1 = await server.call('cpu');
    const d = await server.call('loopDelayStop');
    process.stderr.write(`server CPU per publish at ${rate}/s: ${Math.round(((c1.user - c0.user + c1.system - c0.system) / l.sent))} µs ${argv.includes('--no-trace') ? '' : '(profiler on)'}\n`);
    const m1 = heap ? await server.call('memory') : undefined;
    if (m0 && m1) process.stderr.write(`heap retained per publish: ${Math.round((m1.heapUsed - m0.heapUsed) / l.sent)} bytes (${l.sent} sent); heap after a full collection ${Math.round(m1.heapUsed / 1e6)} MB\n`);
    if (argv.includes('--heap-snapshot')) await server.call('heapSnapshot', { path: `${OUT}heap-${rate}.heapsnapshot` });
    const f = (x: number) => x.toFixed(2);
    process.stderr.write(`\nrate ${rate}/s: p50 ${f(l.latency.p50)} p99 ${f(l.latency.p99)} max ${f(l.latency.max)} ms, ${l.retransmits} retransmissions; ` +
      `loop delay p50/p99/max ${f(d.p50)}/${f(d.p99)}/${f(d.max)} ms; GC ${d.gc.count}, longest ${f(d.gc.maxMs)} ms; ` +
      `sched run ${Math.round(d.sched?.runMs ?? 0)} wait ${Math.round(d.sched?.waitMs ?? 0)} ms; store calls ${JSON.stringify(Object.fromEntries(Object.entries(d.storeCalls).map(([k, v]: [string, any]) => [k, `${v.n}/${v.max.toFixed(1)}`])))}\n`);
    const t0 = performance.timeOrigin;
    const worst = l.worstEpisodes.map((e: { requests: number; from: number; spanMs: number; worstMs: number }) =>
      `${e.requests} within ${Math.round(e.spanMs)} ms from +${((e.from - t0) / 1000).toFixed(1)} s (worst ${Math.round(e.worstMs)} ms)`);
    process.stderr.write(`slow requests (> 20 ms): ${l.slowRequests} in ${l.episodes} episodes${worst.length ? `; largest: ${worst.join('; ')}` : ''}\n`);
    if (alloc) allocations(`${OUT}alloc-${rate}.heapprofile`, l.sent);
    else if (!argv.includes('--no-trace')) analyse(path, `rate ${rate}/s`);
  }
} finally {
  if (apart) await stop(apart);
  await stop(load);
  await stop(server);
}
