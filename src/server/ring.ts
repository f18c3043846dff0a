/**
 * Who comes after whom: the succession of the serving role.
 *
 * A pair (`--role A|B --peer HOST:PORT`) has a fixed one: the lease always
 * goes to the other server, A starts the first epoch. A ring of N servers
 * (`--peers NAME=HOST:PORT,...`, opt-in) hands the lease to the next LIVE
 * server in ring order, where live means heard from within the lease time:
 * its heartbeat counter in the store moved, or a datagram MACed with the
 * peer key came from it. When a holder dies, every standby waits the lease
 * time, and each one more by its rank among the live standbys after the
 * holder, so the next one in ring order takes the lease and the others, who
 * then see a new epoch, back off (the compare-and-set on the lease's epoch
 * and beat lets one win in any case).
 */
import type { RingMember, ServerTag } from '../protocol/messages';
import type { Address } from '../transport/types';
import type { Clock, TimerHandle } from '../util/clock';
import { silentLogger, type Logger } from '../util/log';

export interface Succession {
  /** How many servers take turns. */
  readonly size: number;
  /** Whether this server creates the very first lease at once (the others wait for it a while). */
  readonly startsFirst: boolean;
  /** The ring in order, for clients and the status report; undefined for a pair (nothing new on its wire). */
  readonly members: readonly RingMember[] | undefined;
  /** Where a planned handoff goes: the next live server in ring order; undefined when no other is live. */
  nextLive(): ServerTag | undefined;
  /** The next server in ring order, live or not (a restarted holder leaves its old lease there). */
  next(): ServerTag;
  /** How much longer than the lease time this server waits before taking a silent holder's lease (0: it is the first choice). */
  takeoverDelay(holder: ServerTag): number;
  /** Another server's address; undefined for this server and for strangers. */
  addressOf(tag: ServerTag): Address | undefined;
  /** A datagram MACed with the peer key came from server `tag`. */
  heard(tag: ServerTag): void;
  /** Which other servers count as live right now (for the status report). */
  liveOthers(): ServerTag[];
  start(): void;
  stop(): void;
}

/** The pair: the other server always succeeds; A starts. */
export function pairSuccession(tag: ServerTag, peer: Address): Succession {
  const other = tag === 'A' ? 'B' : 'A';
  return {
    size: 2,
    startsFirst: tag === 'A',
    members: undefined,
    nextLive: () => other,
    next: () => other,
    takeoverDelay: () => 0,
    addressOf: (t) => (t === other ? { ...peer } : undefined),
    heard: () => {},
    liveOthers: () => [other],
    start: () => {},
    stop: () => {},
  };
}

/** The heartbeat operations of the store (a subset of Store, so tests can fake it). */
export interface MemberStore {
  beatMember(name: ServerTag): Promise<void>;
  readMemberBeats(names: readonly ServerTag[]): Promise<Map<ServerTag, number>>;
}

export interface RingTiming {
  /** How often this server beats and reads the others' beats. */
  beatEvery: number;
  /**
   * A server is live while heard from within this long: a few beats, well
   * under the lease time, so a server that just died is rarely handed the lease.
   */
  liveFor: number;
  /** Extra wait per rank before taking a silent holder's lease (longer than a poll plus a store round trip). */
  rankDelay: number;
}

export function defaultRingTiming(): RingTiming {
  return { beatEvery: 250, liveFor: 750, rankDelay: 500 };
}

/**
 * The ring in order: the list as given when it names this server, otherwise
 * the list plus this server ordered by name (so servers configured with only
 * their peers still agree on one order).
 */
export function ringOrder(self: RingMember, listed: readonly RingMember[]): RingMember[] {
  if (listed.some((m) => m.tag === self.tag)) return listed.map((m) => ({ ...m }));
  return [...listed, self].map((m) => ({ ...m })).sort((x, y) => (x.tag < y.tag ? -1 : x.tag > y.tag ? 1 : 0));
}

/** Whether two ring lists name the same servers at the same addresses in the same order (undefined: a pair). */
export function sameRing(x: readonly RingMember[] | undefined, y: readonly RingMember[] | undefined): boolean {
  if (!x || !y) return x === y;
  return x.length === y.length && x.every((m, i) => m.tag === y[i]!.tag && m.host === y[i]!.host && m.port === y[i]!.port);
}

export class Ring implements Succession {
  readonly members: readonly RingMember[];
  private readonly others: ServerTag[];
  /** Each other server's last heartbeat counter and when (this server's clock) it last moved. */
  private readonly beats = new Map<ServerTag, { beat: number; movedAt: number }>();
  private readonly heardAt = new Map<ServerTag, number>();
  private timer: TimerHandle | undefined;
  private running = false;
  private failedBeats = 0;

  constructor(
    readonly self: ServerTag,
    members: readonly RingMember[],
    private readonly store: MemberStore,
    private readonly clock: Clock,
    readonly timing: RingTiming = defaultRingTiming(),
    private readonly log: Logger = silentLogger,
  ) {
    if (!members.some((m) => m.tag === self)) throw new Error(`the ring does not name this server (${self})`);
    this.members = members.map((m) => ({ ...m }));
    this.others = this.members.map((m) => m.tag).filter((t) => t !== self);
  }

  get size(): number {
    return this.members.length;
  }

  get startsFirst(): boolean {
    return this.members[0]!.tag === this.self;
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
  }

  heard(tag: ServerTag): void {
    if (this.others.includes(tag)) this.heardAt.set(tag, this.clock.now());
  }

  isLive(tag: ServerTag): boolean {
    if (tag === this.self) return true;
    const now = this.clock.now();
    const moved = this.beats.get(tag)?.movedAt ?? -Infinity;
    const heard = this.heardAt.get(tag) ?? -Infinity;
    return now - Math.max(moved, heard) < this.timing.liveFor;
  }

  liveOthers(): ServerTag[] {
    return this.others.filter((t) => this.isLive(t));
  }

  next(): ServerTag {
    return this.after(this.self)[0] ?? this.self;
  }

  nextLive(): ServerTag | undefined {
    return this.after(this.self).find((t) => this.isLive(t));
  }

  takeoverDelay(holder: ServerTag): number {
    // Rank among the servers after the holder that are live (this one always is).
    const rank = this.after(holder).filter((t) => this.isLive(t)).indexOf(this.self);
    return Math.max(0, rank) * this.timing.rankDelay;
  }

  addressOf(tag: ServerTag): Address | undefined {
    if (tag === this.self) return undefined;
    const m = this.members.find((x) => x.tag === tag);
    return m ? { host: m.host, port: m.port } : undefined;
  }

  /** The servers after `tag` in ring order, `tag` excluded. */
  private after(tag: ServerTag): ServerTag[] {
    const tags = this.members.map((m) => m.tag);
    const i = tags.indexOf(tag);
    return [...tags.slice(i + 1), ...tags.slice(0, Math.max(0, i))];
  }

  private schedule(ms: number): void {
    this.timer?.cancel();
    this.timer = this.clock.after(ms, () => void this.tick());
  }

  private async tick(): Promise<void> {
    try {
      await this.store.beatMember(this.self);
      const now = this.clock.now();
      for (const [tag, beat] of await this.store.readMemberBeats(this.others)) {
        const last = this.beats.get(tag);
        // A counter seen for the first time proves nothing (it may be a dead server's): live once it moves.
        if (!last) this.beats.set(tag, { beat, movedAt: -Infinity });
        else if (last.beat !== beat) this.beats.set(tag, { beat, movedAt: now });
      }
      this.failedBeats = 0;
    } catch (err) {
      // Once per outage (and not for the store closing under a stopped ring).
      if (this.running && this.failedBeats++ === 0) this.log.warn({ err: String(err) }, 'ring heartbeat failed');
    } finally {
      if (this.running) this.schedule(this.timing.beatEvery);
    }
  }
}
