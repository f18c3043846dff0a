/**
 * Showing pushed texts exactly once and in seq order, per user.
 *
 * The server pushes each user's texts in seq order, stop-and-wait, so a text
 * is new iff its seq is above the last one shown to that user (seqs of one
 * user are increasing but not contiguous: texts on other subjects take the
 * numbers in between, so gaps cannot be seen and a retrieve fills them). While
 * a gap-filling retrieve is out, pushes are buffered and merged with its
 * result, sorted and de-duplicated.
 */
import type { StoredText } from '../protocol/messages';
import type { Logger } from '../util/log';
import type { ShownLog } from './shown';

/** A text shown to a user of this client. */
export interface ReceivedText extends StoredText {
  /** The user it was delivered to. */
  to: string;
}

interface UserState {
  lastShown: number;
  buffer: StoredText[];
  filling?: Promise<void>;
  again: boolean;
}

/** How many asks one gap fill may take before it stops (a server bug must not loop us forever). */
const MAX_FILL_ROUNDS = 1000;

export class Delivery {
  private readonly users = new Map<string, UserState>();

  constructor(
    private readonly show: (t: ReceivedText) => void,
    /** One RETRIEVE-TEXTS round, saying what was shown so far: the texts and whether more remain. */
    private readonly retrieveOnce: (user: string) => Promise<{ texts: StoredText[]; more: boolean }>,
    private readonly logger: Logger,
    /** What an earlier run of this client showed (the command line's file); none: this run only. */
    private readonly remembered?: ShownLog,
  ) {}

  private state(user: string): UserState {
    let s = this.users.get(user);
    if (!s) {
      s = { lastShown: this.remembered?.get(user) ?? 0, buffer: [], again: false };
      this.users.set(user, s);
    }
    return s;
  }

  /** The highest seq shown to `user` (0 when none). */
  lastShown(user: string): number {
    return this.users.get(user)?.lastShown ?? 0;
  }

  /** Forget a user (de-registered). */
  forget(user: string): void {
    this.users.delete(user);
  }

  /** A pushed text for `user`: shown now, buffered during a gap fill, or dropped as already shown. */
  push(user: string, text: StoredText): void {
    const s = this.state(user);
    if (s.filling) {
      s.buffer.push(text);
      return;
    }
    this.merge(user, s, [text]);
  }

  /** Texts the caller obtained by an explicit retrieve: count them as shown so a racing push is not shown again. */
  noteSeen(user: string, texts: readonly StoredText[]): void {
    const s = this.state(user);
    for (const t of texts) s.lastShown = Math.max(s.lastShown, t.seq);
    if (texts.length > 0) this.remembered?.set(user, s.lastShown);
  }

  /** Ask for the texts `user` missed and show them; concurrent calls share one fill (and run one more round). */
  fill(user: string): Promise<void> {
    const s = this.state(user);
    if (s.filling) {
      s.again = true;
      return s.filling;
    }
    s.filling = this.runFill(user, s).finally(() => {
      s.filling = undefined;
      // Pushes buffered after the last merge.
      const rest = s.buffer;
      s.buffer = [];
      this.merge(user, s, rest);
    });
    return s.filling;
  }

  private async runFill(user: string, s: UserState): Promise<void> {
    do {
      s.again = false;
      let rounds = 0;
      let more = true;
      while (more && rounds++ < MAX_FILL_ROUNDS) {
        try {
          const r = await this.retrieveOnce(user);
          // Asked again until an answer is empty: the next ask tells the server what this one brought.
          more = r.texts.length > 0;
          const got = [...r.texts, ...s.buffer];
          s.buffer = [];
          this.merge(user, s, got);
        } catch (err) {
          // The next trigger (CHANGE-SERVER, silence) tries again; buffered pushes are shown by fill().
          this.logger.warn({ user, err }, 'gap-filling retrieve failed');
          return;
        }
      }
    } while (s.again && this.users.get(user) === s);
  }

  private merge(user: string, s: UserState, texts: StoredText[]): void {
    texts.sort((a, b) => a.seq - b.seq);
    for (const t of texts) {
      if (t.seq <= s.lastShown) continue;
      s.lastShown = t.seq;
      this.remembered?.set(user, t.seq);
      this.show({ to: user, seq: t.seq, from: t.from, subject: t.subject, text: t.text, at: t.at });
    }
  }
}
