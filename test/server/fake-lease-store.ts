/**
 * An in-memory lease with the same compare-and-set semantics as Store, seen
 * through one connection per server so faults can hit one server only: a
 * connection's method can be made to throw, to drop (its promise settles
 * only when the test releases it, as when a connection finally breaks), or
 * to hold (it reaches the store only when the test releases it: a slow call).
 */
import type { ServerTag } from '../../src/protocol/messages';
import type { LeaseStore } from '../../src/server/role';
import type { LeaseDoc } from '../../src/store/documents';
import type { Clock } from '../../src/util/clock';

type Method = keyof LeaseStore;
type Fault = 'throw' | 'drop' | 'hold';

export interface LeaseCall {
  conn: string;
  method: Method;
  args: unknown[];
  at: number;
}

/** The shared database: the lease document and a log of every call. */
export class FakeLeaseDb {
  lease: LeaseDoc | null = null;
  readonly calls: LeaseCall[] = [];
  /** When the beat last moved (a successful renewal), on the test clock. */
  lastBeatAt = -Infinity;
  /** Runs just before a moveLease is applied (to simulate another write landing first). */
  beforeMove: (() => void) | undefined;

  constructor(readonly clock: Clock) {}

  connect(name: string): FakeLeaseConnection {
    return new FakeLeaseConnection(this, name);
  }

  callsOf(method: Method): LeaseCall[] {
    return this.calls.filter((c) => c.method === method);
  }
}

export class FakeLeaseConnection implements LeaseStore {
  private readonly faults = new Map<Method, Fault>();
  private dropped: Array<(err: Error) => void> = [];
  private held: Array<() => void> = [];

  constructor(
    private readonly db: FakeLeaseDb,
    readonly name: string,
  ) {}

  fail(method: Method, fault: Fault | undefined): void {
    if (fault) this.faults.set(method, fault);
    else this.faults.delete(method);
  }

  /** Settle every dropped call with an error. */
  releaseDropped(): void {
    const d = this.dropped;
    this.dropped = [];
    for (const reject of d) reject(new Error('connection reset'));
  }

  /** Let every held call go on to the store now. */
  releaseHeld(): void {
    const h = this.held;
    this.held = [];
    for (const go of h) go();
  }

  async readLease(): Promise<LeaseDoc | null> {
    await this.gate('readLease', []);
    return this.db.lease && { ...this.db.lease };
  }

  async initLease(holder: ServerTag): Promise<LeaseDoc> {
    await this.gate('initLease', [holder]);
    this.db.lease ??= { _id: 'lease', holder, epoch: 1, beat: 0, seq: 0 };
    return { ...this.db.lease };
  }

  async renewLease(holder: ServerTag, epoch: number): Promise<boolean> {
    await this.gate('renewLease', [holder, epoch]);
    const l = this.db.lease;
    if (l?.holder !== holder || l.epoch !== epoch) return false;
    l.beat++;
    this.db.lastBeatAt = this.db.clock.now();
    return true;
  }

  async moveLease(from: ServerTag, epoch: number, to: ServerTag, beat?: number): Promise<LeaseDoc | null> {
    await this.gate('moveLease', [from, epoch, to, beat]);
    this.db.beforeMove?.();
    const l = this.db.lease;
    if (!l || l.holder !== from || l.epoch !== epoch || (beat !== undefined && l.beat !== beat)) return null;
    this.db.lease = { ...l, holder: to, epoch: l.epoch + 1, beat: 0 };
    return { ...this.db.lease };
  }

  private async gate(method: Method, args: unknown[]): Promise<void> {
    this.db.calls.push({ conn: this.name, method, args, at: this.db.clock.now() });
    const fault = this.faults.get(method);
    if (fault === 'throw') throw new Error(`${method} failed`);
    if (fault === 'drop') await new Promise<void>((_, reject) => this.dropped.push(reject));
    if (fault === 'hold') await new Promise<void>((resolve) => this.held.push(resolve));
  }
}
