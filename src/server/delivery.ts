/**
 * Ordered pushes: one stream per user that receives pushes (native and
 * canonical text users; pickle users only retrieve). The oldest text the
 * user is owed goes out first. To a native user the next goes only once
 * that one is acknowledged (stop-and-wait), so the client shows texts in
 * sequence order and exactly once just by comparing sequence numbers; a push
 * is retransmitted a bounded number of times, then the stream is held (its
 * texts stay owed for RETRIEVE-TEXTS) until the user is heard from. A
 * canonical text user cannot acknowledge: a push that went out counts as
 * received, and one its address's budget holds back holds the stream the
 * same way, so its texts never arrive out of order.
 *
 * The stream is filled from the log (what is owed is the user's cursor and
 * subjects over `texts`: server/owed.ts), so a server that just took over
 * pushes whatever the user is still owed, in order.
 */
import type { StoredText } from '../protocol/messages';
import type { TextDoc } from '../store/documents';
import type { Clock, TimerHandle } from '../util/clock';
import { silentLogger, type Logger } from '../util/log';
import { RoundTrips } from '../util/round-trips';

export interface DeliveryPolicy {
  /**
   * First wait for an ACK, at least; doubles with each retransmission. The
   * wait adapts upwards to the ACK round trips measured (util/round-trips.ts), so a
   * loaded server does not retransmit pushes whose ACKs are only queued.
   */
  firstTimeout: number;
  /** Transmissions of one push before the user is considered unreachable. */
  maxTransmissions: number;
  /** Texts loaded from the log at once. */
  batch: number;
  /** Streams reading the log at once (default MAX_LOADS): after a takeover every stream reads; the rest wait their turn. */
  loads?: number;
}

/** Streams reading the log at once, unless the policy says otherwise. */
export const MAX_LOADS = 8;

export function defaultDeliveryPolicy(): DeliveryPolicy {
  return { firstTimeout: 150, maxTransmissions: 5, batch: 64 };
}

/** What a push did: sent and awaiting an ACK, sent to a user that cannot acknowledge (received), held back, or the user is gone. */
export type PushOutcome = 'sent' | 'delivered' | 'blocked' | 'gone';

/** What delivery needs from the rest of the server. */
export interface DeliveryPort {
  /** Texts owed to `user`, oldest first, up to the visible line. */
  pending(user: string, limit: number): Promise<{ texts: TextDoc[]; more: boolean }>;
  /** The user received every text up to `seq` (its cursor moves; written coalesced). */
  received(user: string, seq: number): void;
  /**
   * Send one MESSAGE push to the user's current address. 'blocked' when it
   * may not go out now (address not proven, budget spent, not serving): the
   * stream holds until heardFrom().
   */
  send(user: string, text: StoredText): PushOutcome;
  /** The user did not acknowledge a push through the whole retransmission schedule. */
  gaveUp?(user: string): void;
  /**
   * Run `go` once every datagram that reached the server before now has
   * been handled (server/backlog.ts): a late ACK may be waiting in the
   * server's own receive queue. Default: at once.
   */
  afterBacklog?(go: () => void): void;
  /** A store call failed (the server's error channel counts and logs it); default: a warning. */
  failed?(err: unknown, context: { user: string; doing: string }): void;
}

/** The longest first wait for an ACK, however slow the round trips measured. */
export const MAX_ACK_TIMEOUT = 2000;

/** The wait after transmission `n` (1, 2, ...) of a push: doubling from the first timeout, at most 4 × MAX_ACK_TIMEOUT. */
export function pushWait(first: number, n: number): number {
  return Math.min(first * 2 ** (n - 1), 4 * MAX_ACK_TIMEOUT);
}

/** How long a push goes unanswered before delivery gives up: the waits of all its transmissions. */
export function pushSchedule(first: number, transmissions: number): number {
  let total = 0;
  for (let n = 1; n <= transmissions; n++) total += pushWait(first, n);
  return total;
}

/** A native push awaiting its ACK; it is its stream's phase while it waits (no second object per push). */
interface InFlight {
  kind: 'awaiting';
  text: StoredText;
  transmissions: number;
  sentAt: number;
  /** When it is sent again unless acknowledged (clock ms). */
  due: number;
  /** The first transmission's wait, doubled for each retransmission. */
  first: number;
  user: string;
  stream: Stream;
}

/** What a stream is doing: one state, so no combination of flags can contradict another. */
type Phase =
  /** Free to send the next queued text, or to load when the queue ran dry and is not whole. */
  | { kind: 'idle' }
  /** Reading the log; `owedMeanwhile`: a text owed during the read may be missing from its answer. */
  | { kind: 'loading'; owedMeanwhile: boolean }
  /** A native push waits for its ACK. */
  | InFlight
  /** Given up on or blocked: nothing is pushed until the user is heard from; its texts stay owed in the log. */
  | { kind: 'held' };

/** The one idle phase: it carries nothing, so every stream shares it (one allocation less per push and ACK). */
const IDLE: Phase = { kind: 'idle' };

interface Stream {
  phase: Phase;
  /** Owed texts to push next, in order. */
  queue: StoredText[];
  /** The queue holds every text owed up to the last one announced (else: load from the log when it runs dry). */
  whole: boolean;
  /** Every text up to here is received, or handed over by RETRIEVE-TEXTS: never pushed again from this stream. */
  floor: number;
}

export interface DeliveryStats {
  pushes: number;
  retransmissions: number;
  givenUp: number;
  acks: number;
  /** ACKs not for the push in flight (late, repeated or forged duplicates): ignored, so none can skip a text. */
  staleAcks: number;
}

export const toStoredText = (t: TextDoc): StoredText => ({ seq: t._id, from: t.from, subject: t.subject, text: t.text, at: t.at });

export class Delivery {
  private readonly streams = new Map<string, Stream>();
  private active = false;
  /**
   * The ACK round trips measured (util/round-trips.ts): the first wait of a
   * push, never below the policy's first timeout nor above MAX_ACK_TIMEOUT.
   * One for the server: when it is busy, every user's ACKs wait in the same queue.
   */
  private readonly roundTrips = new RoundTrips();
  /** Log reads running, and the streams waiting for one to finish (a bound on the store reads of a takeover). */
  private loadsRunning = 0;
  private readonly loadsWaiting: (() => void)[] = [];
  /**
   * Every push awaiting its ACK, by transmission number (its wait doubles
   * with each), in order of when it is due: one timer for all of them
   * instead of one per push. An acknowledged push is not taken out; it is
   * skipped when its time comes (see retransmitDue).
   */
  private readonly due: InFlight[][] = [];
  private dueTimer: TimerHandle | undefined;
  private dueTimerAt = Infinity;
  readonly stats: DeliveryStats = { pushes: 0, retransmissions: 0, givenUp: 0, acks: 0, staleAcks: 0 };

  constructor(
    private readonly port: DeliveryPort,
    private readonly clock: Clock,
    private readonly policy: DeliveryPolicy = defaultDeliveryPolicy(),
    private readonly log: Logger = silentLogger,
  ) {
  }

  /** The first wait for an ACK now (adapted to the round trips measured). */
  get ackTimeout(): number {
    return this.roundTrips.wait(this.policy.firstTimeout, MAX_ACK_TIMEOUT);
  }

  /** Start pushing (the server serves). */
  start(): void {
    this.active = true;
  }

  /**
   * Push nothing until resumeAll() (a handoff writing the cursors: a push
   * after that write would be received with no cursor to say so). Streams are
   * kept; a push in flight still counts its ACK, but is not retransmitted.
   */
  pause(): void {
    this.active = false;
  }

  /** Push again after pause(): every stream reads the log again (what waited, or was not retransmitted). */
  resumeAll(): void {
    this.active = true;
    for (const [user, s] of this.streams) this.reopen(user, s);
  }

  /** Stop pushing and forget in-memory state; the log and the cursors keep what is owed. */
  stop(): void {
    this.active = false;
    this.streams.clear();
    this.dueTimer?.cancel();
    this.dueTimer = undefined;
    this.dueTimerAt = Infinity;
    this.due.length = 0;
  }

  /** A new text is owed to `user` (announced in sequence order, once every lower number is settled). */
  owe(user: string, text: StoredText): void {
    const s = this.stream(user);
    if (s.phase.kind === 'held' || text.seq <= this.last(s)) return;
    if (s.phase.kind === 'loading') s.phase.owedMeanwhile = true;
    else if (s.whole && s.queue.length < this.policy.batch) s.queue.push(text);
    else s.whole = false;
    this.pump(user, s);
  }

  /**
   * The user acknowledged `seq`. Only the push in flight counts: stop-and-wait
   * means it is the oldest text owed, so the cursor may move to it; an ACK of
   * anything else (a late copy, a repeat) is ignored, the text it names is
   * pushed again if still owed and the client drops it as seen. `heard`:
   * the user was heard from as well (heardFrom first, with one lookup of
   * the stream for both: an ACK comes for every push).
   */
  ack(user: string, seq: number, heard = false): void {
    this.stats.acks++;
    const s = this.streams.get(user);
    if (heard && s?.phase.kind === 'held') this.reopen(user, s);
    if (s?.phase.kind !== 'awaiting' || s.phase.text.seq !== seq) {
      this.stats.staleAcks++;
      return;
    }
    const push = s.phase;
    if (push.transmissions === 1) this.roundTrips.sample(this.clock.now() - push.sentAt);
    s.phase = IDLE;
    this.receivedUpTo(user, s, seq);
    this.pump(user, s);
  }

  /** The user was heard from: a held stream resumes from the log. */
  heardFrom(user: string): void {
    const s = this.streams.get(user);
    if (s?.phase.kind !== 'held') return;
    this.reopen(user, s);
  }

  /**
   * Push what the log owes the user now, whether or not a stream was open
   * (its address just proved it receives, or its subjects changed: the queue
   * may hold texts no longer owed, or lack some).
   */
  resume(user: string): void {
    this.reopen(user, this.stream(user));
  }

  /** RETRIEVE-TEXTS handed over every owed text up to `upTo`: do not push them again. */
  retrieved(user: string, upTo: number): void {
    const s = this.streams.get(user);
    if (!s) return;
    s.floor = Math.max(s.floor, upTo);
    s.queue = s.queue.filter((t) => t.seq > upTo);
    if (s.phase.kind === 'awaiting' && s.phase.text.seq <= upTo) {
      s.phase = IDLE;
      this.pump(user, s);
    }
  }

  /** The user is gone (de-registered). */
  forget(user: string): void {
    this.streams.delete(user);
  }

  /** Pushes waiting for an acknowledgement. */
  get inFlight(): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.phase.kind === 'awaiting') n++;
    return n;
  }

  private stream(user: string): Stream {
    let s = this.streams.get(user);
    if (!s) {
      // Unknown stream: the log may owe older texts (e.g. after a takeover), so load first.
      s = { phase: IDLE, queue: [], whole: false, floor: 0 };
      this.streams.set(user, s);
    }
    return s;
  }

  /** The highest number this stream knows of: in flight, queued, or received. */
  private last(s: Stream): number {
    const tail = s.queue.length > 0 ? s.queue[s.queue.length - 1]!.seq : 0;
    const flying = s.phase.kind === 'awaiting' ? s.phase.text.seq : 0;
    return Math.max(s.floor, tail, flying);
  }

  /** Forget the queue and read the log again (after a hold, or when what is owed changed). */
  private reopen(user: string, s: Stream): void {
    if (s.phase.kind === 'held') s.phase = IDLE;
    if (s.phase.kind === 'loading') s.phase.owedMeanwhile = true;
    s.queue = [];
    s.whole = false;
    this.pump(user, s);
  }

  /** Push nothing more until the user is heard from: what is owed stays in the log for RETRIEVE-TEXTS. */
  private hold(s: Stream): void {
    s.phase = { kind: 'held' };
    s.queue = [];
    s.whole = false;
  }

  private receivedUpTo(user: string, s: Stream, seq: number): void {
    s.floor = Math.max(s.floor, seq);
    this.port.received(user, seq);
  }

  private failed(err: unknown, user: string, doing: string): void {
    if (this.port.failed) this.port.failed(err, { user, doing });
    else this.log.warn({ err: String(err), user }, doing);
  }

  private pump(user: string, s: Stream): void {
    // A text user's pushes need no ACK: several go out in one turn.
    while (this.active && s.phase.kind === 'idle' && this.streams.get(user) === s) {
      const next = s.queue.shift();
      if (!next) {
        if (!s.whole) void this.reload(user, s);
        return;
      }
      if (next.seq > s.floor) this.transmit(user, s, next, 1);
    }
  }

  private async reload(user: string, s: Stream): Promise<void> {
    const loading: Phase = { kind: 'loading', owedMeanwhile: false };
    s.phase = loading;
    await this.loadSlot();
    let texts: TextDoc[] = [];
    let more = true;
    try {
      // Gone or reopened while it waited: nothing to read for it.
      if (this.streams.get(user) !== s || s.phase !== loading) return;
      ({ texts, more } = await this.port.pending(user, this.policy.batch));
    } catch (err) {
      this.failed(err, user, 'loading pending texts');
    } finally {
      this.freeLoadSlot();
    }
    if (this.streams.get(user) !== s || s.phase !== loading) return;
    s.phase = IDLE;
    s.queue = texts.map(toStoredText).filter((t) => t.seq > s.floor);
    // owe() during the load: what it announced may be missing from this answer. A failed load waits for the next owe().
    s.whole = !more && !loading.owedMeanwhile;
    if (s.queue.length > 0 || loading.owedMeanwhile) this.pump(user, s);
  }

  /** Wait for a turn to read the log (at most `policy.loads` reads at once). */
  private async loadSlot(): Promise<void> {
    if (this.loadsRunning < (this.policy.loads ?? MAX_LOADS)) {
      this.loadsRunning++;
      return;
    }
    // The slot is handed over by the read that frees it (loadsRunning stays as it is).
    await new Promise<void>((go) => this.loadsWaiting.push(go));
  }

  private freeLoadSlot(): void {
    const next = this.loadsWaiting.shift();
    if (next) next();
    else this.loadsRunning--;
  }

  /** Log reads running now (status). */
  get loadsInFlight(): number {
    return this.loadsRunning;
  }

  /** Send `text` (transmission number `transmissions`); `first` is the push's first wait, doubled for each retransmission. */
  private transmit(user: string, s: Stream, text: StoredText, transmissions: number, first = this.ackTimeout): void {
    const sent = this.port.send(user, text);
    if (sent === 'gone') return this.forget(user);
    // Nothing went out: the text stays owed in the log; resume when the user is heard from.
    if (sent === 'blocked') return this.hold(s);
    if (transmissions === 1) this.stats.pushes++;
    else this.stats.retransmissions++;
    if (sent === 'delivered') return this.receivedUpTo(user, s, text.seq);
    const now = this.clock.now();
    const push: InFlight = { kind: 'awaiting', text, transmissions, sentAt: now, due: now + pushWait(first, transmissions), first, user, stream: s };
    s.phase = push;
    this.schedule(push);
  }

  /** Is `push` still the one its stream awaits an ACK for (not acknowledged, retrieved, forgotten or stopped)? */
  private current(push: InFlight): boolean {
    const s = push.stream;
    return s.phase === push && this.streams.get(push.user) === s;
  }

  /** Keep `push` in order of when it is due (nearly always an append: waits of one transmission number are alike). */
  private schedule(push: InFlight): void {
    const q = (this.due[push.transmissions - 1] ??= []);
    let i = q.length;
    while (i > 0 && q[i - 1]!.due > push.due) i--;
    if (i === q.length) q.push(push);
    else q.splice(i, 0, push);
    if (push.due < this.dueTimerAt) this.armDueTimer(push.due);
  }

  private armDueTimer(at: number): void {
    this.dueTimer?.cancel();
    this.dueTimerAt = at;
    this.dueTimer = this.clock.after(Math.max(0, at - this.clock.now()), () => this.retransmitDue());
  }

  /** Send again (or give up on) every push due by now and not acknowledged; then wait for the next one due. */
  private retransmitDue(): void {
    this.dueTimer = undefined;
    this.dueTimerAt = Infinity;
    const now = this.clock.now();
    // Collected first: a retransmission joins the next queue, which this pass must not reach again.
    const expired: InFlight[] = [];
    let next = Infinity;
    for (const q of this.due) {
      if (!q) continue;
      let n = 0;
      for (; n < q.length; n++) {
        const push = q[n]!;
        const current = this.current(push);
        if (push.due > now && current) break;
        if (current) expired.push(push);
      }
      if (n > 0) q.splice(0, n);
      if (q.length > 0) next = Math.min(next, q[0]!.due);
    }
    if (next < this.dueTimerAt) this.armDueTimer(next);
    if (expired.length === 0) return;
    // Judged once the ACKs that came before now are read: on a busy server they wait in its own receive queue.
    const judge = () => {
      for (const push of expired) {
        if (!this.current(push)) continue;
        // One push that fails to go out again must not keep the others of this pass from being judged.
        try {
          this.expire(push);
        } catch (err) {
          this.port.failed?.(err, { user: push.user, doing: 'retransmitting' });
        }
      }
    };
    if (this.port.afterBacklog) this.port.afterBacklog(judge);
    else judge();
  }

  /** `push` went unanswered for its whole wait. */
  private expire(push: InFlight): void {
    const { user, stream: s, text, transmissions } = push;
    s.phase = IDLE;
    // Paused: not sent again now; it stays owed, and resumeAll() reads it from the log.
    if (!this.active) return;
    // Only a first transmission's timeout says the timeout is short (later ones were waited for doubled already).
    // Each push that ran out doubles the timeout from where it is now (as the push timeout always did: under a
    // store fault many run out together, and the waits grow fast instead of pushes being given up on).
    if (transmissions === 1) this.roundTrips.ranOut(this.ackTimeout);
    if (transmissions >= this.policy.maxTransmissions) {
      // Leave the rest for RETRIEVE-TEXTS; resume when the user is heard from.
      this.stats.givenUp++;
      this.port.gaveUp?.(user);
      this.hold(s);
      this.log.debug({ user, seq: text.seq }, 'push given up');
      return;
    }
    this.transmit(user, s, text, transmissions + 1, push.first);
  }
}
