/**
 * A user request's path through the serving server, after decoding:
 * rate limit per source and for all unauthenticated work (a request with a
 * MAC: once the MAC is checked, so forgeries never cost its user) → reply
 * cache (a retransmission is answered, never executed again; a PUBLISH's
 * copy past its brief answer is run again, and finds its stored text) → the user's
 * queue → authentication (MAC with the user's key, replay window) → rate
 * limit per user → handler → reply (sealed, kept for retransmissions as
 * its type's row in reply-policy.ts says, within the address's budget).
 * Datagrams reach it from dispatch.ts.
 */
import type { HeldRequest } from './held-requests';
import { LIMITS } from '../protocol/limits';
import { DENIAL_REASONS, denialFor, isDenial, type DialectName, type Reply, type Request } from '../protocol/messages';
import { NotServingError } from '../errors';
import { nativeFitRetrieved, type NativeFrame } from '../protocol/native';
import type { Dialect } from '../protocol/dialect';
import type { UserDoc } from '../store/documents';
import { formatAddress, sameAddress, type Address } from '../transport/types';
import type { RequestContext, ServerCore } from './context';
import type { AuthResult } from './guard';
import type { RequestOutcome } from './telemetry';
import type { Faults } from './faults';
import { HANDLERS, type HandledRequest } from './handlers';
import type { KeyedQueue } from './keyed-queue';
import type { Outbox, Seal } from './outbox';
import type { CachedReply, ReplyCache } from './reply-cache';
import { replyRecord, type Recorded } from './reply-records';
import { keepingOf, policyOf } from './reply-policy';
import { dedupKey } from './dedup-key';

/** What the intake needs of its server besides the ServerCore. */
export interface IntakeHost {
  /** Serving and allowed to take requests (not draining). */
  serving(): boolean;
  /** Still holding the lease (a queued request is dropped once it is lost). */
  roleServing(): boolean;
  replies: ReplyCache;
  /** The answers kept only briefly (reply-policy.ts `brief`: PUBLISH). */
  briefReplies: ReplyCache;
  queue: KeyedQueue;
  outbox: Outbox;
  dialects: Partial<Record<'text' | 'pickle', Dialect>>;
  /** A request reaching this server while it is told to take over but not serving yet: true when it is held for later. */
  hold(item: HeldRequest): boolean;
  /** A legacy request came from `from` (to this server serving or not): the client is known to be there. */
  legacyHeard(req: Request, dialect: 'text' | 'pickle', from: Address): void;
  faults: Faults;
}

export class Intake {
  constructor(
    private readonly core: ServerCore,
    private readonly host: IntakeHost,
  ) {}

  accept(req: HandledRequest, dialect: DialectName, from: Address, bytes: Uint8Array, frame?: NativeFrame): void {
    if (!this.host.serving()) {
      if (this.host.hold({ req, dialect, from, bytes, ...(frame ? { frame } : {}) })) return;
      // Noting a contact may write to the store: only within the rates of unauthenticated work (spoofed floods).
      if (dialect !== 'native' && this.core.guard.unprovenAllowed(from)) this.host.legacyHeard(req, dialect, from);
      this.core.counters.ignored++;
      this.core.telemetry.request(req.type, dialect, 'ignored');
      return;
    }
    this.core.counters.requests++;
    const arrived = performance.now();
    // The serving term it came in: a request still queued when the lease was given up never runs in a later one.
    const term = this.core.term;
    const ctr = frame?.envelope.ctr;
    // What proves no user is charged to its source and to all such work together, never to the user it names;
    // a request offering a MAC is charged once it is known whether it proves its user (execute): a flood forging
    // a user's own source address must not drain what his genuine requests pay (no lock-out by forgeries).
    if (!frame?.mac && !this.core.guard.unprovenAllowed(from)) {
      this.core.telemetry.request(req.type, dialect, 'refused');
      return this.deny(req, DENIAL_REASONS.rateLimit, dialect, from, ctr);
    }
    if (dialect !== 'native') this.host.legacyHeard(req, dialect, from);
    // An ACK is never answered, so it needs no de-duplication key, and it runs outside the user's queue:
    // it only marks a text received, which commutes with whatever else the user asks.
    if (req.type === 'ACK') {
      if (frame && this.acknowledge(req, frame, from, arrived)) return;
      return this.host.faults.watch(this.execute(req, dialect, from, bytes.length, '', frame, arrived, term), 'ack');
    }
    const key = dedupKey(dialect, from, frame?.envelope.cid, bytes);
    // A retransmission is answered from the cache first: before its MAC or counter is looked at again.
    const cached = this.cachedAnswer(req, key);
    if (cached) {
      this.core.counters.duplicates++;
      this.core.telemetry.request(req.type, dialect, 'duplicate');
      return this.sendCached(cached, req, dialect, from, frame);
    }
    const name = 'name' in req ? req.name : formatAddress(from);
    this.host.faults.watch(this.host.queue.run(name, () => this.execute(req, dialect, from, bytes.length, key, frame, arrived, term)), 'request', { type: req.type });
  }

  /**
   * The common ACK, taken at once: MACed, naming a user that holds a key.
   * It passes the admission checks `execute` makes (lease, then admit) and
   * does the ACK handler's work, without a request context, a promise or
   * the queue: one comes for every push, so it is the most frequent
   * request. False when it is not that case (the general path takes it,
   * nothing done yet).
   */
  private acknowledge(req: Extract<HandledRequest, { type: 'ACK' }>, frame: NativeFrame, from: Address, arrived: number): boolean {
    if (!frame.mac || !this.host.roleServing()) return false;
    const user = this.core.directory.get(req.name);
    if (user?.key === undefined) return false;
    const telemetry = this.core.telemetry;
    try {
      const auth = this.core.guard.authenticate(frame, user);
      // A key that cannot be used (none unwraps) proves nobody: refused, as a failed MAC is.
      const proof: AuthResult = auth.ok && auth.authed === undefined ? { ok: false, why: 'auth' } : auth;
      if (!this.admit(req, 'native', from, frame, proof, (outcome) => telemetry.request('ACK', 'native', outcome))) return true;
      this.heardFrom(user, 'ACK', true, req.seq);
      telemetry.request('ACK', 'native', 'ok');
      telemetry.took(performance.now() - arrived);
    } catch (err) {
      telemetry.request('ACK', 'native', 'failed');
      this.host.faults.report('ack', err, { type: 'ACK' });
    }
    return true;
  }

  /**
   * Whether an authenticated (or unauthenticatable) request goes on to its
   * handler: a MAC that proves no user (forged, replayed, unknown name) is
   * unauthenticated work after all, charged as such; a failed check is
   * refused (told why, but an exact replay); a user over its rate is
   * refused and its counter released. Refusals are counted and told here.
   */
  private admit(
    req: Request, dialect: DialectName, from: Address, frame: NativeFrame | undefined, auth: AuthResult, count: (outcome: RequestOutcome) => void,
  ): auth is Extract<AuthResult, { ok: true }> {
    const ctr = frame?.envelope.ctr;
    if (frame?.mac && !(auth.ok && auth.authed !== undefined) && !this.core.guard.unprovenAllowed(from)) {
      if (auth.ok) this.deny(req, DENIAL_REASONS.rateLimit, dialect, from, ctr);
      count('refused');
      return false;
    }
    if (!auth.ok) {
      this.core.log.debug({ type: req.type, name: 'name' in req ? req.name : undefined, why: auth.why, ctr }, 'request refused');
      // An exact replay of a request seen in the window is dropped; the others are told why (a stale ctr makes our client re-send).
      if (auth.why !== 'replay') this.deny(req, auth.why === 'stale' ? DENIAL_REASONS.staleCounter : DENIAL_REASONS.auth, dialect, from, ctr);
      count('refused');
      return false;
    }
    if (auth.authed !== undefined && !this.core.guard.userAllowed(auth.authed)) {
      if (ctr !== undefined) this.core.guard.release(auth.authed, ctr);
      count('refused');
      this.deny(req, DENIAL_REASONS.rateLimit, dialect, from, ctr);
      return false;
    }
    return true;
  }

  /**
   * One request, in its user's queue: retransmission check, authentication,
   * limits, handler, reply. It runs only in the serving `term` it came in:
   * queued behind another, it may find the lease gone, or given up and taken
   * again (a resume) while the server still loads what it serves from. An
   * answer that records itself (RETRIEVE-TEXTS: what the user is owed) is
   * not given either when the lease was given up while it was worked out:
   * it was read from state being cleared, and could say "nothing owed" when
   * texts are. Not answered, the client asks again.
   */
  private async execute(
    req: HandledRequest, dialect: DialectName, from: Address, size: number, key: string, frame: NativeFrame | undefined, arrived: number, term: number,
  ): Promise<void> {
    const count = (outcome: RequestOutcome) => this.core.telemetry.request(req.type, dialect, outcome);
    if (!this.host.roleServing() || this.core.term !== term) return count('ignored');
    const ctr = frame?.envelope.ctr;
    const again = this.cachedAnswer(req, key);
    if (again) {
      this.core.counters.duplicates++;
      count('duplicate');
      return this.sendCached(again, req, dialect, from, frame);
    }
    const user = 'name' in req ? this.core.directory.get(req.name) : undefined;
    const auth = await this.authenticate(req, frame, user, key);
    if (!this.admit(req, dialect, from, frame, auth, count)) return;
    const release = () => {
      if (auth.authed !== undefined && ctr !== undefined) this.core.guard.release(auth.authed, ctr);
    };
    // What was recorded as the answer: its datagrams are the ones sent (encoded and MACed once).
    const recorded: Recorded = {};
    // An answer sized to the source's budget has taken its bytes from it already (prepay): sent uncharged.
    let prepaid = false;
    const ctx: RequestContext = {
      core: this.core,
      from,
      dialect,
      key,
      requestBytes: size,
      afterReply: [],
      ...(frame?.envelope.cid !== undefined ? { cid: frame.envelope.cid } : {}),
      ...(ctr !== undefined ? { ctr } : {}),
      ...(auth.authed !== undefined ? { authed: auth.authed } : {}),
      ...(auth.key ? { macKey: auth.key } : {}),
      fitRetrieved: (reply) => (dialect === 'native' ? nativeFitRetrieved(reply) : this.host.dialects[dialect]!.fitRetrieved(reply)),
      // Several datagrams only to the user's own proven address: a budget-bound one gets one per request.
      replyParts: (wanted) => (dialect === 'native' && wanted && this.provenFor(auth.authed, from) ? Math.min(wanted, LIMITS.maxRetrieveParts) : 1),
      // A native answer in one datagram always fits 3× its padded request; the legacy ones are sized to the budget.
      replyBudget: () => (dialect === 'native' ? Infinity : this.core.guard.sendBudgets.available(from)),
      replySize: (replies) => this.host.outbox.encodeReplies(replies, dialect).reduce((total, datagram) => total + datagram.length, 0),
      prepay: (bytes) => {
        this.core.guard.sendBudgets.reserve(from, bytes);
        prepaid = true;
      },
      remember: (replies) => {
        if (!policyOf(req.type).recordsItself) throw new Error(`${req.type} records no answer of its own (reply-policy.ts)`);
        if (this.core.term !== term) throw new NotServingError('the lease was given up while this answer was worked out');
        const at = this.recordAnswer(replies, dialect, seal(), recorded);
        this.host.replies.set(key, replies, at, recorded.wire);
        ctx.afterReply.unshift(() => this.persist(key, recorded, at));
      },
    };
    // How the answer is sealed: evaluated when it is encoded (the user's proven address may change meanwhile).
    const seal = () => sealOf(ctx, this.provenFor(auth.authed, from));
    const handler = HANDLERS[req.type] as (c: RequestContext, r: Request) => Promise<Reply[]>;
    try {
      if (user && (auth.authed === user._id || user.key === undefined)) {
        const writing = this.noteContact(user, req.type, from, auth.authed !== undefined);
        if (writing) await writing;
      }
      const replies = await handler(ctx, req);
      if (req.type === 'DE-REGISTER' && !this.core.directory.get(req.name)) this.core.gone(req.name);
      // How the answer is kept for retransmissions: its type's row in reply-policy.ts.
      const keeping = keepingOf(req, {
        replies: replies.length,
        dialect,
        sealed: ctx.macKey !== undefined,
        elsewhere: ctx.replyTo !== undefined && !sameAddress(ctx.replyTo, from),
        recordedByHandler: recorded.replies !== undefined,
      });
      if (keeping === 'stored') {
        // Stored before it is answered (its retransmission at the other server must not run it again), cached once stored.
        const at = this.recordAnswer(replies, dialect, seal(), recorded);
        await this.persist(key, recorded, at);
        this.host.replies.set(key, replies, at, recorded.wire);
      }
      // A recorded answer's datagrams are the ones sent (encoded and MACed once).
      const wire = recorded.replies === replies && recorded.wire ? recorded.wire : this.host.outbox.encodeReplies(replies, dialect, seal());
      if (keeping === 'memory') this.cacheOf(req.type, replies).set(key, replies, Date.now(), dialect === 'native' ? wire : undefined);
      if (ctx.replyTo) this.host.outbox.sendToUser(ctx.replyTo, wire);
      else this.host.outbox.sendTo(wire, from, 0, !prepaid && !this.provenFor(auth.authed, from));
      count(replies.some(isDenial) ? 'denied' : 'ok');
      this.core.telemetry.took(performance.now() - arrived);
    } catch (err) {
      release();
      // Not answered (store down, lease lost, its record not stored): stay silent so the client retries,
      // possibly at the other server. Losing the lease meanwhile is no failure of this server.
      count('failed');
      if (err instanceof NotServingError) this.core.log.debug({ type: req.type }, 'not answered: the lease moved');
      else {
        this.host.faults.report('request', err, { type: req.type, name: 'name' in req ? req.name : undefined });
      }
      return;
    }
    // Executed and answered: what follows the answer runs in order, in the user's queue still. A failed step
    // stops the rest (texts are not marked received when their answer's record could not be stored).
    for (const step of ctx.afterReply) {
      try {
        await step();
      } catch (err) {
        this.host.faults.report('after-reply', err, { type: req.type });
        break;
      }
    }
  }

  /** Take `replies` as the recorded answer (native: encoded as the datagrams to send); returns when. */
  private recordAnswer(replies: Reply[], dialect: DialectName, seal: Seal, recorded: Recorded): number {
    const at = Date.now();
    recorded.replies = replies;
    recorded.wire = dialect === 'native' ? this.host.outbox.encodeReplies(replies, dialect, seal) : undefined;
    return at;
  }

  /** The answer cached for `key`, for a request that is answered at all. */
  private cachedAnswer(req: HandledRequest, key: string): CachedReply | undefined {
    const policy = policyOf(req.type);
    if (!policy.answered) return undefined;
    const now = Date.now();
    return (policy.brief ? this.host.briefReplies.getEntry(key, now) : undefined) ?? this.host.replies.getEntry(key, now);
  }

  /**
   * Where an answer kept in memory goes: a brief type's (PUBLISH) apart from
   * the rest, unless it is a denial. A denial stays the whole lifetime: a
   * later copy must not be run again, and accepted, against a state that
   * changed since.
   */
  private cacheOf(type: HandledRequest['type'], replies: Reply[]): ReplyCache {
    return policyOf(type).brief && !replies.some(isDenial) ? this.host.briefReplies : this.host.replies;
  }

  /** Store the recorded answer, so the other server answers a retransmission the same way. */
  private persist(key: string, recorded: Recorded, at: number): Promise<void> {
    return this.core.store.saveReply(key, replyRecord(recorded), at);
  }

  /** MAC and counter of a native request; legacy requests are never authenticated. */
  private async authenticate(req: Request, frame: NativeFrame | undefined, user: UserDoc | undefined, key: string): Promise<AuthResult> {
    if (!frame) return { ok: true };
    const auth = this.core.guard.authenticate(frame, user);
    // A PUBLISH whose text is stored already is a retransmission (its record is the text): answered, not refused.
    if (!auth.ok && auth.why !== 'auth' && req.type === 'PUBLISH' && user && (await this.core.store.findTextByReq(key))) {
      const userKey = this.core.guard.userKey(user);
      return userKey ? { ok: true, authed: user._id, key: userKey } : auth;
    }
    return auth;
  }

  /**
   * A request the sender may make about `user` arrived: a legacy user's
   * address held since it was named by a request from elsewhere gets pushes
   * once it speaks itself (within its budget), pushes resume, and a native
   * address still unproven gets its CHALLENGE again (REGISTER and UPDATE
   * send their own, to the address they name).
   */
  private noteContact(user: UserDoc, type: Request['type'], from: Address, authed: boolean): Promise<void> | undefined {
    if (user.key === undefined && user.dialect !== 'native' && !user.addrOk && sameAddress(from, user)) {
      return (async () => {
        this.core.servingEpoch();
        await this.core.store.updateUser(user._id, { addrOk: true });
        const held = { ...user, addrOk: true };
        this.core.directory.set(held);
        this.heardFrom(held, type, authed);
      })();
    }
    // The common case writes nothing: no promise to wait for.
    this.heardFrom(user, type, authed);
    return undefined;
  }

  /**
   * The user spoke: presence, a held push stream resumes, an unproven native
   * address is challenged again. `acked`: the ACK fast path's seq, taken
   * here too (the ACK handler's work), so that each map is looked up once:
   * its user was just found in the directory, and its stream serves both.
   */
  private heardFrom(user: UserDoc, type: Request['type'], authed: boolean, acked?: number): void {
    // Presence (WHO's online flag): only what the user proved, or a legacy user that has no proof to give.
    if (authed || user.key === undefined) this.core.heard(user._id, acked !== undefined || undefined);
    if (!user.addrOk && authed && type !== 'UPDATE' && type !== 'REGISTER') this.core.challenge(user);
    if (acked !== undefined) this.core.delivery.ack(user._id, acked, user.addrOk === true);
    else if (user.addrOk) this.core.delivery.heardFrom(user._id);
  }

  private sendCached(cached: CachedReply, req: Request, dialect: DialectName, to: Address, frame: NativeFrame | undefined): void {
    const ctr = frame?.envelope.ctr;
    const wire = cached.wire ?? this.host.outbox.encodeReplies(cached.replies!, dialect, ctr !== undefined ? { ctr } : {});
    const user = 'name' in req ? this.core.directory.get(req.name) : undefined;
    const verified = frame !== undefined && user !== undefined && this.core.guard.macVerifies(frame, user);
    // A resend whose MAC proves no user is charged like any unauthenticated request (a legacy one was, on arrival).
    if (frame?.mac && !verified && !this.core.guard.unprovenAllowed(to)) return;
    // Uncharged only when the user itself asks again from its proven address (anyone can resend legacy bytes).
    const own = verified && this.provenFor(user!._id, to);
    // A repeated answer in several datagrams starts where the last one was held back, so the client gets every part.
    const stopped = this.host.outbox.sendTo(wire, to, cached.resume ?? 0, !own);
    if (wire.length > 1) cached.resume = stopped % wire.length;
  }

  /**
   * `from` is where native user `name` answered its CHALLENGE (at either
   * server): what that user asks may come back there uncharged. Anything
   * else sent there (others' requests in its name) stays within the budget.
   */
  private provenFor(name: string | undefined, from: Address): boolean {
    const user = name === undefined ? undefined : this.core.directory.get(name);
    return user !== undefined && user.dialect === 'native' && user.addrOk === true && sameAddress(from, user);
  }

  /** Refuse a request before it reaches its handler (it changes nothing). Requests without an RQ# are just dropped. */
  private deny(req: Request, reason: string, dialect: DialectName, to: Address, ctr: number | undefined): void {
    if (!('rq' in req)) return;
    // The denial echoes the request's fields: a native PUBLISH-DENIED with an empty subject would not even decode.
    const denial: Reply = req.type === 'PUBLISH'
      ? { type: 'PUBLISH-DENIED', rq: req.rq, name: req.name, subject: req.subject, text: req.text, reason }
      : req.type === 'SUBJECTS'
        ? { type: 'SUBJECTS-REJECTED', rq: req.rq, name: req.name, subjects: req.subjects, reason }
        : denialFor(req.type, req.rq, 'name' in req ? req.name : '', reason);
    this.host.outbox.sendTo(this.host.outbox.encodeReplies([denial], dialect, ctr !== undefined ? { ctr } : {}), to);
  }
}

/** How a request's native replies are sealed; `proven`: they go back uncharged (provenFor), and say so. */
function sealOf(ctx: RequestContext, proven: boolean): Seal {
  return { ctr: ctx.ctr, key: ctx.macKey, proven };
}
