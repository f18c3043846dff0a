/**
 * A seeded fault-injecting wrapper around any Transport: drops, duplicates,
 * reorders and delays datagrams, separately per direction. The same seed and
 * the same traffic give the same faults, so a failing chaos test can be
 * replayed. Delays run on an injected Clock so tests use FakeClock.
 */
import { systemClock, type Clock, type TimerHandle } from '../util/clock';
import type { ChaosSpec, DirectionFaults } from './chaos-spec';
import type { Address, DatagramHandler, Transport } from './types';

export { parseChaosSpec, defaultChaosSpec, noFaults, type ChaosSpec, type DirectionFaults } from './chaos-spec';

/** What happened to the datagrams of one direction. */
export interface DirectionStats {
  seen: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  delayed: number;
}

export interface LossyStats {
  in: DirectionStats;
  out: DirectionStats;
}

/** A Transport with fault counters. */
export interface LossyTransport extends Transport {
  readonly stats: Readonly<LossyStats>;
}

export interface LossyOptions {
  clock?: Clock;
  /** A held-back (reordered) datagram is released after this long even if no other datagram follows it. */
  reorderHoldMs?: number;
}

/** mulberry32: a tiny 32-bit PRNG, plenty for fault injection and fully reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Item {
  bytes: Buffer;
  peer: Address;
  /** The sender's `failed` (outgoing only): told when the socket under the faults refuses the datagram. */
  failed?: () => void;
}

/** One direction: decides the fate of each datagram and delivers the survivors. */
class Lane {
  readonly stats: DirectionStats = { seen: 0, delivered: 0, dropped: 0, duplicated: 0, reordered: 0, delayed: 0 };
  private held: Item[] = [];
  private holdTimer: TimerHandle | undefined;
  private readonly timers = new Set<TimerHandle>();
  private closed = false;

  constructor(
    private readonly faults: DirectionFaults,
    private readonly random: () => number,
    private readonly clock: Clock,
    private readonly holdMs: number,
    private readonly deliver: (item: Item) => void,
  ) {}

  push(item: Item): void {
    if (this.closed) return;
    this.stats.seen++;
    // Every decision draws the same number of values, so the fate of datagram k
    // depends only on the seed and k, not on which faults happened before it.
    const dropRoll = this.random();
    const dupRoll = this.random();
    const copies = dupRoll < this.faults.dup ? 2 : 1;
    if (dropRoll < this.faults.drop) {
      this.stats.dropped++;
      return;
    }
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      const reorderRoll = this.random();
      const delayRoll = this.random();
      if (reorderRoll < this.faults.reorder) {
        this.stats.reordered++;
        this.hold(item);
        continue;
      }
      const { delayMinMs: lo, delayMaxMs: hi } = this.faults;
      const delay = lo + delayRoll * (hi - lo);
      if (delay <= 0) {
        this.emit(item);
        continue;
      }
      this.stats.delayed++;
      const timer = this.clock.after(delay, () => {
        this.timers.delete(timer);
        this.emit(item);
      });
      this.timers.add(timer);
    }
  }

  /** Held datagrams go out right after the next one that passes (a real swap), or when the hold expires. */
  private hold(item: Item): void {
    this.held.push(item);
    this.holdTimer ??= this.clock.after(this.holdMs, () => {
      this.holdTimer = undefined;
      this.release();
    });
  }

  private emit(item: Item): void {
    if (this.closed) return;
    this.stats.delivered++;
    this.deliver(item);
    this.release();
  }

  private release(): void {
    this.holdTimer?.cancel();
    this.holdTimer = undefined;
    const held = this.held;
    this.held = [];
    for (const h of held) {
      if (this.closed) return;
      this.stats.delivered++;
      this.deliver(h);
    }
  }

  close(): void {
    this.closed = true;
    this.holdTimer?.cancel();
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.held = [];
  }
}

/** Wrap `inner` so datagrams in each direction suffer the faults of `spec`. close() closes `inner`. */
export function lossy(inner: Transport, spec: ChaosSpec, opts: LossyOptions = {}): LossyTransport {
  const clock = opts.clock ?? systemClock;
  const holdMs = opts.reorderHoldMs ?? 50;
  let handler: DatagramHandler | undefined;
  // Distinct streams per direction, so outgoing traffic does not shift the incoming faults.
  const outLane = new Lane(spec.out, mulberry32(spec.seed), clock, holdMs, (it) => inner.send(it.bytes, it.peer, it.failed));
  const inLane = new Lane(spec.in, mulberry32(spec.seed ^ 0x9e3779b9), clock, holdMs, (it) => handler?.(it.bytes, it.peer));
  inner.onDatagram((bytes, from) => inLane.push({ bytes, peer: from }));
  let closing: Promise<void> | undefined;
  return {
    stats: { in: inLane.stats, out: outLane.stats },
    send(bytes, to, failed) {
      // Copy: the caller may reuse its buffer before a delayed send fires.
      outLane.push({ bytes: Buffer.from(bytes), peer: { ...to }, ...(failed ? { failed } : {}) });
    },
    onDatagram(h) {
      handler = h;
    },
    address: () => inner.address(),
    close() {
      closing ??= (() => {
        outLane.close();
        inLane.close();
        handler = undefined;
        return inner.close();
      })();
      return closing;
    },
  };
}
