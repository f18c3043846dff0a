/**
 * One server of the pair (A or B) or of a ring, as a lifecycle: it builds
 * its parts, starts and stops them, and follows the serving role. It
 * answers user requests only while it holds the serving lease; taking the
 * lease over (fence, load, serve) and standing by happen here; everything
 * else is its parts': every datagram goes to dispatch.ts (and from there to
 * control/ or intake.ts), the end of a period to handoff.ts, the status
 * report to status-report.ts.
 */
import { EventEmitter } from 'node:events';
import { NotServingError } from '../errors';
import type { Dialect } from '../protocol/dialect';
import type { Push, RingMember, ServerTag } from '../protocol/messages';
import { encodeNative } from '../protocol/native';
import type { StorePort } from './store-port';
import type { UserDoc } from '../store/documents';
import { formatAddress, type Address, type Transport } from '../transport/types';
import { systemClock, type Clock, type TimerHandle } from '../util/clock';
import { silentLogger, type Logger } from '../util/log';
import type { ServerCore, ServerCounters } from './context';
import { Delivery, defaultDeliveryPolicy, pushSchedule, type DeliveryPolicy } from './delivery';
import { Directory } from './directory';
import { BacklogMarker, ownSocket } from './backlog';
import { Cursors } from './cursors';
import { deliveryPort } from './delivery-port';
import { Faults } from './faults';
import { Guard, defaultSecurityOptions, type SecurityOptions } from './guard';
import { HeldRequests } from './held-requests';
import { PhaseClock, type PhaseTimes } from './phases';
import { readUsersAndReplies, TakeoverStateLoader, type TakeoverState } from './takeover-state';
import { TakeoverWindow } from './takeover-window';
import { Intake } from './intake';
import { Dispatcher } from './dispatch';
import { DEFAULT_PRESENCE_WINDOW_MS, Presence } from './presence';
import { RateSampler } from './rates';
import { StatusGate } from './status-gate';
import { Telemetry } from './telemetry';
import { Outbox } from './outbox';
import { KeyedQueue } from './keyed-queue';
import { ReplyCache } from './reply-cache';
import { DEFAULT_REPLY_LIFETIME_MS, PUBLISH_ANSWER_MEMORY_MS } from '../protocol/limits';
import { restoreReplies } from './reply-records';
import { SEQ_FIRST_BLOCK, Sequencer } from './sequencer';
import { Role, defaultRoleTiming, type RoleTiming, type ServingReason, type StandbyReason } from './role';
import { Ring, defaultRingTiming, pairSuccession, type RingTiming, type Succession } from './ring';
import { LegacyContacts, defaultContactOptions, type ContactOptions } from './legacy-contacts';
import { Handoff, type HandedOff } from './handoff';
import { StoreCheck, defaultStoreCheckOptions, mismatchText, type StoreCheckOptions, type StoreMismatch } from './store-check';
import { statusOf, statusReportOf, type StatusSources } from './status-report';
import { Retention, retentionPolicy, type RetentionPolicy } from './retention';
import { readOwed, skipToLine } from './owed';

export interface ServerOptions {
  tag: ServerTag;
  transport: Transport;
  /** The other server's address (where TAKEOVER goes, and what CHANGE-SERVER names at a handoff); a pair's. */
  peer: Address;
  /**
   * A ring of servers instead of a pair: every server in ring order, this
   * one included (ring.ts); `peer` is then unused.
   */
  ring?: readonly RingMember[];
  ringTiming?: Partial<RingTiming>;
  /** This server's address as users reach it (default: the transport's bound address). */
  self?: Address;
  store: StorePort;
  /** Serving period in ms before handing over. */
  period: number;
  /** The legacy dialects this server speaks. */
  dialects: Partial<Record<'text' | 'pickle', Dialect>>;
  clock?: Clock;
  logger?: Logger;
  roleTiming?: Partial<RoleTiming>;
  delivery?: Partial<DeliveryPolicy>;
  /** How long a reply is kept for retransmissions (ms). */
  replyLifetime?: number;
  /** Authentication, rate limits and the peer secret (defaults: defaultSecurityOptions()). */
  security?: Partial<SecurityOptions>;
  /**
   * The peer secret as the operator configured it (not one generated for a
   * run): STATUS must then carry a MAC with its peer key. Without it, STATUS
   * is answered to loopback sources only. Default: security.peerSecret.
   */
  statusSecret?: string;
  /** A user heard from within this long is online for WHO (ms; default 60 s). */
  presenceWindow?: number;
  /** What the status report names as the store (hosts and database, never credentials). */
  storeLabel?: string;
  /** The legacy clients known by address, told at every CHANGE-SERVER (defaults: defaultContactOptions()). */
  contacts?: Partial<ContactOptions>;
  /** How often to check that the other server uses the same store (defaults: defaultStoreCheckOptions()). */
  storeCheck?: Partial<StoreCheckOptions>;
  /** Which texts nobody needs are deleted, and when (retention.ts; default: kept for the reply lifetime, newest 1000 per subject). */
  retention?: Partial<RetentionPolicy>;
}

export interface ServerEvents {
  serving: [{ tag: ServerTag; epoch: number; reason: ServingReason; took: PhaseTimes }];
  standby: [{ tag: ServerTag; epoch: number; reason: StandbyReason }];
  handoff: [HandedOff];
  /** The other server uses another store: this one refuses to serve (`message` says why), or may serve again (undefined). */
  'store-mismatch': [{ message: string } | undefined];
}

/** A CHALLENGE is re-sent to one address at most this often per user. */
const CHALLENGE_RESEND_MS = 200;
/** Longest wait for the requests in flight, at a handoff and at close (a store that went silent must not hold them). */
const DRAIN_LIMIT_MS = 3000;

export class RssServer extends EventEmitter<ServerEvents> implements ServerCore {
  readonly tag: ServerTag;
  readonly store: StorePort;
  readonly directory = new Directory();
  /** Each user's cursor, written coalesced (flushed before a handoff and at close). */
  readonly cursors: Cursors;
  readonly backlog: BacklogMarker;
  readonly delivery: Delivery;
  readonly sequencer: Sequencer;
  readonly clock: Clock;
  readonly log: Logger;
  readonly role: Role;
  /** Who comes after this server (the pair's other server, or the ring's next live one). */
  readonly succession: Succession;
  readonly counters: ServerCounters = { requests: 0, replies: 0, duplicates: 0, malformed: 0, ignored: 0, published: 0, pushes: 0, textsPurged: 0 };
  readonly guard: Guard;
  readonly presence: Presence;
  /** Legacy clients heard at an address, registered or not: each is told every CHANGE-SERVER. */
  readonly contacts: LegacyContacts;
  readonly telemetry = new Telemetry();
  /** The error channel: every failure caught is counted and logged here once (`rss status` shows the counts). */
  readonly faults: Faults;
  private readonly outbox: Outbox;
  private readonly storeCheck: StoreCheck;
  /** close() was called: failures of work cut short by it are no faults. */
  private closed = false;
  private readonly rates: RateSampler;
  private readonly statusGate: StatusGate;
  /** When the current serving period ends (server clock), while serving. */
  private periodEndsAt: number | undefined;
  private readonly intake: Intake;
  /** When the latest verified TAKEOVER arrived, while its window is open: a handoff's timing starts there. */
  private readonly takeover: TakeoverWindow;
  /** Users' requests that arrive between a TAKEOVER and serving (canonical text and pickle clients do not retry). */
  private readonly held: HeldRequests;
  /** The state a takeover loads, read ahead when a TAKEOVER arrives. */
  private readonly takeoverState: TakeoverStateLoader;
  /** Where every datagram received goes (dispatch.ts). */
  private readonly dispatcher: Dispatcher;
  private readonly transport: Transport;
  private readonly replies: ReplyCache;
  /** PUBLISH answers, kept PUBLISH_ANSWER_MEMORY_MS only (reply-policy.ts `brief`). */
  private readonly briefReplies: ReplyCache;
  private readonly queue = new KeyedQueue();
  private readonly replyLifetime: number;
  private peer: Address;
  private self: Address;
  private ready = false;
  private readonly handoffs: Handoff;
  private periodTimer: TimerHandle | undefined;
  private purgeTimer: TimerHandle | undefined;
  /** Deletes the texts nobody needs any more, while serving. */
  private readonly retention: Retention;
  private readonly startedAt = Date.now();

  constructor(private readonly opts: ServerOptions) {
    super();
    this.tag = opts.tag;
    this.store = opts.store;
    this.transport = opts.transport;
    this.peer = opts.peer;
    this.self = opts.self ?? opts.transport.address();
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.logger ?? silentLogger).child({ server: opts.tag });
    this.faults = new Faults(this.log);
    this.replyLifetime = opts.replyLifetime ?? DEFAULT_REPLY_LIFETIME_MS;
    this.replies = new ReplyCache(200_000, this.replyLifetime);
    this.briefReplies = new ReplyCache(200_000, Math.min(this.replyLifetime, PUBLISH_ANSWER_MEMORY_MS));
    this.takeover = new TakeoverWindow(this.clock);
    this.held = new HeldRequests(this.takeover);
    this.takeoverState = new TakeoverStateLoader((epoch, afterHandoff) => this.loadTakeoverState(epoch, afterHandoff), this.takeover);
    this.guard = new Guard({ ...defaultSecurityOptions(), ...opts.security }, opts.store);
    this.outbox = new Outbox(this.transport, this.guard, opts.dialects, this.counters, () => (this.role.serving ? this.role.epoch : undefined));
    this.contacts = new LegacyContacts({ ...defaultContactOptions(), ...opts.contacts }, opts.store, this.log);
    this.intake = new Intake(this, {
      faults: this.faults,
      serving: () => this.serving,
      hold: (item) => this.held.hold(item),
      roleServing: () => this.role.serving,
      replies: this.replies,
      briefReplies: this.briefReplies,
      queue: this.queue,
      outbox: this.outbox,
      dialects: opts.dialects,
      legacyHeard: (req, dialect, from) => {
        if (req.type === 'END-CONNECTION') this.contacts.ended(from);
        else this.contacts.heard(from, dialect);
      },
    });
    const deliveryPolicy = { ...defaultDeliveryPolicy(), ...opts.delivery };
    // Delivery gives up after its whole retransmission schedule (plus a little for the last ACK to arrive).
    const giveUpAfter = () => pushSchedule(this.delivery.ackTimeout, deliveryPolicy.maxTransmissions) + 100;
    this.presence = new Presence(
      { window: opts.presenceWindow ?? DEFAULT_PRESENCE_WINDOW_MS, giveUpAfter },
      (name) => this.directory.get(name) !== undefined,
      () => this.directory.size,
    );
    this.rates = new RateSampler(this.clock, () => ({ requests: this.counters.requests, pushes: this.counters.pushes }));
    const statusSecret = 'statusSecret' in opts ? opts.statusSecret : opts.security?.peerSecret;
    this.statusGate = new StatusGate(statusSecret, () => Date.now());
    const roleTiming = { ...defaultRoleTiming(), ...opts.roleTiming };
    this.succession = opts.ring
      ? new Ring(opts.tag, opts.ring, opts.store, this.clock, { ...defaultRingTiming(), liveFor: roleTiming.leaseTtl / 2, ...opts.ringTiming }, this.log)
      : pairSuccession(opts.tag, opts.peer);
    this.role = new Role(opts.tag, opts.store, this.clock, roleTiming, this.log, this.succession);
    this.role.fault = (err, context) => this.faults.report('lease', err, context);
    this.sequencer = new Sequencer((count) => this.store.allocateSeqs(this.tag, this.servingEpoch(), count));
    this.backlog = new BacklogMarker((bytes, failed) => this.transport.send(bytes, ownSocket(this.transport.address()), failed), this.clock);
    this.cursors = new Cursors(this.store, this.clock, (err) => this.faults.report('delivery', err, { doing: 'writing cursors' }));
    this.delivery = new Delivery(
      deliveryPort({
        store: this.store,
        directory: this.directory,
        cursors: this.cursors,
        sequencer: this.sequencer,
        serving: () => this.role.serving,
        pushNative: (u, text) => {
          const sent = this.outbox.pushText(u, text, this.guard.userKey(u));
          if (sent) {
            this.counters.pushes++;
            this.presence.pushed(u._id, this.clock.now());
          }
          return sent;
        },
        pushText: (u, text) => this.push(u, { type: 'MESSAGE', ...text }),
        gaveUp: (user) => this.presence.lost(user),
        afterBacklog: (go) => this.backlog.after(go),
        failed: (err, context) => this.faults.report('delivery', err, context),
      }),
      this.clock,
      deliveryPolicy,
      this.log,
    );
    this.retention = new Retention(
      this.store,
      {
        users: () => this.directory.all(),
        cursor: (name) => this.cursors.get(name),
        catchUp: async (name, upTo) => {
          const term = this.term;
          const line = Math.min(upTo, this.sequencer.visibleLine);
          const read = await readOwed({ store: this.store, directory: this.directory, cursors: this.cursors, sequencer: { visibleLine: line } }, name, 1);
          // As RETRIEVE-TEXTS: nothing read in a term that ended since moves a cursor.
          if (read.line === undefined || this.term !== term || !this.serving) return false;
          skipToLine(this.cursors, name, read);
          return true;
        },
        visibleLine: () => this.sequencer.visibleLine,
        serving: () => this.serving,
        term: () => this.term,
        now: () => Date.now(),
        failed: (err) => this.faults.report('purge', err, { doing: 'deleting texts nobody needs' }),
        purged: (n) => {
          this.counters.textsPurged += n;
        },
      },
      this.clock,
      retentionPolicy(this.replyLifetime, opts.retention),
    );
    this.storeCheck = new StoreCheck(
      opts.tag,
      () => this.peer,
      (msg, to) => this.transport.send(encodeNative(msg), to),
      this.clock,
      { ...defaultStoreCheckOptions(), ...opts.storeCheck },
      (m) => this.onStoreMismatch(m),
      this.log,
    );
    this.handoffs = new Handoff({
      tag: this.tag,
      clock: this.clock,
      log: this.log,
      role: this.role,
      succession: this.succession,
      guard: this.guard,
      directory: this.directory,
      cursors: this.cursors,
      delivery: this.delivery,
      store: this.store,
      sequencer: this.sequencer,
      faults: this.faults,
      telemetry: this.telemetry,
      contacts: this.contacts,
      outbox: this.outbox,
      transport: this.transport,
      serving: () => this.serving,
      push: (user, msg) => this.push(user, msg),
      drained: () => this.drained(),
      inFlight: () => this.queue.active,
      startPeriod: (epoch) => this.startPeriod(epoch),
      stopPeriod: () => this.periodTimer?.cancel(),
      handedOff: (event) => this.emit('handoff', event),
    });
    this.role.on('serving', (e) => void this.onServing(e.epoch, e.reason));
    this.role.on('standby', (e) => this.onStandby(e.epoch, e.reason));
    this.dispatcher = new Dispatcher({
      counters: this.counters,
      log: this.log,
      guard: this.guard,
      outbox: this.outbox,
      dialects: opts.dialects,
      control: {
        log: this.log,
        guard: this.guard,
        role: this.role,
        succession: this.succession,
        storeCheck: this.storeCheck,
        statusGate: this.statusGate,
        outbox: this.outbox,
        faults: this.faults,
        ringMismatch: new Set(),
        takeoverExpected: (epoch) => {
          if (this.serving) return;
          this.takeover.open();
          this.takeoverState.readAhead(epoch);
        },
        statusReport: () => this.statusReport(),
      },
      serving: () => this.serving,
      backlog: this.backlog,
      accept: (req, dialect, from, bytes, frame) => this.intake.accept(req, dialect, from, bytes, frame),
    });
    this.transport.onDatagram((bytes, from) => this.dispatcher.datagram(bytes, from));
  }

  /** Start watching or holding the lease. */
  start(): void {
    this.succession.start();
    this.role.start();
    this.rates.start();
    this.storeCheck.start(() => this.store.storeId());
  }

  /**
   * Stop serving and release the socket (the lease expires by itself, as
   * after a crash). Bounded: requests still waiting on a silent store after
   * DRAIN_LIMIT_MS are left (unanswered, their clients retry elsewhere).
   */
  async close(): Promise<void> {
    this.closed = true;
    this.takeover.close();
    this.storeCheck.stop();
    this.periodTimer?.cancel();
    this.purgeTimer?.cancel();
    this.retention.stop();
    this.rates.stop();
    this.role.removeAllListeners();
    this.succession.stop();
    this.delivery.stop();
    this.backlog.clear();
    this.ready = false;
    // What users received is written before the lease is let go (a clean stop re-pushes nothing).
    await this.cursors.flush().catch((err) => this.faults.report('delivery', err, { doing: 'writing cursors' }));
    await Promise.all([this.role.stop(), this.drained()]);
    await this.transport.close();
  }

  /** The requests in flight have finished, or DRAIN_LIMIT_MS passed; true when they finished. */
  private drained(): Promise<boolean> {
    return new Promise((resolve) => {
      const t = this.clock.after(DRAIN_LIMIT_MS, () => resolve(false));
      void this.queue.drain().then(() => {
        t.cancel();
        resolve(true);
      });
    });
  }

  get address(): Address {
    return this.self;
  }

  /** The serving period, ms. */
  get period(): number {
    return this.opts.period;
  }

  /** Serving and allowed to act right now. */
  get serving(): boolean {
    return this.ready && !this.handoffs.draining && this.role.serving;
  }

  /**
   * For load balancers and orchestrators: ready when the store answers and
   * this server either serves or stands by able to take over; otherwise why not, in one line.
   */
  readiness(): { ready: true } | { ready: false; reason: string } {
    if (this.closed) return { ready: false, reason: `server ${this.tag} is stopped` };
    if (!this.role.storeReachable) {
      const since = this.role.checkedAt === -Infinity ? 'since start' : `for ${Math.round(this.clock.now() - this.role.checkedAt)} ms`;
      return { ready: false, reason: `server ${this.tag}: store unreachable (no lease check answered ${since})` };
    }
    if (this.role.state === 'serving' && !this.role.serving) {
      return { ready: false, reason: `server ${this.tag}: lease not renewed in time (store slow or unreachable)` };
    }
    if (this.role.state === 'serving' && !this.ready) return { ready: false, reason: `server ${this.tag}: taking over, loading its state` };
    return { ready: true };
  }

  /** WHO's online flag: heard from within the presence window and not given up on since (serving server only). */
  online(name: string): boolean {
    return this.serving && this.presence.online(name, this.clock.now());
  }

  /** An authenticated request or ACK from a user was accepted. */
  heard(name: string, known?: boolean): void {
    this.presence.heard(name, this.clock.now(), known);
  }

  gone(name: string): void {
    this.presence.forget(name);
  }

  servingEpoch(): number {
    if (!this.role.serving) throw new NotServingError();
    return this.role.epoch;
  }

  /** The ring in order (undefined for a pair). */
  get ring(): readonly RingMember[] | undefined {
    return this.succession.members;
  }

  /** See ServerCore.term: bumped by every standby. */
  term = 0;

  holds(epoch: number): boolean {
    return this.role.serving && this.role.epoch === epoch;
  }

  stillHolds(epoch: number): boolean {
    return this.role.state === 'serving' && this.role.epoch === epoch;
  }

  /** End the period now: drain, move the lease, tell the users and the next server (handoff.ts). */
  handoff(): Promise<boolean> {
    return this.handoffs.run();
  }

  push(user: UserDoc, msg: Push): boolean {
    const sent = this.outbox.push(user, msg, this.guard.userKey(user));
    if (sent && msg.type === 'MESSAGE') this.counters.pushes++;
    return sent;
  }

  challenge(user: UserDoc): void {
    if (user.dialect !== 'native' || user.addrOk || user.nonce === undefined) return;
    const now = this.clock.now();
    // Throttled per address: a CHALLENGE just sent to the user's old address must not hold back the one to its new address.
    const to = `${formatAddress(user)}/${user.nonce}`;
    const last = this.guard.challenged.peek(user._id);
    if (last !== undefined && last.to === to && now - last.at < CHALLENGE_RESEND_MS) return;
    this.guard.challenged.set(user._id, { at: now, to });
    if (this.push(user, { type: 'CHALLENGE', to: user._id, nonce: user.nonce })) this.guard.counters.challenges++;
  }

  /** The status report from memory alone (status-report.ts). */
  status(): Record<string, unknown> {
    return statusOf(this.statusSources());
  }

  /** The status report with the store's counts, when the store gives them soon enough (status-report.ts). */
  statusReport(): Promise<Record<string, unknown>> {
    return statusReportOf(this.statusSources());
  }

  private statusSources(): StatusSources {
    return {
      tag: this.tag,
      serving: this.serving,
      clock: this.clock,
      role: this.role,
      periodEndsAt: this.periodEndsAt,
      rates: this.rates,
      storeMismatch: this.storeCheck.mismatch,
      storeLabel: this.opts.storeLabel,
      address: this.self,
      ring: this.ring,
      succession: this.succession,
      peer: this.peer,
      directory: this.directory,
      online: (name) => this.online(name),
      telemetry: this.telemetry,
      faults: this.faults,
      startedAt: this.startedAt,
      guard: this.guard,
      counters: this.counters,
      delivery: this.delivery,
      cursors: this.cursors,
      replies: this.replies,
      briefReplies: this.briefReplies,
      presence: this.presence,
      contacts: this.contacts,
      store: this.store,
    };
  }

  /**
   * The lease was taken: fence the earlier holders' text numbers, load the
   * users and the recent replies (at a handoff both started when the
   * TAKEOVER came: takeover-state.ts), then serve. A failure at any step (after
   * the store's own retries) steps down: this server stops renewing, so the
   * other takes over, or this one tries again once the hold-off is over.
   */
  private async onServing(epoch: number, reason: ServingReason): Promise<void> {
    const stillOurs = () => this.role.epoch === epoch && this.role.state === 'serving';
    // A handoff is timed from its TAKEOVER (the lease check it hurried is its first step); anything else from now.
    const heard = (reason === 'handoff' ? this.takeover.heardAt() : undefined) ?? this.clock.now();
    const phases = new PhaseClock(this.clock, heard);
    phases.done('lease');
    try {
      await this.guard.ready;
      // Before anything is shown or answered: no earlier holder can store a text from now on (ARCHITECTURE: fencing).
      const { fence, block, users, recent, contacts } = await this.takeoverState.take(epoch, reason === 'handoff');
      if (fence === null || !stillOurs()) return;
      phases.done('load');
      // Every number up to the fence is settled: the log is read up to it at least (Sequencer.visibleLine).
      this.sequencer.fenced(fence, block);
      this.directory.load(users);
      this.cursors.load(users);
      this.contacts.load(contacts);
      this.guard.reset();
      this.presence.clear();
      restoreReplies(this.replies, recent);
      this.delivery.start();
      this.ready = true;
      // After a failover nobody told the users: this server does.
      if (reason === 'failover') {
        const told = this.handoffs.tellEveryoneToSwitch(this.self, this.tag, epoch);
        this.log.info({ epoch, ...told }, 'took over after a failover: told everyone');
      }
      this.startPeriod(epoch);
      this.schedulePurge();
      this.retention.start();
      phases.done('serve');
      // Requests that came after the TAKEOVER, while this server loaded: answered now, through every check.
      // Their bytes are credit again for what may be sent back (guard.reset() above cleared the budgets).
      const held = this.held.release();
      this.takeover.close();
      for (const h of held) {
        this.guard.sendBudgets.received(h.from, h.bytes.length);
        this.intake.accept(h.req, h.dialect, h.from, h.bytes, h.frame);
      }
      phases.done('held');
      const took = phases.times();
      this.log.info({ epoch, reason, held: held.length, tookMs: took.totalMs, ...took.phases }, 'took over');
      this.telemetry.takeovers[reason]++;
      this.telemetry.lastTakeover = { reason, ...took };
      this.emit('serving', { tag: this.tag, epoch, reason, took });
    } catch (err) {
      if (this.closed) return;
      this.faults.report('takeover', err, { epoch, reason }, 'error');
      if (stillOurs()) this.role.stepDown(this.role.timing.leaseTtl * 2);
    }
  }

  /** The fence, the users, the recent replies and the legacy contacts, as a takeover of `epoch` needs them. */
  private async loadTakeoverState(epoch: number, afterHandoff: boolean): Promise<TakeoverState> {
    // With the lease's first block of text numbers: the first publishes need no allocation round trip.
    const block = SEQ_FIRST_BLOCK;
    const [fence, { users, recent }, contacts] = await Promise.all([
      this.store.fenceSeqs(this.tag, epoch, block),
      readUsersAndReplies(this.store, Date.now() - this.replyLifetime, afterHandoff),
      // Without them only the clients this server heard itself are told at its next CHANGE-SERVER: not worth refusing to serve.
      this.store.loadContacts(Date.now() - this.contacts.opts.ttl, this.contacts.opts.max).catch((err) => {
        this.log.warn({ err: String(err) }, 'could not read the legacy clients from the store');
        return [];
      }),
    ]);
    return { fence, block, users, recent, contacts };
  }

  private startPeriod(epoch: number): void {
    this.periodTimer?.cancel();
    this.periodTimer = this.clock.after(this.opts.period, () => this.endPeriod(epoch));
    this.periodEndsAt = this.clock.now() + this.opts.period;
  }

  /**
   * The period is over: hand over. If the server cannot act at this very
   * moment (a renewal is late, so its own clock fences it) but still holds
   * the lease, it tries again shortly: skipping the handoff would leave it
   * serving for good.
   */
  private endPeriod(epoch: number): void {
    if (this.role.state !== 'serving' || this.role.epoch !== epoch) return;
    if (!this.serving) {
      this.periodTimer = this.clock.after(100, () => this.endPeriod(epoch));
      return;
    }
    this.faults.watch(this.handoffs.run(), 'handoff', { epoch });
  }

  /**
   * While serving, drop reply records past their lifetime, so the `requests`
   * collection stays bounded (a retransmission never comes later than that).
   */
  private schedulePurge(): void {
    this.purgeTimer?.cancel();
    this.purgeTimer = this.clock.after(this.replyLifetime / 2, () => {
      if (!this.serving) return;
      this.store.purgeReplies(Date.now() - this.replyLifetime).then(
        (n) => n > 0 && this.log.debug({ purged: n }, 'expired reply records purged'),
        (err) => this.faults.report('purge', err),
      );
      this.store.purgeContacts(Date.now() - this.contacts.opts.ttl).catch((err) => this.log.warn({ err: String(err) }, 'could not purge legacy contacts'));
      this.schedulePurge();
    });
  }

  private onStandby(epoch: number, reason: StandbyReason): void {
    this.term++;
    this.takeover.close();
    this.ready = false;
    this.periodTimer?.cancel();
    this.purgeTimer?.cancel();
    this.retention.stop();
    this.periodEndsAt = undefined;
    this.presence.clear();
    this.delivery.stop();
    this.backlog.clear();
    // Best effort: a cursor only goes up to what the user received, so a late write is never wrong.
    this.cursors.release().catch(() => {});
    this.sequencer.reset();
    this.replies.clear();
    this.briefReplies.clear();
    // The other server may now change users and keys: nothing of theirs stays cached here.
    this.guard.reset();
    this.emit('standby', { tag: this.tag, epoch, reason });
  }

  /**
   * The other server names another store: stop taking part in the lease
   * (and so serving) until it names ours again or goes silent. Said at error
   * level: two stores would give users two disjoint systems.
   */
  private onStoreMismatch(m: StoreMismatch | undefined): void {
    if (this.closed) return;
    if (m) {
      const message = mismatchText(m, this.opts.storeLabel);
      this.log.error({ peer: formatAddress(m.peer), ours: m.ours, theirs: m.theirs }, message);
      void this.role.stop('store-mismatch');
      this.emit('store-mismatch', { message });
    } else {
      this.log.info({}, 'the other server no longer names another store: taking part in the lease again');
      this.role.start();
      this.emit('store-mismatch', undefined);
    }
  }
}
