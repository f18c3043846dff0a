/**
 * The short window a verified TAKEOVER opens on a server that does not
 * serve yet, and the one record of when that TAKEOVER was heard. While it
 * is open users' requests are held (held-requests.ts) and the state read
 * ahead is kept (takeover-state.ts); a handoff's timing starts at it.
 */
import type { Clock, TimerHandle } from '../util/clock';

/** How long after a TAKEOVER the takeover is expected (ms): it follows within this, or not at all. */
export const TAKEOVER_WINDOW_MS = 3000;

export class TakeoverWindow {
  private heard: number | undefined;
  private expiry: TimerHandle | undefined;
  private readonly closers: Array<() => void> = [];

  constructor(
    private readonly clock: Clock,
    readonly length: number = TAKEOVER_WINDOW_MS,
  ) {}

  /** A verified TAKEOVER arrived now: the window (re)opens. */
  open(): void {
    this.heard = this.clock.now();
    this.expiry?.cancel();
    this.expiry = this.clock.after(this.length, () => this.close());
  }

  /** When the TAKEOVER was heard (server clock) while its window is open; undefined once it closed. */
  heardAt(): number | undefined {
    return this.heard !== undefined && this.clock.now() <= this.heard + this.length ? this.heard : undefined;
  }

  /** `f` runs whenever the window closes (its time ran out, or close() was called). */
  onClose(f: () => void): void {
    this.closers.push(f);
  }

  close(): void {
    this.heard = undefined;
    this.expiry?.cancel();
    this.expiry = undefined;
    for (const f of this.closers) f();
  }
}
