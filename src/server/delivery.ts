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
  /** First wait for an ACK; doubles with each retransmission. */
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
}

interface Stream {
  queue: StoredText[];
  inFlight?: { text: StoredText; transmissions: number; timer: TimerHandle };
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
  readonly stats: DeliveryStats = { pushes: 0, retransmissions: 0, givenUp: 0, acks: 0 };

  constructor(
    private readonly port: DeliveryPort,
    private readonly clock: Clock,
    private readonly policy: DeliveryPolicy = defaultDeliveryPolicy(),
    private readonly log: Logger = silentLogger,
  ) {}

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
    void this.port.received(user, [seq]).catch((err) => this.log.warn({ err: String(err), user }, 'inbox update failed'));
    const s = this.streams.get(user);
    if (!s) return;
    if (s.inFlight?.text.seq === seq) {
      s.inFlight.timer.cancel();
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
      this.log.warn({ err: String(err), user }, 'could not load pending texts');
    } finally {
      s.loading = false;
    }
    if (s.queue.length > 0 || owedMeanwhile) this.pump(user, s);
  }

  private transmit(user: string, s: Stream, text: StoredText, transmissions: number): void {
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
    const wait = this.policy.firstTimeout * 2 ** (transmissions - 1);
    const timer = this.clock.after(wait, () => {
      if (s.inFlight?.text !== text) return;
      s.inFlight = undefined;
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
      this.transmit(user, s, text, transmissions + 1);
    });
    s.inFlight = { text, transmissions, timer };
  }
}
