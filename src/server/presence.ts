/**
 * Presence, for WHO's online flag: a user is online when the serving server
 * heard from it (an authenticated request, or an ACK of a push) within
 * `window` ms, and pushes to it have not gone unanswered for longer than
 * delivery keeps retrying (`giveUpAfter`), nor been given up (`lost`).
 *
 * Only the serving server tracks presence; it starts empty when serving
 * begins (`clear`), forgets a user that de-registers, and never reports a
 * name that is not in the directory. Entries are bounded by the directory:
 * `prune` drops the names it no longer holds.
 */

export interface PresenceOptions {
  /** Heard within this long counts as online (ms). Default: 2 × the client's 30 s listen silence. */
  window: number;
  /** Pushes unanswered this long count as given up (ms): delivery's whole retransmission schedule (which adapts to load). */
  giveUpAfter: number | (() => number);
}

/** The native client re-asks after 30 s of silence while it listens; twice that is still "online". */
export const DEFAULT_PRESENCE_WINDOW_MS = 60_000;

interface Seen {
  /** When the user was last heard from. */
  heard: number;
  /** The first push sent and not answered since (by an ACK or any request). */
  owedSince?: number;
  /** Delivery gave up on the user after it was last heard from. */
  lost?: boolean;
}

export class Presence {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly opts: PresenceOptions,
    /** Whether the name is a registered user (the directory). */
    private readonly known: (name: string) => boolean,
    /** How many users the directory holds. */
    private readonly count: () => number,
  ) {}

  /** An authenticated request or ACK from `name` was accepted at `now`; `known`: the caller just found the name in the directory. */
  heard(name: string, now: number, known = this.known(name)): void {
    if (!known) return;
    const s = this.seen.get(name);
    if (s) {
      // Every request and ACK comes here: the entry is renewed in place rather than replaced.
      s.heard = now;
      s.owedSince = undefined;
      s.lost = undefined;
      return;
    }
    this.seen.set(name, { heard: now });
    if (this.seen.size > this.count() + 64) this.prune();
  }

  /** A push went to `name` at `now` (it is owed an answer). */
  pushed(name: string, now: number): void {
    const s = this.seen.get(name);
    if (s && s.owedSince === undefined) s.owedSince = now;
  }

  /** Delivery gave up pushing to `name`. */
  lost(name: string): void {
    const s = this.seen.get(name);
    if (s) s.lost = true;
  }

  /** The user de-registered (or is otherwise gone). */
  forget(name: string): void {
    this.seen.delete(name);
  }

  /** Serving begins (or ends): nobody has been heard from yet. */
  clear(): void {
    this.seen.clear();
  }

  online(name: string, now: number): boolean {
    if (!this.known(name)) return false;
    const s = this.seen.get(name);
    if (!s || s.lost) return false;
    if (now - s.heard > this.opts.window) return false;
    const giveUpAfter = typeof this.opts.giveUpAfter === 'number' ? this.opts.giveUpAfter : this.opts.giveUpAfter();
    return s.owedSince === undefined || now - s.owedSince <= giveUpAfter;
  }

  /** Entries tracked (bounded by the directory). */
  get size(): number {
    return this.seen.size;
  }

  /** Drop every name the directory no longer holds. */
  prune(): void {
    for (const name of this.seen.keys()) if (!this.known(name)) this.seen.delete(name);
  }
}
