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
 * cursors at most looks for texts no one needs. Work is kept in small
 * steps so requests are served in between: users are scanned in slices,
 * texts are found by subject and deleted by number in commands of at most
 * DELETE_CHUNK (deleting a text costs the engine about as much as storing
 * it: one large delete would hold every request behind it), spread at
 * twice the publish rate, and a pass stops after `perPass` texts.
 */
import type { UserDoc } from '../store/documents';
import type { Clock, TimerHandle } from '../util/clock';
import { owedAfter } from './owed';

export interface RetentionPolicy {
  /** A text is kept at least this long after it was stored (ms); Infinity: every text is kept. */
  keepMs: number;
  /** Newest texts kept per subject, received or not. */
  newestKept: number;
  /** Between passes (ms); a pass that had to stop early is followed sooner. */
  intervalMs: number;
  /** A pass stops once it deleted this many texts. */
  perPass: number;
  /** A subject whose texts were all looked at is looked at again after this long (ms): one read per subject, not per pass. */
  revisitMs: number;
  /** Deletes per second at most; default: twice the publish rate, at least MIN_DELETES_PER_SECOND. */
  deletesPerSecond?: number;
}

/** "Every text numbered up to `line` was stored by `at`" (wall clock ms). */
export interface RetentionMark {
  at: number;
  line: number;
}

/** What retention needs of the store. */
export interface RetentionStore {
  /** The numbers of the texts on `subject` numbered in (after, upTo], lowest first, at most `limit`. */
  textNumbers(subject: string, after: number, upTo: number, limit: number): Promise<number[]>;
  /** Delete the texts with these numbers; how many went. */
  deleteTexts(numbers: number[]): Promise<number>;
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
  /**
   * Read whether `name` is owed anything numbered up to `upTo` (at most the
   * visible line) and, when it is owed nothing, move its cursor there (as an
   * empty RETRIEVE-TEXTS does): a user who only publishes on a subject is
   * never owed its own texts, so nothing else moves its cursor past them.
   * True when the cursor moved; nothing moves once the serving term changed.
   */
  catchUp(name: string, upTo: number): Promise<boolean>;
  /** Serving now. */
  serving(): boolean;
  /** The serving term (bumped at every standby): a pass stops when it changes. */
  term(): number;
  /** Wall clock (ms since the epoch): marks are compared across servers. */
  now(): number;
  failed(err: unknown): void;
  purged(n: number): void;
}

/**
 * The policy of a server whose answers are kept `replyLifetime` ms: texts
 * are kept at least that long whatever `given` says, so a PUBLISH sent again
 * finds its text and is not stored twice. (Marks are stamped with each
 * server's wall clock: servers whose clocks disagree by more than seconds
 * shorten that margin by as much.)
 */
export function retentionPolicy(replyLifetime: number, given: Partial<RetentionPolicy> = {}): RetentionPolicy {
  const policy = { keepMs: replyLifetime, newestKept: 1000, intervalMs: 5000, perPass: 20_000, revisitMs: 30_000, ...given };
  return { ...policy, keepMs: Math.max(policy.keepMs, replyLifetime) };
}

/** Texts deleted per store command (about 2-3 ms of the engine's time), and numbers read per subject at once. */
export const DELETE_CHUNK = 128;
/**
 * After each catch-up read, retention waits this many times as long as the
 * read took (real time: it paces the server's CPU).
 */
export const PACE = 3;
/**
 * Deletes are spread at twice the rate texts are published (at least
 * MIN_DELETES_PER_SECOND): a backlog deleted at full speed held requests for
 * 2.8 s on a server already 80% busy, and deletes paced by their own
 * duration fell behind when a busy loop made every step look long. Twice the
 * publish rate keeps up with steady publishing and works off a backlog
 * (a text costs about as much to delete as to store: at 4,000 publishes/s
 * a backlog takes about a seventh of the core).
 */
export const MIN_DELETES_PER_SECOND = 1000;
/** The longest retention waits between two steps (ms). */
const MAX_WAIT_MS = 1000;
/** Users looked at before other work gets its turn. */
const USERS_PER_SLICE = 4096;
/** Owed reads a pass makes for users whose position holds texts back. */
const CATCH_UPS_PER_PASS = 256;
/**
 * Numbers the first catch-up read of a pass covers. A read examines at most
 * that many texts (the user's own are read, though not owed); the window
 * doubles while reads take under FAST_READ_MS and halves above SLOW_READ_MS,
 * so a user behind on sparse subjects is caught up in few reads, and one
 * behind on many of its own texts in reads that stay short.
 */
export const CATCH_UP_WINDOW = 4096;
const MAX_CATCH_UP_WINDOW = 1 << 20;
const FAST_READ_MS = 2;
const SLOW_READ_MS = 8;
/** Marks kept within the keep time: a new one once a 64th of it has passed (deletes at most that much later). */
const MARKS_PER_KEEP = 64;

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

/** Run `step`, then wait PACE times as long as it took: requests get the core in between. */
async function paced<T>(step: () => Promise<T>): Promise<T> {
  const began = performance.now();
  const result = await step();
  const took = performance.now() - began;
  // Bounded: a step that waited long on store retries must not park the pass for minutes.
  await new Promise<void>((go) => setTimeout(go, Math.min(took * PACE, MAX_WAIT_MS)));
  return result;
}

/** Where what `u` is owed starts: the lowest max(cursor, since) over its subjects (Infinity: it holds none). */
function lowestOwed(u: UserDoc, cursor: number): number {
  let low = Infinity;
  for (const s of u.subjects) low = Math.min(low, owedAfter(u, cursor, s));
  return low;
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
  /** Per subject, every text up to `upTo` that could go was deleted by this server, looked at `at` (clock ms). */
  private readonly done = new Map<string, { upTo: number; at: number }>();
  private readonly newest = new Map<string, { seq: number; readAt: number }>();
  /** Users found owed texts, with their cursor then: not read again until it moves (or their document changes). */
  private owing = new WeakMap<UserDoc, number>();
  /** Where the next pass starts among the users behind (every one gets its turn however many there are). */
  private catchUpTurn = 0;
  /** The serving term of the pass running. */
  private term = 0;
  /** The visible line and the clock when the last pass began: the publish rate. */
  private lastLine: { line: number; at: number } | undefined;
  /** Publishes per second lately (smoothed over passes; undefined until measured). */
  private publishRate: number | undefined;

  constructor(
    private readonly store: RetentionStore,
    private readonly host: RetentionHost,
    private readonly clock: Clock,
    private readonly policy: RetentionPolicy,
  ) {}

  /** Passes from now on (the server serves); none when texts are kept forever. */
  start(): void {
    this.stop();
    if (!Number.isFinite(this.policy.keepMs)) return;
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
    this.owing = new WeakMap();
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
    this.term = this.host.term();
    this.measureRate();
    const aged = await this.mark();
    if (aged === 0 || !this.current()) return false;
    await this.catchUpBehind(aged);
    if (!this.current()) return false;
    const lines = await this.scanUsers();
    if (!this.current()) return false;
    try {
      return await this.deleteUpTo(lines, aged);
    } catch (err) {
      // Some numbers read may not have been deleted: look at every subject from its start again (cheap where nothing is left).
      this.done.clear();
      throw err;
    }
  }

  /** The publish rate since the last pass, smoothed. */
  private measureRate(): void {
    const now = this.clock.now();
    const line = this.host.visibleLine();
    const last = this.lastLine;
    this.lastLine = { line, at: now };
    if (!last || now <= last.at) return;
    const rate = ((line - last.line) * 1000) / (now - last.at);
    this.publishRate = this.publishRate === undefined ? rate : 0.5 * this.publishRate + 0.5 * rate;
  }

  /** How long between two delete commands (ms): at most MAX_WAIT_MS; 0 when the policy allows any rate. */
  deleteSpacing(): number {
    const perSecond = this.policy.deletesPerSecond ?? Math.max(2 * (this.publishRate ?? 0), MIN_DELETES_PER_SECOND);
    return perSecond > 0 ? Math.min((DELETE_CHUNK * 1000) / perSecond, MAX_WAIT_MS) : MAX_WAIT_MS;
  }

  /** Still serving the term the pass began in (a pass that waited across a standby and a new term stops). */
  private current(): boolean {
    return this.host.serving() && this.host.term() === this.term;
  }

  /** Delete, subject by subject, the texts below its line (and `aged`) but its newest. */
  private async deleteUpTo(lines: Map<string, number>, aged: number): Promise<boolean> {
    let deleted = 0;
    const batch: number[] = [];
    const flush = async (all: boolean) => {
      while (batch.length >= DELETE_CHUNK || (all && batch.length > 0)) {
        if (!this.current()) return;
        const numbers = batch.splice(0, DELETE_CHUNK);
        const began = performance.now();
        const n = await this.store.deleteTexts(numbers);
        deleted += n;
        if (n > 0) this.host.purged(n);
        // Requests get the core in between (real time: it spreads the server's CPU).
        const wait = this.deleteSpacing() - (performance.now() - began);
        await new Promise<void>((go) => (wait > 0 ? setTimeout(go, wait) : setImmediate(go)));
        if (!this.current()) return;
      }
    };
    const now = this.clock.now();
    for (const [subject, passed] of lines) {
      const done = this.done.get(subject);
      const after = done?.upTo ?? 0;
      if (Math.min(passed, aged) <= after || (done && now - done.at < this.policy.revisitMs)) continue;
      const upTo = Math.min(passed, aged, await this.belowNewest(subject, passed));
      for (let from = after; from < upTo; ) {
        if (!this.current()) return false;
        if (deleted + batch.length >= this.policy.perPass) {
          await flush(true);
          return true;
        }
        const numbers = await this.store.textNumbers(subject, from, upTo, DELETE_CHUNK);
        batch.push(...numbers);
        // Fewer than asked for: none is left up to `upTo`, and the subject waits `revisitMs` for more.
        const finished = numbers.length < DELETE_CHUNK;
        from = finished ? upTo : numbers[numbers.length - 1]!;
        this.done.set(subject, { upTo: from, at: finished ? now : -Infinity });
        await flush(false);
      }
    }
    await flush(true);
    return false;
  }

  /** Record where the log stands now; the line of texts old enough to go. */
  private async mark(): Promise<number> {
    this.marks ??= await this.store.retentionMarks();
    const now = this.host.now();
    const line = this.host.visibleLine();
    const last = this.marks[this.marks.length - 1];
    if (!last || (line > last.line && now - last.at >= this.policy.keepMs / MARKS_PER_KEEP)) {
      const next = keptMarks(this.marks, { at: now, line }, this.policy.keepMs);
      await this.store.saveRetentionMarks(next);
      this.marks = next;
    }
    return agedLine(this.marks, now, this.policy.keepMs);
  }

  /** passedLines over every user, a slice at a time (a user who changes meanwhile only changes to need less: see the top). */
  private async scanUsers(): Promise<Map<string, number>> {
    const lines = new Map<string, number>();
    await this.eachUser((u, cursor) => addUser(lines, u, cursor));
    return lines;
  }

  /** `visit` every user with its cursor, USERS_PER_SLICE at a time with other work in between. */
  private async eachUser(visit: (u: UserDoc, cursor: number) => void): Promise<void> {
    let n = 0;
    for (const u of this.host.users()) {
      visit(u, this.host.cursor(u._id));
      if (++n % USERS_PER_SLICE === 0) await new Promise<void>((go) => setImmediate(go));
    }
  }

  /**
   * Users whose cursor (or since) holds back texts old enough to go: read
   * what they are owed, a window of numbers at a time (CATCH_UP_WINDOW,
   * adapted to how long reads take); one owed nothing in a window is moved
   * past it. One owed texts keeps them, rightly, and is not read again
   * until its cursor moves. At most
   * CATCH_UPS_PER_PASS reads a pass, starting each pass further along the
   * users behind, so each gets its turn.
   */
  private async catchUpBehind(aged: number): Promise<void> {
    const behind: UserDoc[] = [];
    await this.eachUser((u, cursor) => {
      if (this.owing.get(u) !== cursor && lowestOwed(u, cursor) < aged) behind.push(u);
    });
    let reads = 0;
    let window = CATCH_UP_WINDOW;
    const start = behind.length > 0 ? this.catchUpTurn % behind.length : 0;
    for (let i = 0; i < behind.length && reads < CATCH_UPS_PER_PASS; i++) {
      const u = behind[(start + i) % behind.length]!;
      this.catchUpTurn = start + i + 1;
      for (;;) {
        if (!this.current()) return;
        const cursor = this.host.cursor(u._id);
        const from = lowestOwed(u, cursor);
        if (from >= aged || reads++ >= CATCH_UPS_PER_PASS) break;
        const began = performance.now();
        const moved = await paced(() => this.host.catchUp(u._id, Math.min(aged, from + window)));
        const took = (performance.now() - began) / (PACE + 1);
        if (took < FAST_READ_MS) window = Math.min(window * 2, MAX_CATCH_UP_WINDOW);
        else if (took > SLOW_READ_MS) window = Math.max(window / 2, CATCH_UP_WINDOW / 4);
        if (!moved) {
          this.owing.set(u, cursor);
          break;
        }
      }
    }
  }

  /** The highest number below the subject's newest kept texts, at most `upTo` (0: all of its texts are among them). */
  private async belowNewest(subject: string, upTo: number): Promise<number> {
    const known = this.newest.get(subject);
    const now = this.clock.now();
    // Trusted until the subject is looked at again: it only grows, so an older one keeps more, never less.
    if (known && (known.seq > upTo || now - known.readAt < this.policy.revisitMs)) return Math.min(upTo, known.seq - 1);
    const seq = await this.store.nthNewest(subject, this.policy.newestKept);
    this.newest.set(subject, { seq, readAt: now });
    return Math.min(upTo, seq - 1);
  }
}
