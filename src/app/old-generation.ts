/**
 * Headroom for V8's old generation in a process that serves. V8 starts a
 * full collection (a mark-compact: every live object marked, then a pause
 * of 7-15 ms on a busy server's core) once the old generation has grown by
 * a factor of its live size chosen for memory thrift. A server's live set
 * is steady and fairly small (the embedded engine's stored texts, the
 * answers kept for retransmissions), so under load V8 collected it about
 * every 1.3 s, and each collection held the datagrams arriving meanwhile:
 * PUBLISH p99 at 2,000/s was 36-47 ms, and 7.6 ms with four times the live
 * size as headroom (`bench/tail-trace.ts`, docs/BENCHMARKS.md "Session 7").
 * V8 picks a factor between 1.1 and 4 (less when its collections took
 * little time, which a small heap's do); a serving process asks for 4 while
 * its live set is small (at most 4 × SMALL_LIVE_BYTES of heap) and for 2
 * while it is middling (below a quarter of the heap's limit, so the grown
 * heap stays within half of it), rechecked after each full collection.
 * Left to V8, a live set of 110-200 MB (the embedded engine's texts after a
 * minute at 4,000 publishes/s) grew by ~1.15× between collections: a full
 * collection every ~3 s, each with 115-217 ms of marking on a one-core
 * server, which fell behind for half a second each time. Asked for 2×, V8
 * grew it ~1.4×: a full collection every ~10 s and half the slow requests,
 * though not a lower p99 (each collection still makes its episode;
 * docs/BENCHMARKS.md, "Session 10"). Past a quarter of the limit, V8's own
 * rule again.
 * V8 only takes the factor as a flag (`--heap-growing-percent`), which it
 * reads at every collection, so it can be set at run time (heap-tuning.ts
 * does, after each full collection). Pure.
 */
/** Live sizes below this get growth by 4× (V8's largest factor) between full collections. */
export const SMALL_LIVE_BYTES = 96 * 1024 * 1024;
/**
 * The `--heap-growing-percent` for a live size, given the heap's limit:
 * 300 (growth by 4×) for a small live set, 100 (2×) for one below a quarter
 * of the limit, else 0 (V8's own rule).
 */
export function growingPercent(liveBytes: number, heapLimitBytes: number): number {
  if (liveBytes < SMALL_LIVE_BYTES) return 300;
  return liveBytes < heapLimitBytes / 4 ? 100 : 0;
}

/** Sets the growth after each full collection; the flag is set only when it changes. */
export class HeadroomSetter {
  private current = 0;

  constructor(
    private readonly liveBytes: () => number,
    private readonly setPercent: (percent: number) => void,
    private readonly percentFor: (liveBytes: number) => number,
  ) {}

  /** After a full collection (the live size is known then). */
  check(): void {
    const percent = this.percentFor(this.liveBytes());
    if (percent === this.current) return;
    this.current = percent;
    this.setPercent(percent);
  }
}
