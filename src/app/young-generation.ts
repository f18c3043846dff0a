/**
 * A ceiling on V8's young generation in a process that serves. Every
 * minor collection (scavenge) stops the event loop for as long as it takes
 * to copy what survives it, and a server keeps about 2 KB of every publish
 * (the embedded engine's text, the reply kept for retransmissions): with
 * the young generation V8 grows to by default (two 16 MB halves) one
 * scavenge held every datagram 4-5 ms, every 80-300 ms; with 8 MB halves
 * 2.7-3 ms, at about the same CPU per publish (docs/BENCHMARKS.md, "the
 * tail"). V8 only takes the size from the command line
 * (`--max-semi-space-size`), which `rss` cannot set for itself (a single
 * executable, `node bin/rss`); what it can change at run time is how much
 * the young generation grows each time (`--semi-space-growth-factor`): it
 * stops the growth once the young generation has reached the ceiling.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** The young generation's ceiling (both halves): 16 MB, two halves of 8 MB. */
export const YOUNG_GENERATION_CEILING = 16 * 1024 * 1024;

/** Bytes the young generation (V8's new space, both halves) has now. */
export function youngGenerationSize(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

let capped = false;

/**
 * Stop the young generation's growth at `ceiling` from now on, for the
 * whole process (once; later calls do nothing). V8 grows it by doubling, at
 * a collection: below the ceiling, growth is stopped after the collection
 * that reaches it; at or above it (it grew already), now.
 */
export function capYoungGeneration(ceiling = YOUNG_GENERATION_CEILING): void {
  if (capped) return;
  capped = true;
  const stopGrowth = () => setFlagsFromString('--semi-space-growth-factor=1');
  if (youngGenerationSize() >= ceiling) return stopGrowth();
  const watch = new PerformanceObserver(() => {
    if (youngGenerationSize() < ceiling) return;
    stopGrowth();
    watch.disconnect();
  });
  watch.observe({ entryTypes: ['gc'] });
}
