/**
 * The serving role as an epoch-numbered lease in the shared store.
 *
 * - The holder renews the lease (a `beat` counter) every `renewEvery` ms and
 *   considers itself serving only while its last successful renewal is
 *   younger than `leaseTtl - safetyMargin` (it fences itself before anyone
 *   can take over).
 * - The standby polls the lease; when the holder is itself (a handoff gave it
 *   the lease) it serves at once; when `beat` has not moved for `leaseTtl`
 *   ms of its own clock, it takes the lease over with a compare-and-set on
 *   (epoch, beat), so at most one server acts per epoch.
 * - Clocks are never compared across machines: each side measures only its
 *   own intervals.
 * - Who succeeds whom (the other server of a pair, or the next live one of a
 *   ring) is the Succession's business (ring.ts).
 * - Every lease call has a deadline (a store that went silent must not hold
 *   a renewal, and with it the role, forever), and a holder that cannot act
 *   steps down: it stops renewing for a while, so the other takes over.
 */
import { EventEmitter } from 'node:events';
import type { ServerTag } from '../protocol/messages';
import type { LeaseDoc } from '../store/documents';
import { within, type Clock, type TimerHandle } from '../util/clock';
import { silentLogger, type Logger } from '../util/log';
import { pairSuccession, type Succession } from './ring';

/** The lease operations of the store (a subset of Store, so tests can fake it). */
export interface LeaseStore {
  readLease(): Promise<LeaseDoc | null>;
  initLease(holder: ServerTag): Promise<LeaseDoc>;
  renewLease(holder: ServerTag, epoch: number): Promise<boolean>;
  /** `settled`: the holder handing over settled every number up to it (the fence moves up to it). */
  moveLease(from: ServerTag, epoch: number, to: ServerTag, beat?: number, settled?: number): Promise<LeaseDoc | null>;
}

export interface RoleTiming {
  /** A silent holder loses the lease after this long. */
  leaseTtl: number;
  renewEvery: number;
  pollEvery: number;
  /** The holder stops acting this long before its lease could expire elsewhere. */
  safetyMargin: number;
}

export function defaultRoleTiming(): RoleTiming {
  return { leaseTtl: 1500, renewEvery: 250, pollEvery: 100, safetyMargin: 400 };
}

export type RoleState = 'standby' | 'serving';
export type ServingReason = 'initial' | 'handoff' | 'failover' | 'resume';
export type StandbyReason = 'start' | 'handed-over' | 'lost' | 'fenced' | 'stopped' | 'store-mismatch' | 'stepped-down';

export interface RoleEvents {
  serving: [{ epoch: number; reason: ServingReason }];
  standby: [{ epoch: number; reason: StandbyReason }];
}

export class Role extends EventEmitter<RoleEvents> {
  state: RoleState = 'standby';
  epoch = 0;
  private lastRenewal = -Infinity;
  private watched: { epoch: number; beat: number; since: number } | undefined;
  private timer: TimerHandle | undefined;
  private running = false;
  /** The lease check in flight (stop() waits for it). */
  private ticking: Promise<void> | undefined;
  /** Until then this server leaves its own lease alone (it stepped down: the other should take over). */
  private holdOffUntil = -Infinity;
  /** Where lease failures go (the server's error channel); by default the log. */
  fault: (err: unknown, context: object) => void = (err, context) => this.log.warn({ ...context, err: String(err) }, 'lease check failed');
  /** The epoch the latest TAKEOVER named, until the next lease check tries it. */
  private offered: number | undefined;
  /** A check was asked for while one was in flight: the next follows at once. */
  private checkAgain = false;
  /** The first lease seen after start: if it names this server, it is from before a restart. */
  private firstLook = true;
  private readonly bornAt: number;
  /** When the lease was last read or renewed successfully (this server's clock): the store answered then. */
  checkedAt = -Infinity;

  constructor(
    readonly tag: ServerTag,
    private readonly store: LeaseStore,
    private readonly clock: Clock,
    readonly timing: RoleTiming = defaultRoleTiming(),
    private readonly log: Logger = silentLogger,
    private readonly succession: Succession = pairSuccession(tag, { host: '', port: 0 }),
  ) {
    super();
    this.bornAt = clock.now();
  }

  /** Serving and certain that no one else can be: the only state in which to act or write. */
  get serving(): boolean {
    return this.state === 'serving' && this.clock.now() - this.lastRenewal < this.timing.leaseTtl - this.timing.safetyMargin;
  }

  /**
   * Standby: how long until the holder's lease would expire by this server's
   * clock if its beat stays still (leaseTtl − time since the beat last
   * moved); undefined while serving or before a lease was seen.
   */
  leaseTimeLeft(): number | undefined {
    if (this.state === 'serving' || !this.watched) return undefined;
    return Math.max(0, this.timing.leaseTtl - (this.clock.now() - this.watched.since));
  }

  /**
   * The store answered a lease check within the last leaseTtl: every check
   * (each renewEvery or pollEvery) touches the store, so a longer silence
   * means it is unreachable (a holder could not keep serving through it anyway).
   */
  get storeReachable(): boolean {
    return this.running && this.clock.now() - this.checkedAt <= this.timing.leaseTtl;
  }

  /** The highest epoch this server has seen (held, handed over, or watched in the store). */
  get lastSeenEpoch(): number {
    return Math.max(this.epoch, this.watched?.epoch ?? 0);
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  /** Stop acting and checking; resolves once a lease check in flight has ended (bounded by its deadline). */
  async stop(reason: StandbyReason = 'stopped'): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    if (this.state === 'serving') this.toStandby(reason);
    await this.ticking;
  }

  /**
   * This server holds the lease but cannot serve (its takeover failed): stop
   * renewing and leave the lease alone for `holdOff` ms, so the other server
   * sees the beat stand still and takes over. If nobody does, this server
   * takes its lease back afterwards and tries again.
   */
  stepDown(holdOff: number): void {
    this.holdOffUntil = this.clock.now() + holdOff;
    this.toStandby('stepped-down');
  }

  /**
   * Check the lease now: the peer said it handed over, `offered` being the
   * epoch its TAKEOVER named. A check already in flight is followed by
   * another at once (not after the usual poll interval).
   */
  poke(offered?: number): void {
    if (offered !== undefined) this.offered = offered;
    // Checked in this very turn (not after a timer): the lease call goes out before anything the caller sends next.
    if (this.running) this.check();
  }

  /**
   * Planned handoff: give the lease to `to` (default: the next server), with
   * the fence moved up to `settled` when given. True when it moved.
   */
  async handOver(to: ServerTag = this.succession.next(), settled?: number): Promise<boolean> {
    if (this.state !== 'serving') return false;
    let moved: LeaseDoc | null;
    try {
      moved = await this.withinLease(this.store.moveLease(this.tag, this.epoch, to, undefined, settled));
    } catch (err) {
      // Moved or not, this server stops acting: the other finds the lease its own, or sees the beat stand still.
      this.toStandby('lost');
      throw err;
    }
    if (!moved) {
      this.toStandby('lost');
      return false;
    }
    this.epoch = moved.epoch;
    this.toStandby('handed-over');
    return true;
  }

  private schedule(ms: number): void {
    this.timer?.cancel();
    this.timer = this.clock.after(ms, () => this.check());
  }

  /** A lease check now; if one is in flight, another as soon as it ends. */
  private check(): void {
    this.timer?.cancel();
    if (this.ticking) {
      this.checkAgain = true;
      return;
    }
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
      const again = this.checkAgain;
      this.checkAgain = false;
      if (this.running) this.schedule(again ? 0 : this.state === 'serving' ? this.timing.renewEvery : this.timing.pollEvery);
    });
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    try {
      if (this.state === 'serving') await this.renew();
      else await this.watch();
      this.checkedAt = this.clock.now();
    } catch (err) {
      // A check cut short by stop() (the store closing under it) is no failure.
      if (!this.running) return;
      this.fault(err, { state: this.state, epoch: this.epoch });
      if (this.state === 'serving' && !this.serving) this.toStandby('fenced');
    }
  }

  /**
   * A lease call, failed if it takes longer than the lease: its answer would
   * be too late to act on, and the role must go on checking meanwhile.
   */
  private withinLease<T>(call: Promise<T>): Promise<T> {
    return within(this.clock, this.timing.leaseTtl, call, () => new Error(`lease call took over ${this.timing.leaseTtl} ms`));
  }

  private async renew(): Promise<void> {
    const started = this.clock.now();
    if (await this.withinLease(this.store.renewLease(this.tag, this.epoch))) {
      // Count from when the renewal was sent: the store may have applied it at any point since.
      this.lastRenewal = started;
    } else {
      this.toStandby('lost');
    }
  }

  private async watch(): Promise<void> {
    const now = this.clock.now();
    const offered = this.offered;
    this.offered = undefined;
    if (offered !== undefined && !this.firstLook && now >= this.holdOffUntil) {
      // A TAKEOVER named this epoch: renewing it (compare-and-set on holder and epoch) is the very check a read
      // finding the lease ours leads to below, one store round trip sooner. Not ours (yet): read as usual.
      if (await this.renewThenServe(offered, now)) return;
    }
    let lease = await this.withinLease(this.store.readLease());
    const firstLook = this.firstLook;
    this.firstLook = false;
    if (!lease) {
      // A (a ring's first server) starts the very first epoch; the others do only if it never shows up.
      if (this.succession.startsFirst || now - this.bornAt > this.timing.leaseTtl * 2) lease = await this.withinLease(this.store.initLease(this.tag));
      else return;
      if (lease.holder === this.tag && lease.epoch === 1 && lease.beat === 0) return this.toServing(lease.epoch, 'initial', now);
    }
    if (lease.holder === this.tag) {
      if (firstLook && lease.beat > 0) {
        // A restarted server comes back as the non-serving one: its lease from
        // before the restart goes to the other server (which takes it at once,
        // or, if it is down too, this server takes it back after leaseTtl).
        // A lease with beat 0 was just handed over and never renewed: it was
        // given to this process (a handoff that beat its first look), so keep it.
        const next = this.succession.nextLive() ?? this.succession.next();
        const moved = await this.withinLease(this.store.moveLease(this.tag, lease.epoch, next, lease.beat));
        if (moved) this.epoch = moved.epoch;
        this.log.info({ epoch: moved?.epoch }, 'restarted while holding the lease: left it to the next server');
        return;
      }
      // Stepped down: the beat stands still so that the other takes over.
      if (now < this.holdOffUntil) return;
      // Renew before acting: after this server fenced itself the beat stood still,
      // so the other may be about to take over; the renewal (CAS on holder and
      // epoch) either stops that takeover or fails because it already happened.
      await this.renewThenServe(lease.epoch, now);
      return;
    }
    const w = this.watched;
    if (!w || w.epoch !== lease.epoch || w.beat !== lease.beat) {
      // Timed from the answer, not from the question: a read that took long (the store just came back) may show a
      // lease taken a moment ago, whose holder counts its time from then; timed from the question, this server
      // would take it over almost at once, while that holder serves.
      this.watched = { epoch: lease.epoch, beat: lease.beat, since: this.clock.now() };
      return;
    }
    // In a ring, the next live server after the holder goes first; the others wait their turn.
    if (now - w.since < this.timing.leaseTtl + this.succession.takeoverDelay(lease.holder)) return;
    this.log.info({ epoch: lease.epoch, holder: lease.holder }, 'holder silent: taking over');
    const taken = await this.withinLease(this.store.moveLease(lease.holder, lease.epoch, this.tag, lease.beat));
    if (taken) this.toServing(taken.epoch, 'failover', now);
  }

  /**
   * Renew `epoch` (a compare-and-set on holder and epoch) and serve it if
   * that shows it is ours: resumed when this server held it already, else
   * handed over to it. True when it serves.
   */
  private async renewThenServe(epoch: number, now: number): Promise<boolean> {
    if (!(await this.withinLease(this.store.renewLease(this.tag, epoch)))) return false;
    this.toServing(epoch, epoch === this.epoch ? 'resume' : 'handoff', now);
    return true;
  }

  private toServing(epoch: number, reason: ServingReason, now: number): void {
    // A lease check that was in flight when the role stopped does not start serving.
    if (!this.running) return;
    this.state = 'serving';
    this.epoch = epoch;
    this.lastRenewal = now;
    this.watched = undefined;
    this.log.info({ epoch: this.epoch, reason }, 'serving');
    this.emit('serving', { epoch: this.epoch, reason });
  }

  private toStandby(reason: StandbyReason): void {
    if (this.state === 'standby') return;
    this.state = 'standby';
    this.lastRenewal = -Infinity;
    this.log.info({ epoch: this.epoch, reason }, 'standby');
    this.emit('standby', { epoch: this.epoch, reason });
  }
}
