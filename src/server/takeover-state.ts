/**
 * What a server does in the store before it serves: fence the earlier
 * holders' text numbers (with its first block), load the users, the recent
 * replies, the legacy contacts. At a handoff all of it is started when the
 * TAKEOVER arrives, beside the lease check: the TAKEOVER is sent only after
 * the old holder wrote its last cursors and marks and moved the lease, so
 * what is read then is what the new holder would read after its lease
 * check, and nobody else writes it meanwhile (only a serving server does);
 * the fence is a compare-and-set on this server holding that very epoch,
 * so it is right whenever it succeeds (and unused if this server does not
 * serve that epoch after all). That takes two round trips off the pause
 * users see at a handoff.
 */
import type { ContactDoc, RequestDoc, UserDoc } from '../store/documents';
import type { TakeoverWindow } from './takeover-window';

export interface TakeoverState {
  /** The fence line (Store.fenceSeqs), or null: the lease was not ours. */
  fence: number | null;
  /** The lease's first block of text numbers, allocated right above the fence line with it (Sequencer.fenced). */
  block: number;
  users: UserDoc[];
  recent: RequestDoc[];
  contacts: ContactDoc[];
}

export class TakeoverStateLoader {
  private ahead: { epoch: number; state: Promise<TakeoverState> } | undefined;

  /** A read ahead is kept while `window` is open: the takeover follows its TAKEOVER within it, or not at all. */
  constructor(
    private readonly load: (epoch: number) => Promise<TakeoverState>,
    window: TakeoverWindow,
  ) {
    // Not kept past the window: a takeover that did not happen must not hold every user in memory.
    window.onClose(() => this.clear());
  }

  /** A verified TAKEOVER named `epoch`: start reading now. */
  readAhead(epoch: number): void {
    const state = this.load(epoch);
    // Its failure is met by take(), which awaits it; a read nobody takes is dropped.
    state.catch(() => {});
    this.ahead = { epoch, state };
  }

  /** The state to serve `epoch` with: read ahead by its TAKEOVER (a handoff), or read now. */
  take(epoch: number, handoff: boolean): Promise<TakeoverState> {
    const ahead = this.ahead;
    this.clear();
    if (!handoff || ahead?.epoch !== epoch) return this.load(epoch);
    // One that failed (the store was away for a moment) or found the lease not ours yet is done again, as now.
    return ahead.state.then((s) => (s.fence === null ? this.load(epoch) : s), () => this.load(epoch));
  }

  clear(): void {
    this.ahead = undefined;
  }
}
