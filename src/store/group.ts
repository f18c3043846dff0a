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
 */
export type Flush<T, R> = (items: T[]) => Promise<(R | Error)[]>;

export interface GroupCommitOptions {
  /** Most items in one group (the rest wait for the next). Default 1000. */
  maxGroup?: number;
  /** Most groups being written at once. Default 1. */
  maxInFlight?: number;
}

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = [];
  /** Groups handed to `flush` and not answered yet. */
  private writing = 0;
  /** A start is scheduled for the end of this turn. */
  private scheduled = false;
  private readonly maxGroup: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly flush: Flush<T, R>,
    opts: GroupCommitOptions = {},
  ) {
    this.maxGroup = positive(opts.maxGroup ?? 1000, 'maxGroup');
    this.maxInFlight = positive(opts.maxInFlight ?? 1, 'maxInFlight');
  }

  /** Groups being written now (at most maxInFlight). */
  get inFlight(): number {
    return this.writing;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
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

  /** Hand queued items to `flush`, a group per free slot. */
  private start(): void {
    while (this.writing < this.maxInFlight && this.queue.length > 0) {
      const group = this.queue.splice(0, this.maxGroup);
      this.writing++;
      void this.write(group).then(() => {
        this.writing--;
        // What queued while every slot was busy goes at once: it has waited a whole write already.
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
