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

/** The reads of users and recorded answers a takeover makes. */
export interface UsersAndReplies {
  loadUsers(): Promise<UserDoc[]>;
  /** Every user's cursor alone (a user without one: 0). */
  loadCursors(): Promise<{ _id: string; cursor?: number }[]>;
  recentReplies(since: number): Promise<RequestDoc[]>;
}

/**
 * The users and the answers recorded since `since`, read so that a cursor
 * moved by a RETRIEVE-TEXTS is never seen without that answer.
 *
 * RETRIEVE-TEXTS from a canonical text or pickle client records its
 * answer, then moves the user's cursor past the texts it carried
 * (handlers/retrieve.ts). A new holder that read the moved cursor but not
 * the answer would run the client's retransmission again from that cursor,
 * and the texts of the lost answer would never reach the user. Its other writers go the other way: REGISTER, SUBJECTS, UPDATE
 * and DE-REGISTER write the user, then record their answer.
 *
 * After a handoff the old holder wrote everything and moved the lease
 * before its TAKEOVER, and writes a RETRIEVE's cursor only while it holds
 * the lease: all three reads at once see it whole. After a failover or a
 * resume an earlier holder may still be writing (a write retried over a
 * store that comes and goes lands late), so the reads go in turn: the
 * cursors first, then the answers (every cursor seen was moved after its
 * answer was recorded), then the users (every answer seen was recorded
 * after its user was written). A cursor that moved after the first read
 * stays where it was read: those texts are owed again; a native client
 * drops what it showed, a canonical text or pickle client may get one
 * twice (as after a crash).
 */
export async function readUsersAndReplies(store: UsersAndReplies, since: number, afterHandoff: boolean): Promise<{ users: UserDoc[]; recent: RequestDoc[] }> {
  if (afterHandoff) {
    const [users, recent] = await Promise.all([store.loadUsers(), store.recentReplies(since)]);
    return { users, recent };
  }
  const cursors = new Map((await store.loadCursors()).map((c) => [c._id, c.cursor ?? 0]));
  const recent = await store.recentReplies(since);
  const users = await store.loadUsers();
  // A user written after the first read (registered meanwhile) is owed from its subjects' `since`.
  for (const u of users) u.cursor = cursors.get(u._id) ?? 0;
  return { users, recent };
}

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
    /** `afterHandoff`: read at once (readUsersAndReplies). */
    private readonly load: (epoch: number, afterHandoff: boolean) => Promise<TakeoverState>,
    window: TakeoverWindow,
  ) {
    // Not kept past the window: a takeover that did not happen must not hold every user in memory.
    window.onClose(() => this.clear());
  }

  /** A verified TAKEOVER named `epoch`: start reading now. */
  readAhead(epoch: number): void {
    const state = this.load(epoch, true);
    // Its failure is met by take(), which awaits it; a read nobody takes is dropped.
    state.catch(() => {});
    this.ahead = { epoch, state };
  }

  /** The state to serve `epoch` with: read ahead by its TAKEOVER (a handoff), or read now. */
  take(epoch: number, handoff: boolean): Promise<TakeoverState> {
    const ahead = this.ahead;
    this.clear();
    if (!handoff || ahead?.epoch !== epoch) return this.load(epoch, handoff);
    // One that failed (the store was away for a moment) or found the lease not ours yet is done again, as now.
    return ahead.state.then((s) => (s.fence === null ? this.load(epoch, true) : s), () => this.load(epoch, true));
  }

  clear(): void {
    this.ahead = undefined;
  }
}
