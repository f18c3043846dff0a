/**
 * Group commit: calls made while a write is in flight (or in the same turn
 * of the event loop) are handed to one `flush` together, so N concurrent
 * callers cost one store round trip instead of N. Each caller gets its own
 * outcome: `flush` answers per item (a value or an Error), or throws, which
 * fails every item of that group.
 */
export type Flush<T, R> = (items: T[]) => Promise<(R | Error)[]>;

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = [];
  private running = false;

  constructor(
    private readonly flush: Flush<T, R>,
    /** Most items in one group (the rest wait for the next). */
    private readonly maxGroup = 1000,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Let the rest of this turn (other datagrams read in the same poll, their microtasks) join the group.
        setImmediate(() => void this.run());
      }
    });
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, this.maxGroup);
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
    this.running = false;
  }
}
