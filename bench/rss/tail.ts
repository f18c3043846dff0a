/**
 * Evidence for the latency tail, from the outside of rss: which UDP socket
 * dropped datagrams (/proc/net/udp, per socket), how much CPU the host
 * stole from this VM and other work took (/proc/stat), how long each store
 * call took inside the server (its methods wrapped, bench only), and how
 * the slow requests cluster in time (one stall, or many small delays).
 * Linux files are read where they exist; elsewhere the figures are absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { PerformanceObserver, monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Datagrams dropped so far by the sockets bound to `ports` (127.0.0.1, udp4): the `drops` column of /proc/net/udp. */
export function socketDrops(ports: readonly number[]): number | undefined {
  if (!existsSync('/proc/net/udp')) return undefined;
  const want = new Set(ports);
  let drops = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const port = parseInt(f[1]!.split(':')[1]!, 16);
    if (want.has(port)) drops += Number(f[f.length - 1]);
  }
  return drops;
}

export interface CpuTicks {
  /** Ticks (1/100 s) the hypervisor ran something else on our virtual CPUs. */
  steal: number;
  busy: number;
  total: number;
}

/** The machine's CPU ticks so far (first line of /proc/stat). */
export function cpuTicks(): CpuTicks | undefined {
  if (!existsSync('/proc/stat')) return undefined;
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq;
  return { steal, busy, total: busy + idle + iowait + steal };
}

export function ticksSince(a: CpuTicks | undefined): CpuTicks | undefined {
  const b = cpuTicks();
  return a && b ? { steal: b.steal - a.steal, busy: b.busy - a.busy, total: b.total - a.total } : undefined;
}

export interface CallStats {
  n: number;
  /** ms */
  max: number;
  over10ms: number;
  /** Absolute time (ms since the epoch, sub-ms) at which the slowest call began. */
  maxAt: number;
}

/** Absolute time in ms with sub-ms resolution, comparable between processes on one machine. */
export const wallNow = () => performance.timeOrigin + performance.now();

/**
 * Time every promise-returning method of `target` (own prototype chain, up
 * to Object) into `stats`, by method name. Wraps the instance, not the
 * class: only the benched server's store is affected.
 */
export function timeMethods(target: object, stats: Map<string, CallStats>): void {
  const t = target as Record<string, unknown>;
  for (let proto = Object.getPrototypeOf(target); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const f = proto[name];
      if (name === 'constructor' || typeof f !== 'function' || Object.prototype.hasOwnProperty.call(t, name)) continue;
      t[name] = function timed(this: unknown, ...args: unknown[]) {
        const r = f.apply(this, args);
        if (!(r instanceof Promise)) return r;
        const at = wallNow();
        const done = () => {
          const ms = wallNow() - at;
          const s = stats.get(name) ?? { n: 0, max: 0, over10ms: 0, maxAt: 0 };
          s.n++;
          if (ms > 10) s.over10ms++;
          if (ms > s.max) { s.max = ms; s.maxAt = at; }
          stats.set(name, s);
        };
        r.then(done, done);
        return r;
      };
    }
  }
}

export interface Episode {
  /** Requests in it (each answered more than `overMs` after its intended send time). */
  requests: number;
  /** Absolute time of the first one's intended send (ms since the epoch). */
  from: number;
  /** Span of their intended send times, ms. */
  spanMs: number;
  worstMs: number;
}

/**
 * Slow requests grouped into episodes: consecutive slow requests whose
 * intended send times are within `joinMs` of each other belong to one. A
 * single stall shows as one episode of many requests; independent delays
 * (a lost datagram each) as many episodes of one.
 */
export function episodes(samples: readonly { at: number; ms: number }[], overMs: number, joinMs = 50): Episode[] {
  const slow = samples.filter((s) => s.ms > overMs).sort((a, b) => a.at - b.at);
  const out: Episode[] = [];
  for (const s of slow) {
    const last = out[out.length - 1];
    if (last && s.at - (last.from + last.spanMs) <= joinMs) {
      last.requests++;
      last.spanMs = s.at - last.from;
      last.worstMs = Math.max(last.worstMs, s.ms);
    } else out.push({ requests: 1, from: s.at, spanMs: 0, worstMs: s.ms });
  }
  return out;
}

/**
 * This process's main thread so far: ms on a CPU, and ms runnable but
 * waiting for one (/proc/self/schedstat). The second is time the machine
 * took from the thread: a stall the event loop shows with it is the
 * machine's, without it the thread's own work.
 */
export function schedstat(): { runMs: number; waitMs: number } | undefined {
  if (!existsSync('/proc/self/schedstat')) return undefined;
  const [run = 0, wait = 0] = readFileSync('/proc/self/schedstat', 'utf8').trim().split(/\s+/).map(Number);
  return { runMs: run / 1e6, waitMs: wait / 1e6 };
}

/**
 * What a server worker's own thread went through while a rate ran: how
 * late its event loop ran timers (ms; a stalled loop leaves every datagram
 * waiting that long), its GC pauses, its time on and waiting for a CPU.
 */
export class ThreadProbe {
  private loop: IntervalHistogram | undefined;
  private readonly gcPauses: number[] = [];
  private gc: PerformanceObserver | undefined;
  private sched0: ReturnType<typeof schedstat>;

  start(): void {
    this.loop = monitorEventLoopDelay({ resolution: 1 });
    this.loop.enable();
    this.sched0 = schedstat();
    this.gcPauses.length = 0;
    this.gc ??= new PerformanceObserver((list) => { for (const e of list.getEntries()) this.gcPauses.push(e.duration); });
    this.gc.observe({ entryTypes: ['gc'] });
  }

  stop() {
    const h = this.loop!;
    h.disable();
    this.gc?.disconnect();
    const s0 = this.sched0;
    const s1 = schedstat();
    const p = this.gcPauses;
    return {
      p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6,
      gc: { count: p.length, maxMs: Math.max(0, ...p), totalMs: p.reduce((a, b) => a + b, 0) },
      ...(s0 && s1 ? { sched: { runMs: s1.runMs - s0.runMs, waitMs: s1.waitMs - s0.waitMs } } : {}),
    };
  }
}
