/**
 * Texts nobody is owed any more are deleted, so the log (and the embedded
 * engine's memory) stays bounded by what users still need instead of
 * growing with every text ever published.
 *
 * A text on subject s numbered n may go when all of these hold:
 * - every user holding s is past it: n ≤ max(cursor, since(s)) for each
 *   (server/owed.ts: then it is owed to none of them; a user adding s later
 *   is owed only texts numbered above what was issued then);
 * - it is not among the newest `newestKept` texts on s (RETRIEVE-TEXTS
 *   `last` N shows those, seen or not);
 * - it was stored at least `keepMs` ago: a PUBLISH sent again finds its text
 *   by request key and is not stored twice (handlers/publish.ts).
 * The age comes from marks, "every number up to `line` was stored by `at`",
 * kept in the store so the next server to serve knows them too.
 *
 * Cursors read here are the serving server's: a cursor in memory moved only
 * for a text the user received, so a server taking over with older stored
 * cursors at most looks for texts no one needs. Work per pass is bounded:
 * users are scanned in slices between other work, and each subject's range
 * is at most MAX_RANGE numbers wide (a range holds at most that many texts).
 */
import type { UserDoc } from '../store/documents';
import type { Clock, TimerHandle } from '../util/clock';
import { owedAfter } from './owed';

export interface RetentionPolicy {
  /** A text is kept at least this long after it was stored (ms). */
  keepMs: number;
  /** Newest texts kept per subject, received or not. */
  newestKept: number;
  /** Between passes (ms); a pass that had to stop early is followed sooner. */
  intervalMs: number;
  /** A pass stops once it deleted this many texts. */
  perPass: number;
}

/** "Every text numbered up to `line` was stored by `at`" (wall clock ms). */
export interface RetentionMark {
  at: number;
  line: number;
}

/** Delete the texts on `subject` numbered in (after, upTo]. */
export interface PurgeRange {
  subject: string;
  after: number;
  upTo: number;
}

/** What retention needs of the store. */
export interface RetentionStore {
  /** Delete the ranges' texts; how many went. */
  purgeTexts(ranges: PurgeRange[]): Promise<number>;
  /** The number of the `n`th newest text on `subject` (0: it holds fewer). */
  nthNewest(subject: string, n: number): Promise<number>;
  retentionMarks(): Promise<RetentionMark[]>;
  saveRetentionMarks(marks: RetentionMark[]): Promise<void>;
}

/** What retention needs of its server. */
export interface RetentionHost {
  users(): Iterable<UserDoc>;
  cursor(name: string): number;
  /** Every number up to here is stored or never will be (Sequencer.visibleLine). */
  visibleLine(): number;
  /** Still serving the term this pass began in. */
  serving(): boolean;
  /** Wall clock (ms since the epoch): marks are compared across servers. */
  now(): number;
  failed(err: unknown): void;
  purged(n: number): void;
}

export function defaultRetentionPolicy(keepMs: number): RetentionPolicy {
  return { keepMs, newestKept: 1000, intervalMs: 5000, perPass: 20_000 };
}

/** The widest range of numbers one subject's delete covers (so at most this many texts each). */
export const MAX_RANGE = 16_384;
/** Users looked at before other work gets its turn. */
const USERS_PER_SLICE = 4096;
/** Ranges per store command. */
const RANGES_PER_COMMAND = 64;
/** How long a subject's "newest kept" number is trusted before it is read again (it only grows: an older one keeps more). */
const NEWEST_REFRESH_MS = 30_000;

/**
 * Per subject some user holds: the highest number none of its holders is
 * owed (the smallest max(cursor, since) among them). Subjects nobody holds
 * are left out: nothing is known of them here.
 */
export function passedLines(users: Iterable<UserDoc>, cursor: (name: string) => number): Map<string, number> {
  const lines = new Map<string, number>();
  for (const u of users) addUser(lines, u, cursor(u._id));
  return lines;
}

function addUser(lines: Map<string, number>, u: UserDoc, cursor: number): void {
  for (const s of u.subjects) {
    const line = owedAfter(u, cursor, s);
    const before = lines.get(s);
    if (before === undefined || line < before) lines.set(s, line);
  }
}

/** The highest line of a mark at least `keepMs` old at `now` (0: none is). */
export function agedLine(marks: readonly RetentionMark[], now: number, keepMs: number): number {
  let line = 0;
  for (const m of marks) if (now - m.at >= keepMs) line = Math.max(line, m.line);
  return line;
}

/** Marks after adding `mark`: only the newest that is `keepMs` old is still needed among the old ones. */
export function keptMarks(marks: readonly RetentionMark[], mark: RetentionMark, keepMs: number): RetentionMark[] {
  const all = [...marks, mark].sort((a, b) => a.at - b.at);
  let firstNeeded = 0;
  for (let i = 0; i < all.length; i++) if (mark.at - all[i]!.at >= keepMs) firstNeeded = i;
  return all.slice(firstNeeded);
}

export class Retention {
  private timer: TimerHandle | undefined;
  private active = false;
  private running = false;
  private marks: RetentionMark[] | undefined;
  /** Per subject, every text up to here was deleted by this server (or found deleted). */
  private readonly done = new Map<string, number>();
  private readonly newest = new Map<string, { seq: number; readAt: number }>();

  constructor(
    private readonly store: RetentionStore,
    private readonly host: RetentionHost,
    private readonly clock: Clock,
    private readonly policy: RetentionPolicy,
  ) {}

  /** Passes from now on (the server serves). */
  start(): void {
    this.stop();
    this.active = true;
    this.schedule(this.policy.intervalMs);
  }

  /** No more passes (standby, close); what a running pass does after its current step is dropped. */
  stop(): void {
    this.active = false;
    this.timer?.cancel();
    this.timer = undefined;
    this.marks = undefined;
    this.done.clear();
    this.newest.clear();
  }

  private schedule(ms: number): void {
    this.timer = this.clock.after(ms, () => {
      this.timer = undefined;
      if (this.running) return this.schedule(this.policy.intervalMs);
      this.running = true;
      this.pass().then(
        (more) => this.afterPass(more ? Math.min(250, this.policy.intervalMs) : this.policy.intervalMs),
        (err) => {
          this.host.failed(err);
          this.afterPass(this.policy.intervalMs);
        },
      );
    });
  }

  private afterPass(next: number): void {
    this.running = false;
    // Stopped meanwhile: start() schedules afresh.
    if (this.active && this.timer === undefined) this.schedule(next);
  }

  /** One pass; true when it stopped at its bound with more to delete. */
  async pass(): Promise<boolean> {
    if (!this.host.serving()) return false;
    const aged = await this.mark();
    if (aged === 0 || !this.host.serving()) return false;
    const lines = await this.scanUsers();
    if (!this.host.serving()) return false;
    const ranges: PurgeRange[] = [];
    for (const [subject, passed] of lines) {
      const after = this.done.get(subject) ?? 0;
      let upTo = Math.min(passed, aged);
      if (upTo <= after) continue;
      upTo = Math.min(upTo, await this.belowNewest(subject, upTo), after + MAX_RANGE);
      if (!this.host.serving()) return false;
      if (upTo > after) ranges.push({ subject, after, upTo });
    }
    let deleted = 0;
    for (let i = 0; i < ranges.length; i += RANGES_PER_COMMAND) {
      if (!this.host.serving()) return false;
      if (deleted >= this.policy.perPass) return true;
      const batch = ranges.slice(i, i + RANGES_PER_COMMAND);
      const n = await this.store.purgeTexts(batch);
      deleted += n;
      if (n > 0) this.host.purged(n);
      for (const r of batch) this.done.set(r.subject, r.upTo);
    }
    // A range cut at its width leaves more behind.
    return ranges.some((r) => r.upTo - r.after === MAX_RANGE);
  }

  /** Record where the log stands now; the line of texts old enough to go. */
  private async mark(): Promise<number> {
    this.marks ??= await this.store.retentionMarks();
    const now = this.host.now();
    const line = this.host.visibleLine();
    const last = this.marks[this.marks.length - 1];
    if (!last || line > last.line) {
      const next = keptMarks(this.marks, { at: now, line }, this.policy.keepMs);
      await this.store.saveRetentionMarks(next);
      this.marks = next;
    }
    return agedLine(this.marks, now, this.policy.keepMs);
  }

  /** passedLines over every user, a slice at a time (a user who changes meanwhile only changes to need less: see the top). */
  private async scanUsers(): Promise<Map<string, number>> {
    const lines = new Map<string, number>();
    let n = 0;
    for (const u of this.host.users()) {
      addUser(lines, u, this.host.cursor(u._id));
      if (++n % USERS_PER_SLICE === 0) await new Promise<void>((go) => setImmediate(go));
    }
    return lines;
  }

  /** The highest number below the subject's newest kept texts, at most `upTo` (0: all of its texts are among them). */
  private async belowNewest(subject: string, upTo: number): Promise<number> {
    const known = this.newest.get(subject);
    const now = this.clock.now();
    if (known && (known.seq > upTo || now - known.readAt < NEWEST_REFRESH_MS)) return Math.min(upTo, known.seq - 1);
    const seq = await this.store.nthNewest(subject, this.policy.newestKept);
    this.newest.set(subject, { seq, readAt: now });
    return Math.min(upTo, seq - 1);
  }
}
