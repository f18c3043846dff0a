/**
 * The end of a serving period: drain the requests in flight, write the
 * replay high-water marks and the users' cursors, move the lease to the next live server, tell
 * every user and legacy client to switch (CHANGE-SERVER) and that server to
 * take over (TAKEOVER, MACed with the peer key). Also the CHANGE-SERVER a
 * server sends itself after taking a dead holder's lease over.
 */
import type { Push, RingMember, ServerTag } from '../protocol/messages';
import { encodeNative } from '../protocol/native';
import type { ReplayMarkWrite, StorePort } from './store-port';
import type { UserDoc } from '../store/documents';
import type { Address, Transport } from '../transport/types';
import { sleep, type Clock } from '../util/clock';
import type { Logger } from '../util/log';
import { tellEveryoneToSwitch, type SwitchTold } from './change-server';
import type { Cursors } from './cursors';
import type { Delivery } from './delivery';
import type { Directory } from './directory';
import type { Faults } from './faults';
import type { Guard } from './guard';
import type { LegacyContacts } from './legacy-contacts';
import type { Outbox } from './outbox';
import { PhaseClock, type PhaseTimes } from './phases';
import type { Succession } from './ring';
import type { Role } from './role';
import type { Sequencer } from './sequencer';
import type { Telemetry } from './telemetry';

/** What a handoff did: `users` registered users told to switch, `others` legacy clients told that no registered user lives at. */
export interface HandedOff {
  from: ServerTag;
  to: ServerTag;
  epoch: number;
  users: number;
  others: number;
  /** How long each step took (drain, replay marks, cursors, lease, told). */
  took: PhaseTimes;
}

/** What the handoff needs of its server. */
export interface HandoffHost {
  readonly clock: Clock;
  readonly tag: ServerTag;
  readonly log: Logger;
  readonly role: Role;
  readonly succession: Succession;
  readonly guard: Guard;
  readonly directory: Directory;
  /** What users received, written coalesced: flushed before the lease moves. */
  readonly cursors: Pick<Cursors, 'flush'>;
  /** Pushes: paused before the cursors are written for the last time, resumed if the lease stays. */
  readonly delivery: Pick<Delivery, 'pause' | 'resumeAll'>;
  readonly store: Pick<StorePort, 'saveReplayMarks'>;
  /** Which numbers this server allocated are settled, so the fence can move with the lease. */
  readonly sequencer: Pick<Sequencer, 'settled'>;
  readonly faults: Faults;
  readonly telemetry: Telemetry;
  readonly contacts: LegacyContacts;
  readonly outbox: Outbox;
  readonly transport: Transport;
  /** Serving and allowed to act right now (not draining). */
  serving(): boolean;
  /** Send a push to a user in its own dialect; false when nothing was sent. */
  push(user: UserDoc, msg: Push): boolean;
  /** The requests in flight have finished (true), or the drain limit passed (false). */
  drained(): Promise<boolean>;
  /** Requests still in flight. */
  inFlight(): number;
  /** Serve another period of the lease `epoch`. */
  startPeriod(epoch: number): void;
  /** The period timer is no longer needed. */
  stopPeriod(): void;
  handedOff(event: HandedOff): void;
}

/** Waits between attempts to write the cursors at a handoff (ms): one attempt more than waits. */
const CURSOR_WRITE_WAITS = [100, 300];

export class Handoff {
  /** Between the start of a handoff and its end: no request is taken. */
  draining = false;
  /** The last period ended with no other live server (said once, until a handoff happens again). */
  private servingAlone = false;

  constructor(private readonly host: HandoffHost) {}

  /** End the period now: drain, move the lease, tell the users and the next server. */
  async run(): Promise<boolean> {
    const host = this.host;
    if (!host.serving()) return false;
    const to = host.succession.nextLive();
    const toAddress = to === undefined ? undefined : host.succession.addressOf(to);
    if (to === undefined || !toAddress) {
      // A ring whose other servers are all silent: handing over would only wait out a lease.
      const say = this.servingAlone ? host.log.debug.bind(host.log) : host.log.warn.bind(host.log);
      say({ ring: host.succession.size }, 'no other live server to hand over to: serving another period');
      this.servingAlone = true;
      host.startPeriod(host.role.epoch);
      return false;
    }
    this.servingAlone = false;
    this.draining = true;
    host.stopPeriod();
    const phases = new PhaseClock(host.clock);
    let handedOver = false;
    try {
      // No request is taken from now on, so the replay marks are (nearly) final: written while the requests in
      // flight finish, with the cursors that moved so far; what moves during the drain is written after it.
      const early = Promise.all([this.persistReplayMarks(), host.cursors.flush().catch(() => {})]);
      // Requests still stuck after the limit may finish under the next holder's fence (see ARCHITECTURE: fencing).
      const drained = await host.drained();
      if (!drained) host.log.warn({ inFlight: host.inFlight() }, 'handing over with requests still in flight');
      await early;
      phases.done('drain');
      // The next holder reads what each user received from the store: nothing is pushed after it is written (a
      // canonical text user counts a push as received when it goes out), and it must be written before the lease
      // moves: if it cannot be, this server serves on rather than have the next one push it all again.
      host.delivery.pause();
      const epoch = host.role.epoch;
      const [written] = await Promise.all([this.writeCursors(), this.persistReplayMarks()]);
      if (!written) {
        host.log.warn({ epoch }, 'could not write the cursors: serving another period instead of handing over');
        host.startPeriod(epoch);
        return false;
      }
      phases.done('cursors');
      // Every number this server allocated settled (drained, none in doubt): the fence moves with the lease, and the
      // next holder has nothing to fence before it serves (ARCHITECTURE: fencing). Not while a request outlived the
      // drain: it may still take a number below that fence, and its text would land under every cursor.
      const settled = drained && host.inFlight() === 0 ? host.sequencer.settled() : undefined;
      if (!(await host.role.handOver(to, settled))) return false;
      phases.done('lease');
      handedOver = true;
      // TAKEOVER first: the next server then holds what users send it while it loads (held-requests.ts).
      const seal = host.guard.peerSeal();
      const takeover = { type: 'TAKEOVER' as const, from: host.tag, epoch: host.role.epoch, ...this.ringField() };
      if (seal) host.transport.send(encodeNative(takeover, seal.envelope, seal.key), toAddress);
      const told = this.tellEveryoneToSwitch(toAddress, to, host.role.epoch);
      phases.done('told');
      const took = phases.times();
      host.log.info({ to, epoch: host.role.epoch, ...told, tookMs: took.totalMs, ...took.phases }, 'handed over');
      host.telemetry.handoffs++;
      host.telemetry.lastHandoff = took;
      host.handedOff({ from: host.tag, to, epoch, ...told, took });
      return true;
    } finally {
      this.draining = false;
      // Still the holder (the cursors could not be written, or the lease could not move): push again.
      if (!handedOver && host.role.state === 'serving') host.delivery.resumeAll();
    }
  }

  /** Write the cursors, a few times over a store that fails for a moment; false when every attempt failed. */
  private async writeCursors(): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.host.cursors.flush();
        return true;
      } catch (err) {
        this.host.faults.report('handoff', err, { doing: 'writing cursors', attempt });
        if (attempt >= CURSOR_WRITE_WAITS.length) return false;
        await sleep(this.host.clock, CURSOR_WRITE_WAITS[attempt]!);
      }
    }
  }

  /** CHANGE-SERVER naming `server` (tag, epoch) to every user and legacy client (change-server.ts). */
  tellEveryoneToSwitch(server: Address, tag: ServerTag, epoch: number): SwitchTold {
    const host = this.host;
    const msg = { type: 'CHANGE-SERVER' as const, host: server.host, port: server.port, tag, epoch, ...this.ringField() };
    return tellEveryoneToSwitch(msg, host.directory.all(), host.contacts.current(), {
      toUser: (user, push) => host.push(user, push),
      toAddress: (at, dialect, push) => host.outbox.pushToAddress(at, dialect, push),
    });
  }

  /**
   * Write the users' replay high-water marks that moved (one command), so
   * the next server refuses replays of what this one accepted. A failure is
   * reported, not fatal: the next server's window starts lower.
   */
  private async persistReplayMarks(): Promise<void> {
    const host = this.host;
    const marks: ReplayMarkWrite[] = [];
    for (const [name, high] of host.guard.highMarks()) {
      const user = host.directory.get(name);
      if (!user || (user.ctrHigh ?? 0) >= high) continue;
      marks.push({ user: name, ctrHigh: high });
    }
    if (marks.length === 0) return;
    try {
      await host.store.saveReplayMarks(marks);
    } catch (err) {
      // Not marked as written: the handoff's second call writes them again.
      host.faults.report('replay-marks', err, { users: marks.length });
      return;
    }
    for (const m of marks) {
      const user = host.directory.get(m.user);
      if (user) user.ctrHigh = Math.max(user.ctrHigh ?? 0, m.ctrHigh);
    }
  }

  /** A ring's CHANGE-SERVER and TAKEOVER carry the ring, so native clients learn every server (a pair's stay as they were). */
  private ringField(): { ring?: RingMember[] } {
    const ring = this.host.succession.members;
    return ring ? { ring: ring.map((m) => ({ ...m })) } : {};
  }
}
