/**
 * What a server loads from the store before it serves (the users, the
 * recent replies, the legacy contacts), read ahead at a handoff: the
 * TAKEOVER is sent only after the old holder wrote its last cursors and
 * marks and moved the lease, so what is read once it arrives is what the
 * new holder would read after its lease check, and nobody else writes it
 * meanwhile (only a serving server does). Reading it while the lease check
 * runs takes that round trip off the pause users see at a handoff.
 */
import type { ContactDoc, RequestDoc, UserDoc } from '../store/documents';
import type { Clock, TimerHandle } from '../util/clock';

export interface TakeoverState {
  users: UserDoc[];
  recent: RequestDoc[];
  contacts: ContactDoc[];
}

export class TakeoverStateLoader {
  private ahead: { epoch: number; state: Promise<TakeoverState> } | undefined;
  private expiry: TimerHandle | undefined;

  /** `window`: how long a read ahead stays usable (ms): the takeover follows its TAKEOVER within it, or not at all. */
  constructor(
    private readonly load: () => Promise<TakeoverState>,
    private readonly clock: Clock,
    private readonly window: number,
  ) {}

  /** A verified TAKEOVER named `epoch`: start reading now. */
  readAhead(epoch: number): void {
    const state = this.load();
    // Its failure is met by take(), which awaits it; a read nobody takes is dropped.
    state.catch(() => {});
    this.ahead = { epoch, state };
    this.expiry?.cancel();
    // Not kept past the window: a takeover that did not happen must not hold every user in memory.
    this.expiry = this.clock.after(this.window, () => this.clear());
  }

  /** The state to serve `epoch` with: read ahead by its TAKEOVER (a handoff), or read now. */
  take(epoch: number, handoff: boolean): Promise<TakeoverState> {
    const ahead = this.ahead;
    this.clear();
    // A read ahead that failed (the store was away for a moment) is tried again, as a read now would be.
    return handoff && ahead?.epoch === epoch ? ahead.state.catch(() => this.load()) : this.load();
  }

  clear(): void {
    this.ahead = undefined;
    this.expiry?.cancel();
    this.expiry = undefined;
  }
}
