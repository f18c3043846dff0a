/**
 * The bench's results as Markdown: machine, date and commit, one table per
 * scenario, the aims against what was measured, and the profile's top
 * costs. run.ts puts it between markers in docs/BENCHMARKS.md (one section
 * per mode, so a --quick run never overwrites the full figures), leaving
 * the hand-written analysis around it alone.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { BenchConfig } from './config';
import type { ProfileSummary } from './profile';
import { describeTail, type LatencyResult, type ThroughputResult } from './publish';
import { RETRIEVE_WARMUP, type GapResult, type MemoryResult, type RetrieveResult, type StartupResult } from './system';

export interface Results {
  cfg: BenchConfig;
  commit: string;
  date: string;
  pinned: boolean;
  loadBefore: number[];
  /** Load average when the run ended (the machine is shared: both say how quiet it was). */
  loadAfter?: number[];
  throughput: ThroughputResult[];
  latency: LatencyResult[];
  gaps?: GapResult;
  retrieve?: RetrieveResult;
  memory?: MemoryResult;
  startup?: StartupResult[];
  profile?: ProfileSummary;
  seconds?: number;
}

/** A figure that may be missing (no sample: NaN, or null once through JSON) prints as a dash. */
const known = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);
const n0 = (x: number) => (known(x) ? Math.round(x).toLocaleString('en') : '—');
const ms = (x: number) => (!known(x) ? '—' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : n0(x));
const pct = (x: number) => `${Math.round(x * 100)}%`;

function aim(label: string, target: string, measured: string, ok: boolean, factor: number): string {
  return `| ${label} | ${target} | ${measured} | ${ok ? 'met' : `missed (${factor >= 10 ? n0(factor) : factor.toFixed(1)}×)`} |`;
}

export function renderMarkdown(r: Results): string {
  const cpu = cpus();
  const L: string[] = [];
  L.push(`Mode **${r.cfg.mode}**, ${r.date}, commit \`${r.commit}\`; ${cpu.length} cores (${cpu[0]?.model ?? '?'}), Node ${process.version}; ` +
    `${r.pinned ? 'server process pinned to core 0 and load generator to core 1 (taskset)' : 'no taskset: processes not pinned'}; ` +
    `load average before the run ${r.loadBefore.map((x) => x.toFixed(2)).join(' / ')}` +
    `${r.loadAfter ? `, after ${r.loadAfter.map((x) => x.toFixed(2)).join(' / ')}` : ''}${r.seconds ? `; took ${Math.round(r.seconds)} s` : ''}.`);
  L.push('');
  L.push(...summaryTable(r));
  const rss = (fanout: number, store = 'in memory') => r.throughput.find((t) => t.system === 'rss' && t.fanout === fanout && t.store === store);
  const aedes = (fanout: number) => r.throughput.find((t) => t.system === 'aedes' && t.fanout === fanout);
  const floor = (fanout: number) => r.throughput.find((t) => t.system === 'floor' && t.fanout === fanout);
  L.push(`**1. Acknowledged PUBLISH throughput** (closed loop, ${r.cfg.publishers} publishers each alone on its subject, one publish outstanding each; ${r.cfg.durationMs / 1000} s after ${r.cfg.warmupMs / 1000} s warm-up)`);
  L.push('');
  L.push('| system | interested users per subject | store | publishes/s | deliveries/s | latency p50 / p99 (ms) | server CPU | server CPU per publish | load generator CPU (per publish) | retransmissions / UDP drops | rss ÷ floor | rss ÷ Aedes |');
  L.push('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of r.throughput) {
    const ratio = (base: ThroughputResult | undefined) => (t.system === 'rss' && base ? (t.rate / base.rate).toFixed(3) : '');
    L.push(`| ${t.system} | ${t.fanout} | ${t.store} | ${n0(t.rate)} | ${n0(t.deliveryRate)} | ${ms(t.latency.p50)} / ${ms(t.latency.p99)} | ${pct(t.serverCpu)} | ` +
      `${n0(t.cpuPerPublishUs)} µs | ${pct(t.loadCpu)} (${t.loadCpuPerPublishUs === undefined ? '?' : n0(t.loadCpuPerPublishUs)} µs) | ${t.retransmits === undefined ? '' : n0(t.retransmits)} / ${t.udpDrops === undefined ? '' : n0(t.udpDrops)} | ` +
      `${ratio(floor(t.fanout))} | ${ratio(aedes(t.fanout))} |`);
  }
  L.push('');
  const cpuRows = [1, 10].filter((f) => rss(f) && (aedes(f) || floor(f)));
  if (cpuRows.length > 0) {
    L.push('**Primary figure: server CPU per acknowledged publish** (process.cpuUsage of the server process over the whole run, warm-up and the ' +
      'drain of deliveries included, ÷ every publish acknowledged; deliveries and their ACKs are part of a publish). CPU time is far less ' +
      'sensitive than rates to other work on the machine. Efficiency = the other\'s µs ÷ rss µs (1 = as cheap).');
    L.push('');
    L.push('| interested users | rss µs | floor µs | Aedes µs | rss efficiency vs floor | rss efficiency vs Aedes |');
    L.push('|---:|---:|---:|---:|---:|---:|');
    for (const f of cpuRows) {
      const x = rss(f)!;
      const fl = floor(f);
      const ae = aedes(f);
      const eff = (b: ThroughputResult | undefined) => (b ? (b.cpuPerPublishUs / x.cpuPerPublishUs).toFixed(2) : '');
      L.push(`| ${f} | ${n0(x.cpuPerPublishUs)} | ${fl ? n0(fl.cpuPerPublishUs) : ''} | ${ae ? n0(ae.cpuPerPublishUs) : ''} | ${eff(fl)} | ${eff(ae)} |`);
    }
    L.push('');
  }
  if (r.latency.length > 0) {
    L.push('**2. PUBLISH latency, open loop** (from the intended send time; rates are shares of rss\'s in-memory maximum above, the floor answering the same rates; ' +
      'each rate after 2 s of quiet; a retransmission is a request the load generator sent again after its first wait, at least 200 ms, without an answer)');
    L.push('');
    L.push('| server | share of max | rate/s | p50 (ms) | p99 (ms) | p99.9 (ms) | samples | retransmissions | server event-loop delay p99 / max (ms) | UDP receive-buffer drops (system-wide) |');
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const l of r.latency) {
      L.push(`| ${l.system ?? 'rss'} | ${pct(l.share)} | ${n0(l.rate)} | ${ms(l.latency.p50)} | ${ms(l.latency.p99)} | ${ms(l.latency.p999)} | ${n0(l.latency.n)} | ${l.retransmits === undefined ? '' : n0(l.retransmits)} | ` +
        `${l.loopDelay ? `${ms(l.loopDelay.p99)} / ${ms(l.loopDelay.max)}` : ''} | ${l.udpDrops === undefined ? '' : n0(l.udpDrops)} |`);
    }
    L.push('');
    const withTail = r.latency.filter((l) => l.tail && l.loopDelay);
    if (withTail.length > 0) {
      L.push('Tail evidence per rate (bench/rss/tail.ts: drops per socket from /proc/net/udp, the server\'s own request durations, its store calls timed, ' +
        'slow requests (> 20 ms) grouped into episodes of sends less than 50 ms apart):');
      L.push('');
      for (const l of withTail) L.push(`- ${l.system ?? 'rss'} at ${pct(l.share)}: ${describeTail(l.tail!, l.loopDelay!)}.`);
      L.push('');
    }
  }
  if (r.gaps) {
    const g = r.gaps;
    L.push(`**3. Gaps in service** (A, B and the engine as three processes, not pinned; PUBLISH open loop at ${g.rate}/s from 20 users; the client re-asks after 20 ms and at once on CHANGE-SERVER; a gap is the longest time between two answers around the event)`);
    L.push('');
    L.push('| event | count | gap p50 (ms) | gap max (ms) |');
    L.push('|---|---:|---:|---:|');
    const hs = [...g.handoffGaps].sort((a, b) => a - b);
    if (hs.length) L.push(`| planned handoff (period ${g.period} ms) | ${hs.length} | ${ms(hs[Math.floor((hs.length - 1) / 2)]!)} | ${ms(hs[hs.length - 1]!)} |`);
    L.push(`| SIGKILL of the serving server (failover) | 1 | ${ms(g.crashGap)} | ${ms(g.crashGap)} |`);
    L.push(`| (ordinary spacing of answers) | ${n0(g.spacing.n)} | ${ms(g.spacing.p50)} | p99 ${ms(g.spacing.p99)} |`);
    L.push('');
    L.push(`${n0(g.answered)} of ${n0(g.sent)} requests answered.`);
    L.push('');
  }
  if (r.retrieve) {
    const x = r.retrieve;
    L.push(`**4. RETRIEVE-TEXTS** of ${x.n} unseen texts with ${n0(x.stored)} stored (seeded through the driver in ${n0(x.seedMs / 1000)} s): ` +
      `p50 ${ms(x.retrieve.p50)} ms, p99 ${ms(x.retrieve.p99)} ms over ${x.retrieve.n} rounds after ${RETRIEVE_WARMUP} untimed ones; ${x.retrieve.repliesPerRetrieve} requests per retrieval, then one more, untimed, whose empty answer follows saying they were shown (the reader, at a validated address, asks for up to 16 datagrams of at most 1,200 bytes per answer).`);
    L.push('');
  }
  if (r.memory) {
    const m = r.memory;
    L.push(`**5. Server memory per idle user**, ${n0(m.users)} users loaded at a takeover (engine in its own process): ` +
      `${n0(m.heapPerUser)} B of heap (${n0(m.rssPerUser)} B of RSS); the engine holds another ${n0(m.enginePerUser)} B per user; the takeover with them took ${n0(m.loadMs)} ms.`);
    L.push('');
  }
  if (r.startup) {
    L.push('**6. `rss demo` start-up** (spawn to the `ready` line, median):');
    for (const s of r.startup) L.push(`${s.what}: ${n0(s.wallMs)} ms (it reports ${n0(s.reportedMs)} ms from its own start; ${s.runs} runs)`);
    L.push('');
  }
  L.push('**Aims**');
  L.push('');
  L.push('| aim | target | measured | |');
  L.push('|---|---|---|---|');
  const f1 = rss(1);
  const f10 = rss(10);
  const a1 = aedes(1);
  const a10 = aedes(10);
  if (f1 && a1) L.push(aim('publishes/s, 1 interested user, in memory', `≥ Aedes (${n0(a1.rate)})`, n0(f1.rate), f1.rate >= a1.rate, a1.rate / f1.rate));
  if (f1 && a1) L.push(aim('server CPU per publish, 1 interested user', `≤ Aedes (${n0(a1.cpuPerPublishUs)} µs)`, `${n0(f1.cpuPerPublishUs)} µs`, f1.cpuPerPublishUs <= a1.cpuPerPublishUs, f1.cpuPerPublishUs / a1.cpuPerPublishUs));
  if (f10 && a10) L.push(aim('deliveries/s, 10 interested users, in memory', `≥ Aedes (${n0(a10.deliveryRate)})`, n0(f10.deliveryRate), f10.deliveryRate >= a10.deliveryRate, a10.deliveryRate / f10.deliveryRate));
  const half = r.latency.find((l) => (l.system ?? 'rss') === 'rss' && l.share === 0.5);
  if (half) L.push(aim('p99 at half the maximum rate', '< 5 ms', `${ms(half.latency.p99)} ms`, half.latency.p99 < 5, half.latency.p99 / 5));
  if (r.gaps && r.gaps.handoffGaps.length) {
    const worst = Math.max(...r.gaps.handoffGaps);
    L.push(aim('gap at a handoff', '< 50 ms', `${ms(worst)} ms (worst)`, worst < 50, worst / 50));
  }
  if (r.retrieve) L.push(aim(`RETRIEVE ${r.retrieve.n} among ${n0(r.retrieve.stored)}`, '< 5 ms', `${ms(r.retrieve.retrieve.p50)} ms (p50)`, r.retrieve.retrieve.p50 < 5, r.retrieve.retrieve.p50 / 5));
  if (r.memory) L.push(aim('server memory per idle user', '< 1 KB', `${n0(r.memory.heapPerUser)} B`, r.memory.heapPerUser < 1024, r.memory.heapPerUser / 1024));
  L.push('');
  if (r.profile) {
    const p = r.profile;
    L.push(`**Profile of the server process** during scenario 1 (1 interested user, in memory; V8 sampling profiler, ${n0(p.totalMs)} ms): self time by layer, then the top functions.`);
    L.push('');
    L.push('| layer | share |');
    L.push('|---|---:|');
    for (const l of p.layers) if (l.share >= 0.005) L.push(`| ${l.layer} | ${pct(l.share)} |`);
    L.push('');
    L.push('| self time | function | where |');
    L.push('|---:|---|---|');
    for (const h of p.top) L.push(`| ${(h.share * 100).toFixed(1)}% | \`${h.name}\` | ${h.where || '(native)'} |`);
    L.push('');
  }
  return L.join('\n');
}

/** The figures the issue tracks, in one table: rss beside Aedes and the floor, and the aims. */
function summaryTable(r: Results): string[] {
  const find = (system: string, fanout: number) => r.throughput.find((t) => t.system === system && t.fanout === fanout && t.store !== 'data directory (journal)');
  const rate = (t?: ThroughputResult) => (t ? `${n0(t.rate)} (${n0(t.cpuPerPublishUs)} µs CPU each)` : '—');
  const fan10 = (t?: ThroughputResult) => (t ? `${n0(t.rate)} (${n0(t.deliveryRate)}); ${n0(t.cpuPerPublishUs)} µs CPU each` : '—');
  const ratio = (a?: ThroughputResult, b?: ThroughputResult, f: (t: ThroughputResult) => number = (t) => t.rate) => (a && b ? (f(a) / f(b)).toFixed(2) : '—');
  const L = ['| figure | rss | Aedes (same run) | floor (same run) | aim |', '|---|---:|---:|---:|---|'];
  const [r1, a1, f1, r10, a10, f10] = [find('rss', 1), find('aedes', 1), find('floor', 1), find('rss', 10), find('aedes', 10), find('floor', 10)];
  if (r1 || a1 || f1) L.push(`| acked publishes/s, 1 interested user | ${rate(r1)} | ${rate(a1)} | ${rate(f1)} | ≥ Aedes (stretch 1.5×) |`);
  if (r10 || a10 || f10) L.push(`| publishes/s (deliveries/s), 10 users | ${fan10(r10)} | ${fan10(a10)} | ${fan10(f10)} | deliveries ≥ Aedes |`);
  if (r1) {
    L.push(`| rss ÷ Aedes / rss ÷ floor, publishes/s at 1 user | | ${ratio(r1, a1)} | ${ratio(r1, f1)} | ≥ 1 vs Aedes |`);
    L.push(`| the same in CPU per publish (their µs ÷ rss µs) at 1 user | | ${ratio(a1, r1, (t) => t.cpuPerPublishUs)} | ${ratio(f1, r1, (t) => t.cpuPerPublishUs)} | ≥ 1 vs Aedes |`);
  }
  if (r10) L.push(`| the same in deliveries/s at 10 users | | ${ratio(r10, a10, (t) => t.deliveryRate)} | ${ratio(r10, f10, (t) => t.deliveryRate)} | ≥ 1 vs Aedes |`);
  const gen = (t?: ThroughputResult) => (t?.loadCpuPerPublishUs === undefined ? '—' : `${n0(t.loadCpuPerPublishUs)} µs (${pct(t.loadCpu)} of a core)`);
  if (r1 || a1 || f1) L.push(`| load generator CPU per publish, 1 user | ${gen(r1)} | ${gen(a1)} | ${gen(f1)} | well under the server's |`);
  const p99 = (system: string) => {
    const at = (share: number) => r.latency.find((l) => (l.system ?? 'rss') === system && l.share === share);
    const [a, b] = [at(0.1), at(0.5)];
    return a || b ? `${a ? ms(a.latency.p99) : '—'} / ${b ? ms(b.latency.p99) : '—'} ms` : '—';
  };
  if (r.latency.length > 0) L.push(`| p99 at 10% / 50% of max | ${p99('rss')} | — | ${p99('floor')} | < 5 ms at 50% |`);
  if (r.gaps?.handoffGaps.length) L.push(`| handoff gap, worst of ${r.gaps.handoffGaps.length} | ${ms(Math.max(...r.gaps.handoffGaps))} ms | — | — | < 50 ms every run |`);
  if (r.retrieve) L.push(`| RETRIEVE ${r.retrieve.n} among ${n0(r.retrieve.stored)}, p50 | ${ms(r.retrieve.retrieve.p50)} ms | — | — | < 5 ms |`);
  L.push('');
  return L.length > 3 ? L : [];
}

/** Replace the `mode` section of `file` (between its markers) with `body`; append the section if absent. */
export function writeSection(file: string, mode: string, body: string): void {
  const begin = `<!-- bench:${mode}:begin (written by npm run bench${mode === 'quick' ? ' -- --quick' : ''}) -->`;
  const end = `<!-- bench:${mode}:end -->`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const re = new RegExp(`<!-- bench:${mode}:begin[^>]*-->[\\s\\S]*?<!-- bench:${mode}:end -->`);
  const block = `${begin}\n${body}\n${end}`;
  writeFileSync(file, re.test(text) ? text.replace(re, () => block) : `${text.trimEnd()}\n\n${block}\n`);
}

export const loadBefore = () => loadavg();
