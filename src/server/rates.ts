/**
 * Requests and pushes per second for the status report: the counters are
 * sampled once a second (on the server's clock) into a small ring, and the
 * rate is the growth over the samples held (up to RING_SECONDS).
 */
import type { Clock, TimerHandle } from '../util/clock';

const RING_SECONDS = 10;

export interface RateCounters {
  requests: number;
  pushes: number;
}

export class RateSampler {
  private readonly ring: { at: number; c: RateCounters }[] = [];
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(private readonly clock: Clock, private readonly read: () => RateCounters) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.sample();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Per-second rates over the samples held, up to now; 0 before a second has passed. */
  perSecond(): RateCounters {
    const first = this.ring[0];
    const now = this.clock.now();
    if (!first || now - first.at < 1000) return { requests: 0, pushes: 0 };
    const c = this.read();
    const secs = (now - first.at) / 1000;
    return { requests: round1((c.requests - first.c.requests) / secs), pushes: round1((c.pushes - first.c.pushes) / secs) };
  }

  private sample(): void {
    if (!this.running) return;
    this.ring.push({ at: this.clock.now(), c: { ...this.read() } });
    if (this.ring.length > RING_SECONDS + 1) this.ring.shift();
    this.timer = this.clock.after(1000, () => this.sample());
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
