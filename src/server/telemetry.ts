/**
 * The server's operational counters in one place: what `rss status`, the
 * Prometheus exposition and the dashboard all read. Plain numbers, updated
 * synchronously where the events happen; nothing here does I/O.
 */
import type { DialectName, Request } from '../protocol/messages';
import type { PhaseTimes } from './phases';
import type { ServingReason } from './role';

/** How a user request ended. */
export type RequestOutcome =
  | 'ok' // answered
  | 'denied' // answered with a denial (unknown name, subject not listed, ...)
  | 'duplicate' // a retransmission answered from the reply cache
  | 'refused' // authentication or a rate limit refused it before its handler
  | 'failed' // not answered (store failure, lease lost): the client retries
  | 'ignored'; // this server was not serving

/** Upper bounds of the request duration buckets, seconds (Prometheus `le`). */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

/** Cumulative-style histogram: one count per bucket (non-cumulative here), plus sum and count. */
export interface DurationHistogram {
  buckets: number[];
  sum: number;
  count: number;
}

/** A text stored by this server, as the dashboard lists it. */
export interface RecentText {
  seq: number;
  name: string;
  subject: string;
  text: string;
  at: number;
}

const RECENT_TEXTS = 20;

/** One combination's request count. */
interface RequestCell {
  readonly type: string;
  readonly dialect: string;
  readonly outcome: RequestOutcome;
  count: number;
}

export class Telemetry {
  /** Request counts, one cell per type, dialect and outcome met so far (read through `requestsOf` and `requestsByLabel`). */
  private readonly counts: RequestCell[] = [];
  readonly duration: DurationHistogram = { buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
  /** Handoffs this server made (it gave the lease to the other). */
  handoffs = 0;
  /** Times this server took the serving role, by why. */
  readonly takeovers: Record<ServingReason, number> = { initial: 0, handoff: 0, failover: 0, resume: 0 };
  /** The steps of this server's latest handoff and takeover, timed (phases.ts). */
  lastHandoff: PhaseTimes | undefined;
  lastTakeover: (PhaseTimes & { reason: ServingReason }) | undefined;
  /** The latest texts this server stored, oldest first. */
  readonly texts: RecentText[] = [];

  request(type: Request['type'], dialect: DialectName, outcome: RequestOutcome): void {
    // One comes for every datagram: a combination's cell is found by property reads, with no hashing of a key.
    const byDialect = (this.cells[type] ??= {});
    const byOutcome = (byDialect[dialect] ??= {});
    let cell = byOutcome[outcome];
    if (cell === undefined) {
      cell = byOutcome[outcome] = { type, dialect, outcome, count: 0 };
      this.counts.push(cell);
    }
    cell.count++;
  }

  private readonly cells: Partial<Record<string, Partial<Record<string, Partial<Record<RequestOutcome, RequestCell>>>>>> = {};

  /** The count of one combination (0 when none came). */
  requestsOf(type: Request['type'], dialect: DialectName, outcome: RequestOutcome): number {
    return this.cells[type]?.[dialect]?.[outcome]?.count ?? 0;
  }

  /** A request's time from its datagram's arrival to its answer, ms. */
  took(ms: number): void {
    const s = ms / 1000;
    let i = 0;
    while (i < DURATION_BUCKETS.length && s > DURATION_BUCKETS[i]!) i++;
    if (i < DURATION_BUCKETS.length) this.duration.buckets[i]!++;
    this.duration.sum += s;
    this.duration.count++;
  }

  stored(text: RecentText): void {
    this.texts.push(text);
    if (this.texts.length > RECENT_TEXTS) this.texts.shift();
  }

  /** The labelled request counts, for the exposition. */
  *requestsByLabel(): Generator<{ type: string; dialect: string; outcome: string; count: number }> {
    for (const { type, dialect, outcome, count } of this.counts) yield { type, dialect, outcome, count };
  }
}
