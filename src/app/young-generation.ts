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
 * the young generation grows each time (`--semi-space-growth-factor`).
 * Growth is switched off while the young generation is at the ceiling and
 * on again below it: V8 shrinks it after a quiet spell, and with growth
 * off for good it would stay small (minor collections many times as often)
 * when the load comes back (heap-tuning.ts sets it after each collection).
 */
import { getHeapSpaceStatistics } from 'node:v8';

/** The young generation's ceiling (both halves): 16 MB, two halves of 8 MB. */
export const YOUNG_GENERATION_CEILING = 16 * 1024 * 1024;

/** V8's own growth factor (its default), restored below the ceiling. */
const DEFAULT_GROWTH = 2;

/** Bytes the young generation (V8's new space, both halves) has now. */
export function youngGenerationSize(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/** Growth on below the ceiling, off at it; the flag is set only when that changes. */
export class GrowthSwitch {
  private growing = true;

  constructor(
    private readonly size: () => number,
    private readonly setGrowth: (factor: number) => void,
    private readonly ceiling = YOUNG_GENERATION_CEILING,
  ) {}

  /** After a collection (V8 resizes the young generation then). */
  check(): void {
    const growing = this.size() < this.ceiling;
    if (growing === this.growing) return;
    this.growing = growing;
    this.setGrowth(growing ? DEFAULT_GROWTH : 1);
  }
}
