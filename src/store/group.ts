/**
 * Group commit: calls made while the writes in flight are busy (or in the
 * same turn of the event loop) are handed to one `flush` together, so N
 * concurrent callers cost one store round trip instead of N. Each caller
 * gets its own outcome: `flush` answers per item (a value or an Error), or
 * throws, which fails every item of that group and no other.
 *
 * Up to `maxInFlight` groups are written at once: a call made while one
 * group is being written goes out in the next group at once instead of
 * queueing behind it (the convoy a single write in flight makes when one
 * write is slow). Groups start in the order their items came; they may
 * finish in any order, which callers must not rely on.
 *
 * With `linger`, a group about to start small waits for company, when calls
 * come closer together than that: each write has a fixed cost (through the
 * driver and back, 0.1 to 0.15 ms of CPU with the embedded engine) that a
 * group of one pays alone.
 * A write answers within microseconds, so without it the groups at a
 * moderate steady rate are one or two items, and the fixed cost per item
 * doubles the server's CPU per publish.
 */
import { systemClock, type Clock, type TimerHandle } from '../util/clock';

export type Flush<T, R> = (items: T[]) => Promise<(R | Error)[]>;

export interface GroupCommitOptions {
  /** Most items in one group (the rest wait for the next). Default 1000. */
  maxGroup?: number;
  /** Most groups being written at once. Default 1. */
  maxInFlight?: number;
  /**
   * Longest the oldest queued item waits for others to join its group (ms),
   * and only while calls come at least that often. Default 0: never waits.
   */
  linger?: number;
  /** Items enough for a group not to wait at all. Default 16. */
  lingerFill?: number;
  clock?: Clock;
}

/** Weight of the newest gap between calls in their running average. */
const GAP_WEIGHT = 0.125;

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
  /** When it was added (clock ms; 0 without linger). */
  at: number;
}

export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = [];
  /** Groups handed to `flush` and not answered yet. */
  private writing = 0;
  /** A start is scheduled for the end of this turn. */
  private scheduled = false;
  private readonly maxGroup: number;
  private readonly maxInFlight: number;
  private readonly linger: number;
  private readonly lingerFill: number;
  private readonly clock: Clock;
  /** When the latest call came, and the running average of the gaps between calls (ms). */
  private lastCallAt = -Infinity;
  private gap = Infinity;
  /** A lingering group's start, when one waits. */
  private lingering: TimerHandle | undefined;
  /**
   * Whether waiting pays: false once a group waited and no company came
   * (one caller writing again as soon as it is answered: its calls are
   * close together, yet none comes while it waits); true again once a
   * group forms of several by itself.
   */
  private lingerPays = true;

  constructor(
    private readonly flush: Flush<T, R>,
    opts: GroupCommitOptions = {},
  ) {
    this.maxGroup = positive(opts.maxGroup ?? 1000, 'maxGroup');
    this.maxInFlight = positive(opts.maxInFlight ?? 1, 'maxInFlight');
    this.linger = opts.linger ?? 0;
    if (!(this.linger >= 0 && this.linger < 1000)) throw new RangeError(`GroupCommit linger must be 0 to 1000 ms, not ${opts.linger}`);
    this.lingerFill = positive(opts.lingerFill ?? 16, 'lingerFill');
    this.clock = opts.clock ?? systemClock;
  }

  /** Groups being written now (at most maxInFlight). */
  get inFlight(): number {
    return this.writing;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const at = this.linger > 0 ? this.noteCall() : 0;
      this.queue.push({ item, resolve, reject, at });
      if (this.lingering && this.queue.length >= this.lingerFill) {
        // Company enough came: the group need not wait out its linger.
        this.lingering.cancel();
        this.lingering = undefined;
      }
      if (!this.scheduled && this.writing < this.maxInFlight) {
        this.scheduled = true;
        // Let the rest of this turn (other datagrams read in the same poll, their microtasks) join the group.
        setImmediate(() => {
          this.scheduled = false;
          this.start();
        });
      }
    });
  }

  /** Records a call's time in the running gap between calls; returns it. */
  private noteCall(): number {
    const now = this.clock.now();
    const gap = now - this.lastCallAt;
    this.lastCallAt = now;
    if (gap !== Infinity) this.gap = this.gap === Infinity ? gap : this.gap + GAP_WEIGHT * (gap - this.gap);
    return now;
  }

  /** How much longer the queued items wait for company before they go (0: now). */
  private lingerLeft(): number {
    if (this.linger === 0 || !this.lingerPays || this.queue.length >= this.lingerFill) return 0;
    const left = this.queue[0]!.at + this.linger - this.clock.now();
    // Worth waiting only when another call is likely to come meanwhile.
    return left > 0 && this.gap < left ? left : 0;
  }

  /** Hand queued items to `flush`, a group per free slot. */
  private start(): void {
    if (this.lingering || this.queue.length === 0 || this.writing >= this.maxInFlight) return;
    const left = this.lingerLeft();
    if (left > 0) {
      this.lingering = this.clock.after(left, () => {
        this.lingering = undefined;
        this.startNow(true);
      });
      return;
    }
    this.startNow();
  }

  /** `waited`: the first group to start is one that lingered. */
  private startNow(waited = false): void {
    while (this.writing < this.maxInFlight && this.queue.length > 0) {
      const group = this.queue.splice(0, this.maxGroup);
      if (waited) this.lingerPays = group.length > 1;
      else if (group.length > 1) this.lingerPays = true;
      waited = false;
      this.writing++;
      void this.write(group).then(() => {
        this.writing--;
        // What queued while every slot was busy goes now, or once its linger is out when it is a small group.
        this.start();
      });
    }
  }

  private async write(group: Pending<T, R>[]): Promise<void> {
    try {
      const out = await this.flush(group.map((p) => p.item));
      group.forEach((p, i) => {
        const r = out[i];
        if (r instanceof Error) p.reject(r);
        else p.resolve(r as R);
      });
    } catch (err) {
      for (const p of group) p.reject(err);
    }
  }
}

function positive(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`GroupCommit ${name} must be a whole number of at least 1, not ${n}`);
  return n;
}
