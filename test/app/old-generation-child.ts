/**
 * Child of old-generation.test.ts: keeps a steady live set of about 30 MB
 * (as a server keeps its texts and answers) while, turn after turn with
 * short idle gaps, allocating garbage of which a little lives across many
 * turns (it reaches the old generation and dies there), with V8's own
 * growth or a tight one set at run time, and prints how many full
 * collections V8 made.
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { tuneHeapForServing } from '../../src/app/heap-tuning';

// Growth by 1.1× only: V8 must honour the flag set at run time, after every full collection.
if (process.argv[2] === 'tight') tuneHeapForServing({ youngCeiling: false, oldGrowth: () => 10 });
let full = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++;
}).observe({ entryTypes: ['gc'] });
const live: { i: number; s: string }[] = [];
for (let i = 0; i < 300_000; i++) live.push({ i, s: `text ${i}` });
const recent: { i: number; s: string }[][] = [];
let sink = 0;
for (let turn = 0; turn < 1000; turn++) {
  recent.push(Array.from({ length: 3_000 }, (_, i) => ({ i, s: `reply ${turn}/${i}` })));
  if (recent.length > 60) recent.shift();
  for (let i = 0; i < 20_000; i++) sink += { i }.i;
  await new Promise((r) => setTimeout(r, 1));
}
process.stdout.write(`${full} ${live.length} ${sink > 0 ? '' : '?'}\n`);
