/**
 * The serving thread first: every other thread of a serving process (V8's
 * garbage-collection and compiler helpers, libuv's pool) runs at a lower
 * priority, so on a busy core the event loop waits less for them. On a
 * server confined to one core, V8's concurrent marking took about 15% of
 * that core at 5,000 publishes/s while datagrams queued behind it.
 *
 * Lower, not lowest: at nice 19 the helpers got almost nothing while the
 * event loop was saturated, so V8's optimizing compiles (done on those
 * threads) waited and the loop ran slower code: 140-170 µs of CPU per
 * publish at the maximum instead of 100-120. At nice 10 (a tenth of the
 * core when both want it) the maximum is as before and the tail shorter:
 * PUBLISH p99 at 5,000/s 16-27 ms against 22-62 ms, the longest answer
 * 33-38 ms against 56-86 ms (`bench/tail-trace.ts 5000`, alternated three
 * times; docs/BENCHMARKS.md, "Session 8"). With cores to spare nothing
 * changes: a thread's priority only matters while it waits for a core.
 *
 * The threads cannot be told apart (Node 20 names none of them), so
 * libuv's pool is lowered too: the embedded engine's journal writes and
 * fsyncs run there, and wait a little longer for the core when the loop is
 * saturated. Measured in the full bench's journaled scenario (closed loop,
 * so the loop saturated): 9,312 publishes/s against 9,882 in memory, the
 * same ratio as before (6,879 against 7,408).
 *
 * Linux only (a thread is a task in /proc/self/task, and setpriority on
 * its id sets that thread's own nice value); elsewhere it does nothing.
 * Threads are created lazily (libuv's pool on its first use, usually while
 * the store opens), so the threads are looked at again a second later and
 * then now and then.
 */
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { InvalidArgumentError } from '../errors';

/** The nice value of the helper threads (see above for why not 19, the lowest). */
export const HELPER_NICE = 10;
/** When threads created since are looked for (ms): once soon, then now and then. */
const FIRST_RECHECK_MS = 1_000;
const RECHECK_MS = 10_000;

/** The ids of this process's threads other than the main one (empty where /proc is not there). */
function helperThreads(): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return [];
  }
  return tasks.map(Number).filter((tid) => Number.isInteger(tid) && tid !== process.pid);
}

/** Lowers each helper thread not seen before to `target` (never raises one an operator lowered further). */
export class HelperPriority {
  private readonly seen = new Set<number>();

  constructor(
    private readonly target = HELPER_NICE,
    private readonly threads: () => number[] = helperThreads,
    private readonly nice: { get(tid: number): number; set(tid: number, nice: number): void } = { get: getPriority, set: setPriority },
  ) {}

  /** Lower the threads created since the last call; how many were lowered. */
  apply(): number {
    let lowered = 0;
    const threads = this.threads();
    // Ids of threads that ended may be given to new ones.
    const live = new Set(threads);
    for (const tid of this.seen) if (!live.has(tid)) this.seen.delete(tid);
    for (const tid of threads) {
      if (this.seen.has(tid)) continue;
      this.seen.add(tid);
      try {
        if (this.nice.get(tid) >= this.target) continue;
        this.nice.set(tid, this.target);
        lowered++;
      } catch {
        // The thread ended meanwhile, or the system refuses: it keeps its priority.
      }
    }
    return lowered;
  }
}

let started = false;

/**
 * The helpers' nice value `RSS_HELPER_PRIORITY` asks for: a whole number
 * from 1 to 19, `keep` (or 0) to leave every thread as it is; HELPER_NICE
 * when unset. Anything else is refused, naming the variable.
 */
export function helperNice(value: string | undefined): number {
  if (value === undefined || value === '') return HELPER_NICE;
  if (value === 'keep') return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 19) throw new InvalidArgumentError(`RSS_HELPER_PRIORITY must be keep or a nice value from 0 to 19, not ${JSON.stringify(value)}`);
  return n;
}

/** From now on, for the whole process (once; later calls do nothing). */
export function servingThreadFirst(): void {
  if (started || process.platform !== 'linux') return;
  const nice = helperNice(process.env.RSS_HELPER_PRIORITY);
  started = true;
  if (nice === 0) return;
  const priority = new HelperPriority(nice);
  priority.apply();
  setTimeout(() => priority.apply(), FIRST_RECHECK_MS).unref();
  setInterval(() => priority.apply(), RECHECK_MS).unref();
}
