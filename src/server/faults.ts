/**
 * The server's one error channel: every failure that is caught (a store
 * call that failed after its retries, a takeover that could not load, a
 * handoff that could not move the lease, a rejected promise anywhere) is
 * reported here once, where it is handled, with what it was doing. It is
 * counted by where it happened (`rss status` shows the counts) and logged;
 * during an outage the same failure repeats hundreds of times a second, so
 * each place logs at most once a second and says how many it held back.
 */
import { RssError } from '../errors';
import type { Logger } from '../util/log';

/** Where a failure happened (the keys of the counts in `rss status`). */
export type FaultSite =
  | 'request'
  | 'after-reply'
  | 'ack'
  | 'status'
  | 'takeover'
  | 'handoff'
  | 'lease'
  | 'purge'
  | 'replay-marks'
  | 'delivery';

const LOG_EVERY_MS = 1000;

export class Faults {
  readonly counts: Partial<Record<FaultSite, number>> = {};
  private readonly lastLogged = new Map<FaultSite, { at: number; held: number }>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Count and log one failure at `site`, with what was being done (`context`). */
  report(site: FaultSite, err: unknown, context: object = {}, level: 'warn' | 'error' = 'warn'): void {
    this.counts[site] = (this.counts[site] ?? 0) + 1;
    const now = this.now();
    const last = this.lastLogged.get(site);
    if (last && now - last.at < LOG_EVERY_MS) {
      last.held++;
      return;
    }
    const held = last?.held ?? 0;
    this.lastLogged.set(site, { at: now, held: 0 });
    this.log[level]({ ...context, site, err: describe(err), ...(held > 0 ? { alsoFailedSinceLastLog: held } : {}) }, `${site} failed`);
  }

  /** Route a promise's rejection here (for work started and not awaited). */
  watch(p: Promise<unknown>, site: FaultSite, context: object = {}): void {
    p.catch((err: unknown) => this.report(site, err, context));
  }

  /** The counts as `rss status` shows them (only the places that failed). */
  snapshot(): Record<string, number> {
    return { ...this.counts };
  }
}

/** One line for a log: the code and message of ours, the name and message of the driver's. */
export function describe(err: unknown): string {
  if (err instanceof RssError) return `${err.message} [${err.code}]`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
