/**
 * How long each step of a handoff (the server giving the lease away) or a
 * takeover (the server taking it) took, on the server's own clock. Kept for
 * the latest of each in the telemetry (status report) and written into the
 * log line that ends it: when users see a pause at a handoff, the operator
 * can tell which step it was spent in.
 */
import type { Clock } from '../util/clock';

/** The steps of one handoff or takeover, in order, each in ms (rounded to 0.1), and their sum. */
export interface PhaseTimes {
  totalMs: number;
  phases: Record<string, number>;
}

const tenth = (ms: number) => Math.round(ms * 10) / 10;

export class PhaseClock {
  private readonly started: number;
  private last: number;
  private readonly phases: Record<string, number> = {};

  /** Timing starts at `from` (default: now), e.g. when the TAKEOVER that began a takeover arrived. */
  constructor(
    private readonly clock: Clock,
    from = clock.now(),
  ) {
    this.started = from;
    this.last = from;
  }

  /** The step `name` ended now (it began when the previous one ended). */
  done(name: string): void {
    const now = this.clock.now();
    this.phases[name] = tenth(now - this.last);
    this.last = now;
  }

  times(): PhaseTimes {
    return { totalMs: tenth(this.last - this.started), phases: { ...this.phases } };
  }
}
