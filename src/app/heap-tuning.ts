/**
 * The V8 heap of a process that serves, kept in shape after every
 * collection by one gc observer: the young generation at most its ceiling
 * (young-generation.ts: short minor collections) and the old generation
 * given room to grow (old-generation.ts: rare full collections). V8 reads
 * both flags at each collection, so they can be set at run time. An
 * operator's own V8 option for either part wins over rss's.
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { servingThreadFirst } from './helper-threads';
import { growingPercent, HeadroomSetter } from './old-generation';
import { GrowthSwitch, YOUNG_GENERATION_CEILING, youngGenerationSize } from './young-generation';

/** Whether the operator gave node a V8 option containing `part` (on the command line or in NODE_OPTIONS). */
function givenByOperator(part: string): boolean {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes(part));
}

/** Which parts to tune, and how (tests take one part alone, or another rule). */
export interface HeapTuning {
  /** The young generation's ceiling in bytes; false: left to V8. */
  youngCeiling?: number | false;
  /** The old generation's `--heap-growing-percent` for a live size; false: left to V8. */
  oldGrowth?: ((liveBytes: number) => number) | false;
}

let tuned = false;

/** From now on, for the whole process (once; later calls do nothing). */
export function tuneHeapForServing(opts: HeapTuning = {}): void {
  if (tuned) return;
  tuned = true;
  const { youngCeiling = YOUNG_GENERATION_CEILING, oldGrowth = (live: number) => growingPercent(live, getHeapStatistics().heap_size_limit) } = opts;
  const young = youngCeiling === false || givenByOperator('semi-space')
    ? undefined
    : new GrowthSwitch(youngGenerationSize, (factor) => setFlagsFromString(`--semi-space-growth-factor=${factor}`), youngCeiling);
  const old = oldGrowth === false || givenByOperator('heap-growing')
    ? undefined
    : new HeadroomSetter(() => getHeapStatistics().used_heap_size, (p) => setFlagsFromString(`--heap-growing-percent=${p}`), oldGrowth);
  if (!young && !old) return;
  young?.check();
  old?.check();
  const major = (e: PerformanceEntry) => (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
  new PerformanceObserver((list) => {
    // V8 resizes the young generation at any collection; the old generation's live size is known after a full one.
    young?.check();
    if (old && list.getEntries().some(major)) old.check();
  }).observe({ entryTypes: ['gc'] });
}

/**
 * Everything a process that serves (a server, or the embedded engine)
 * sets up for itself, once: its heap (tuneHeapForServing) and its event
 * loop ahead of its other threads (helper-threads.ts).
 */
export function prepareServingProcess(): void {
  tuneHeapForServing();
  servingThreadFirst();
}
