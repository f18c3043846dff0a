/**
 * Acknowledged pushes to native users. Each user has one ordered stream:
 * the oldest text it is owed goes out first, the next only once that one is
 * acknowledged (stop-and-wait), so the client can show texts in sequence
 * order and exactly once just by comparing sequence numbers. A push is
 * retransmitted a bounded number of times; then the user is left alone (its
 * texts stay in the store's inbox for RETRIEVE-TEXTS) until it is heard from.
 *
 * The stream is filled from the store (the inbox is the truth), so a server
 * that just took over pushes whatever the user is still owed, in order.
 */
import type { StoredText } from '../protocol/messages';
import type { TextDoc } from '../store/documents';
import type { Clock, TimerHandle } from '../util/clock';
import { silentLogger, type Logger } from '../util/log';

export interface DeliveryPolicy {
  /**
   * First wait for an ACK, at least; doubles with each retransmission. The
   * wait adapts upwards to the ACK round trips measured (see AckTimer), so a
   * loaded server does not retransmit pushes whose ACKs are only queued.
   */
  firstTimeout: number;
  /** Transmissions of one push before the user is considered unreachable. */
  maxTransmissions: number;
  /** Texts loaded from the inbox at once. */
  batch: number;
}

export function defaultDeliveryPolicy(): DeliveryPolicy {
  return { firstTimeout: 150, maxTransmissions: 5, batch: 64 };
}

/** What delivery needs from the rest of the server. */
export interface DeliveryPort {
  /** Texts owed to `user`, oldest first. */
  pending(user: string, limit: number): Promise<{ texts: TextDoc[]; more: boolean }>;
  /** The user received these texts. */
  received(user: string, seqs: number[]): Promise<void>;
  /**
   * Send one MESSAGE push to the user's current address: true when sent,
   * false if the user is gone, 'blocked' when its address may not receive
   * pushes yet (not validated): the stream waits, like an unreachable one,
   * until heardFrom().
   */
  send(user: string, text: StoredText): boolean | 'blocked';
  /** The user did not acknowledge a push through the whole retransmission schedule. */
  gaveUp?(user: string): void;
  /** A store call failed (the server's error channel counts and logs it); default: a warning. */
  failed?(err: unknown, context: { user: string; doing: string }): void;
}

/**
 * The retransmission timeout of pushes, from the ACK round trips measured
 * (RFC 6298: smoothed RTT plus four deviations; samples only from pushes
 * sent once, and a timeout doubles the wait until such a sample comes:
 * Karn's rule), never below the policy's first timeout nor above
 * MAX_ACK_TIMEOUT. One estimator for the server: when it is busy, every
 * user's ACKs wait in the same queue.
 */
export class AckTimer {
  private srtt: number | undefined;
  private rttvar = 0;
  /** After a timeout, the doubled timeout holds until a push is acknowledged at its first transmission. */
  private backedOff: number | undefined;

  constructor(private readonly floor: number) {}

  /** A push went unanswered for the whole timeout: wait twice as long from now on (until a clean sample). */
  backoff(): void {
    this.backedOff = Math.min(MAX_ACK_TIMEOUT, 2 * this.timeout);
  }

  sample(rtt: number): void {
    this.backedOff = undefined;
    if (this.srtt === undefined) {
      this.srtt = rtt;
      this.rttvar = rtt / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rtt);
      this.srtt = 0.875 * this.srtt + 0.125 * rtt;
    }
  }

  get timeout(): number {
    if (this.backedOff !== undefined) return this.backedOff;
    if (this.srtt === undefined) return this.floor;
    return Math.min(MAX_ACK_TIMEOUT, Math.max(this.floor, this.srtt + 4 * this.rttvar));
  }
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

interface Stream {
  queue: StoredText[];
  inFlight?: { text: StoredText; transmissions: number; timer: TimerHandle; sentAt: number };
  /** The queue may not hold everything the inbox owes: reload when it runs dry. */
  stale: boolean;
  loading: boolean;
  unreachable: boolean;
}

export interface DeliveryStats {
  pushes: number;
  retransmissions: number;
  givenUp: number;
  acks: number;
}

export const toStoredText = (t: TextDoc): StoredText => ({ seq: t._id, from: t.from, subject: t.subject, text: t.text, at: t.at });

export class Delivery {
  private readonly streams = new Map<string, Stream>();
  private active = false;
  private readonly ackTimer: AckTimer;
  readonly stats: DeliveryStats = { pushes: 0, retransmissions: 0, givenUp: 0, acks: 0 };

  constructor(
    private readonly port: DeliveryPort,
    private readonly clock: Clock,
    private readonly policy: DeliveryPolicy = defaultDeliveryPolicy(),
    private readonly log: Logger = silentLogger,
  ) {
    this.ackTimer = new AckTimer(policy.firstTimeout);
  }

  /** The first wait for an ACK now (adapted to the round trips measured). */
  get ackTimeout(): number {
    return this.ackTimer.timeout;
  }

  /** Start pushing (the server serves). */
  start(): void {
    this.active = true;
  }

  /** Stop pushing and forget in-memory state; the inbox keeps what is owed. */
  stop(): void {
    this.active = false;
    for (const s of this.streams.values()) s.inFlight?.timer.cancel();
    this.streams.clear();
  }

  /** A new text is owed to `user` (already in the inbox). */
  owe(user: string, text: StoredText): void {
    const s = this.stream(user);
    if (s.unreachable) return;
    if (s.inFlight?.text.seq === text.seq || s.queue.some((t) => t.seq === text.seq)) return;
    if (s.stale || s.loading) {
      s.stale = true;
    } else if (s.queue.length < this.policy.batch) {
      s.queue.push(text);
    } else {
      s.stale = true;
    }
    this.pump(user, s);
  }

  /** The user acknowledged `seq`. */
  ack(user: string, seq: number): void {
    this.stats.acks++;
    void this.port.received(user, [seq]).catch((err) => this.failed(err, user, 'marking a text received'));
    const s = this.streams.get(user);
    if (!s) return;
    if (s.inFlight?.text.seq === seq) {
      s.inFlight.timer.cancel();
      if (s.inFlight.transmissions === 1) this.ackTimer.sample(this.clock.now() - s.inFlight.sentAt);
      s.inFlight = undefined;
    }
    s.queue = s.queue.filter((t) => t.seq !== seq);
    this.pump(user, s);
  }

  /** The user was heard from: if it had been given up on, resume its stream from the inbox. */
  heardFrom(user: string): void {
    const s = this.streams.get(user);
    if (!s?.unreachable) return;
    s.unreachable = false;
    s.stale = true;
    this.pump(user, s);
  }

  /**
   * The user's address has just proved it receives: push what the inbox
   * owes it now, whether or not a stream was open (texts owed before this
   * server served, or while the address was unproven).
   */
  resume(user: string): void {
    const s = this.stream(user);
    s.unreachable = false;
    s.stale = true;
    this.pump(user, s);
  }

  /** These texts were handed over by RETRIEVE-TEXTS: do not push them again. */
  retrieved(user: string, seqs: number[]): void {
    const s = this.streams.get(user);
    if (!s) return;
    const gone = new Set(seqs);
    s.queue = s.queue.filter((t) => !gone.has(t.seq));
    if (s.inFlight && gone.has(s.inFlight.text.seq)) {
      s.inFlight.timer.cancel();
      s.inFlight = undefined;
      this.pump(user, s);
    }
  }

  /** The user is gone (de-registered). */
  forget(user: string): void {
    this.streams.get(user)?.inFlight?.timer.cancel();
    this.streams.delete(user);
  }

  /** Pushes waiting for an acknowledgement. */
  get inFlight(): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.inFlight) n++;
    return n;
  }

  private stream(user: string): Stream {
    let s = this.streams.get(user);
    if (!s) {
      // Unknown stream: the inbox may owe older texts (e.g. after a takeover), so load first.
      s = { queue: [], stale: true, loading: false, unreachable: false };
      this.streams.set(user, s);
    }
    return s;
  }

  private failed(err: unknown, user: string, doing: string): void {
    if (this.port.failed) this.port.failed(err, { user, doing });
    else this.log.warn({ err: String(err), user }, doing);
  }

  private pump(user: string, s: Stream): void {
    if (!this.active || s.inFlight || s.unreachable || s.loading) return;
    if (s.queue.length === 0 && s.stale) return void this.reload(user, s);
    const next = s.queue.shift();
    if (next) this.transmit(user, s, next, 1);
  }

  private async reload(user: string, s: Stream): Promise<void> {
    s.loading = true;
    s.stale = false;
    let owedMeanwhile = false;
    try {
      const { texts, more } = await this.port.pending(user, this.policy.batch);
      if (this.streams.get(user) !== s) return;
      s.queue = texts.map(toStoredText);
      // owe() during the load set `stale`: what it announced may be missing from this answer.
      owedMeanwhile = s.stale;
      s.stale = owedMeanwhile || more;
    } catch (err) {
      s.stale = true;
      this.failed(err, user, 'loading pending texts');
    } finally {
      s.loading = false;
    }
    if (s.queue.length > 0 || owedMeanwhile) this.pump(user, s);
  }

  /** Send `text` (transmission number `transmissions`); `first` is the push's first wait, doubled for each retransmission. */
  private transmit(user: string, s: Stream, text: StoredText, transmissions: number, first = this.ackTimer.timeout): void {
    const sent = this.port.send(user, text);
    if (sent === false) return this.forget(user);
    if (sent === 'blocked') {
      // Nothing went out: the text stays owed in the inbox; resume when the user is heard from.
      s.unreachable = true;
      s.queue = [];
      s.stale = true;
      return;
    }
    if (transmissions === 1) this.stats.pushes++;
    else this.stats.retransmissions++;
    const wait = pushWait(first, transmissions);
    const timer = this.clock.after(wait, () => {
      if (s.inFlight?.text !== text) return;
      s.inFlight = undefined;
      // Only a first transmission's timeout says the timeout is short (later ones were waited for doubled already).
      if (transmissions === 1) this.ackTimer.backoff();
      if (transmissions >= this.policy.maxTransmissions) {
        // Leave the rest for RETRIEVE-TEXTS; resume when the user is heard from.
        this.stats.givenUp++;
        this.port.gaveUp?.(user);
        s.unreachable = true;
        s.queue = [];
        s.stale = true;
        this.log.debug({ user, seq: text.seq }, 'push given up');
        return;
      }
      this.transmit(user, s, text, transmissions + 1, first);
    });
    s.inFlight = { text, transmissions, timer, sentAt: this.clock.now() };
  }
}
