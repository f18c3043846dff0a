/**
 * Time behind a tiny interface, so leases, handoffs and retransmission are
 * tested with a fake clock instead of real waiting.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic within one process. */
  now(): number;
  /** Run `fn` after `ms`; the handle cancels it. Timers never keep the process alive on their own. */
  after(ms: number, fn: () => void): TimerHandle;
}

/** The real clock: performance.now() and unref'd timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock that only moves when told to: `advance(ms)` fires due timers in order. */
export class FakeClock implements Clock {
  private time = 0;
  private nextId = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return { cancel: () => void this.timers.delete(id) };
  }

  /** Move time forward, firing every timer that falls due (timers set while firing included). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let dueId = -1;
      let dueAt = Infinity;
      for (const [id, t] of this.timers) {
        if (t.at <= end && t.at < dueAt) {
          dueAt = t.at;
          dueId = id;
        }
      }
      if (dueId < 0) break;
      const timer = this.timers.get(dueId)!;
      this.timers.delete(dueId);
      this.time = Math.max(this.time, timer.at);
      timer.fn();
    }
    this.time = end;
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.timers.size;
  }
}

/** Resolve after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.after(ms, resolve));
}

/** `call`'s outcome, or a rejection with `late()` once `ms` passed first (the timer is cancelled when `call` settles). */
export function within<T>(clock: Clock, ms: number, call: Promise<T>, late: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = clock.after(ms, () => reject(late()));
    call.then(
      (v) => (t.cancel(), resolve(v)),
      (e: unknown) => (t.cancel(), reject(e)),
    );
  });
}
