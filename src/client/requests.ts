/**
 * Request/response exchanges over UDP: numbering, sealing (MAC with the
 * user's key, a fresh ctr, padding), retransmission of the identical bytes
 * under the RetryPolicy, matching replies to pending RQ#s — a success reply
 * to a MACed request must carry a valid MAC and echo the request's ctr — and
 * the timeout. REGISTER of a name this client holds no key for carries a
 * fresh X25519 public key, and its REGISTERED yields the user key.
 */
import { DeniedError, InvalidArgumentError, RssError, TimeoutError } from '../errors';
import { deriveUserKey, newAgreementKeys, type AgreementKeys } from '../protocol/auth';
import { LIMITS } from '../protocol/limits';
import { DENIAL_REASONS, isDenial, type Reply, type ReplyType, type Request } from '../protocol/messages';
import { encodeNative, encodeNativePadded, verifyNativeMac, type NativeFrame } from '../protocol/native';
import type { Transport } from '../transport/types';
import type { Clock, TimerHandle } from '../util/clock';
import type { Logger } from '../util/log';
import type { ClientIdentity } from './identity';
import type { KeyRing } from './keys';
import { RoundTrips } from '../util/round-trips';
import { firstWait, retransmitWait, sendsToBoth, type RetryPolicy } from './retry';
import type { ServerBook } from './servers';

type Distribute<T> = T extends unknown ? Omit<T, 'rq'> : never;
/** A request that carries an RQ#, before the RQ# is assigned. */
export type RequestBody = Distribute<Extract<Request, { rq: number }>>;

/** The replies that may answer each request type (DENIED answers any). */
const EXPECTED: Record<RequestBody['type'], readonly ReplyType[]> = {
  REGISTER: ['REGISTERED', 'REGISTER-DENIED'],
  'DE-REGISTER': ['DE-REGISTERED', 'DE-REGISTER-DENIED'],
  UPDATE: ['UPDATE-CONFIRMED', 'UPDATE-DENIED'],
  SUBJECTS: ['SUBJECTS-UPDATED', 'SUBJECTS-REJECTED'],
  PUBLISH: ['PUBLISHED', 'PUBLISH-DENIED'],
  'RETRIEVE-TEXTS': ['RETRIEVED', 'RETRIEVE-DENIED'],
  'END-CONNECTION': ['END-CONNECTION-OK'],
  WHO: ['WHO-LIST', 'WHO-DENIED'],
  STATUS: ['STATUS-REPORT'],
  ECHO: ['ECHOED'],
};

/** How many times a request refused for a stale counter is sealed again with a fresh one. */
const MAX_RESEALS = 3;

interface Pending {
  type: RequestBody['type'];
  msg: Request;
  bytes: Buffer;
  /** The ctr the bytes carry (a reply echoes it). */
  ctr: number;
  /** The user key the request is MACed with. */
  key?: Buffer;
  /** A REGISTER's key pair, until its REGISTERED gives the user key. */
  agreement?: AgreementKeys;
  reseals: number;
  /** The datagrams of an answer in several parts, by part number, until all are in. */
  parts?: Map<number, Extract<Reply, { type: 'RETRIEVED' }>>;
  attempt: number;
  /** When it was first sent (clock ms): its round trip, when answered on that transmission alone. */
  sentAt: number;
  /** Sent again beyond its retransmissions (resendAll after a CHANGE-SERVER): an answer could be to either copy. */
  resent: boolean;
  /** The wait after its first transmission, before jitter (firstWait of the round trips measured then). */
  firstWait: number;
  timeout: TimeoutError;
  timer?: TimerHandle;
  lifetime: TimerHandle;
  settle(err: Error | undefined, reply?: Reply): void;
}

export interface ExchangeDeps {
  transport: Transport;
  clock: Clock;
  policy: RetryPolicy;
  random: () => number;
  logger: Logger;
  identity: ClientIdentity;
  servers: ServerBook;
  keys: KeyRing;
  /** A reply MACed with a user key carried the server's lease epoch. */
  epochSeen?(epoch: number): void;
}

/** The table of pending exchanges of one client. */
export class Exchanges {
  private readonly pending = new Map<number, Pending>();
  private closedError: RssError | undefined;
  /** Replies dropped because they failed authentication. */
  forgedReplies = 0;
  /**
   * Users whose MACed reply said they asked from their proven address
   * (`pv`): their requests go unpadded, as the answers to them are not
   * charged to a budget. A user's padding comes back after any
   * retransmission of its requests (an answer may have been held back by a
   * budget, e.g. after the address changed).
   */
  readonly provenUsers = new Set<string>();
  /** The round trips of this client's exchanges: how long a first transmission waits for its answer. */
  readonly roundTrips = new RoundTrips();

  constructor(private readonly deps: ExchangeDeps) {}

  /**
   * Send `body` and resolve with the success reply; DeniedError / TimeoutError otherwise.
   * `freshKey`: a REGISTER agrees a new key even though one is held for the name (the servers forgot it).
   */
  request(body: RequestBody, opts: { freshKey?: boolean } = {}): Promise<Reply> {
    // Created now, so its stack names the caller rather than a timer callback.
    const timeout = new TimeoutError(`no answer to ${body.type} within ${this.deps.policy.exchangeLifetimeMs} ms`);
    if (this.closedError) return Promise.reject(this.closedError);
    const rq = this.deps.identity.nextRq((candidate) => this.pending.has(candidate));
    const key = 'name' in body && !(opts.freshKey && body.type === 'REGISTER') ? this.deps.keys.get(body.name) : undefined;
    const agreement = body.type === 'REGISTER' && !key ? newAgreementKeys() : undefined;
    const msg = { ...body, rq, ...(agreement ? { pub: agreement.pub } : {}) } as Request;
    const sealed = this.seal(msg, key);
    if (sealed.bytes.length > LIMITS.maxNativeDatagram) {
      return Promise.reject(new InvalidArgumentError(`${body.type} would be ${sealed.bytes.length} bytes, more than one ${LIMITS.maxNativeDatagram}-byte datagram`));
    }
    return new Promise<Reply>((resolve, reject) => {
      const pending: Pending = {
        type: body.type,
        msg,
        ...sealed,
        ...(key ? { key } : {}),
        ...(agreement ? { agreement } : {}),
        reseals: 0,
        attempt: 0,
        sentAt: this.deps.clock.now(),
        resent: false,
        firstWait: firstWait(this.roundTrips, this.deps.policy),
        timeout,
        lifetime: this.deps.clock.after(this.deps.policy.exchangeLifetimeMs, () => pending.settle(timeout)),
        settle: (err, reply) => {
          pending.timer?.cancel();
          pending.lifetime.cancel();
          this.pending.delete(rq);
          // Karn's rule: an answer after a retransmission, a resealing or a resend could be to either copy.
          if (reply && this.sentOnce(pending)) this.roundTrips.sample(this.deps.clock.now() - pending.sentAt);
          if (err) reject(err);
          else resolve(reply!);
        },
      };
      this.pending.set(rq, pending);
      this.deps.logger.debug({ rq, type: body.type }, 'request');
      this.transmit(rq, pending);
    });
  }

  /** The datagram of `msg`: a fresh ctr, padded unless its user is known to ask from its proven address, MACed with `key` when there is one. */
  private seal(msg: Request, key: Buffer | undefined): { bytes: Buffer; ctr: number } {
    const ctr = this.deps.identity.nextCtr();
    const envelope = { cid: this.deps.identity.cid, ctr };
    const proven = key !== undefined && 'name' in msg && this.provenUsers.has(msg.name);
    return { bytes: proven ? encodeNative(msg, envelope, key) : encodeNativePadded(msg, envelope, key), ctr };
  }

  /** Its bytes went out once only (no retransmission, resealing or resend). */
  private sentOnce(pending: Pending): boolean {
    return pending.attempt === 0 && pending.reseals === 0 && !pending.resent;
  }

  private transmit(rq: number, pending: Pending): void {
    const both = sendsToBoth(this.deps.policy, pending.attempt, this.deps.clock.now() - pending.sentAt);
    for (const to of this.deps.servers.targets(both)) this.deps.transport.send(pending.bytes, to);
    const wait = retransmitWait(this.deps.policy, pending.attempt, this.deps.random, pending.firstWait);
    pending.timer = this.deps.clock.after(wait, () => {
      // Only a first wait that ran out with nothing heard says the waits are short (a stale-counter denial was an answer).
      if (this.sentOnce(pending)) this.roundTrips.ranOut(pending.firstWait);
      // After the last retransmission's wait, give up even if the lifetime has not run out.
      if (pending.attempt >= this.deps.policy.maxRetransmit) return pending.settle(pending.timeout);
      pending.attempt++;
      if ('name' in pending.msg) this.provenUsers.delete(pending.msg.name);
      this.deps.logger.debug({ rq, attempt: pending.attempt }, 'retransmit');
      this.transmit(rq, pending);
    });
  }

  /**
   * Offer a reply from a known server. Returns false (and drops it) when no
   * pending request has its RQ#, the type does not answer that request, or
   * it fails authentication. The rules, in order:
   *
   * 1. `pendingFor`: a pending request with its RQ# that this type answers;
   * 2. `authenticate`: a success reply to a MACed request (or to a REGISTER,
   *    whose reply yields the key) must be MACed with the user key and echo
   *    the request's ctr; a denial without a MAC is believed (the server
   *    cannot MAC "authentication failed"): a forged one can fail a call,
   *    never fake a success;
   * 3. `resealIfStale`: a denial for a stale counter sends the request again
   *    under a fresh one (a few times);
   * 4. `learn`: what a checked MAC vouches for: a new user key, the epoch,
   *    the user's proven address;
   * 5. an answer in several parts waits for all of them (`acceptPart`);
   *    anything else settles the call.
   */
  accept(frame: NativeFrame): boolean {
    const reply = frame.message as Reply;
    const pending = this.pendingFor(reply);
    if (!pending) {
      this.deps.logger.debug({ type: reply.type, rq: 'rq' in reply ? reply.rq : undefined }, 'reply for no pending request dropped');
      return false;
    }
    const checked = this.authenticate(frame, pending);
    if ('refused' in checked) return this.forged(reply, checked.refused);
    if (this.resealIfStale(pending, reply)) return true;
    this.learn(frame, pending, checked.key);
    if (reply.type === 'RETRIEVED' && reply.parts !== undefined && reply.parts > 1) return this.acceptPart(pending, reply);
    pending.settle(isDenial(reply) ? new DeniedError(reply as { type: string; reason?: string }) : undefined, reply);
    return true;
  }

  /** The pending request `reply` answers: its RQ# is pending and its type answers that request (DENIED answers any). */
  private pendingFor(reply: Reply): Pending | undefined {
    const pending = 'rq' in reply ? this.pending.get(reply.rq) : undefined;
    if (!pending || (reply.type !== 'DENIED' && !EXPECTED[pending.type].includes(reply.type))) return undefined;
    return pending;
  }

  /**
   * The key the reply must be MACed with (undefined: the exchange is not
   * secured, nothing to check), or why it is refused. A REGISTERED for a
   * key agreement brings the key itself: the user key derived from the
   * server's public key, for the name asked.
   */
  private authenticate(frame: NativeFrame, pending: Pending): { key?: Buffer } | { refused: string } {
    const reply = frame.message as Reply;
    let key = pending.key;
    if (pending.agreement && reply.type === 'REGISTERED') {
      const { agreement } = pending;
      key = reply.pub === undefined ? undefined : deriveUserKey(agreement, reply.pub, agreement.pub, reply.pub, reply.name);
      if (!key || reply.name !== (pending.msg as { name: string }).name) return { refused: 'REGISTERED without a usable server key' };
    }
    if (key === undefined) return {};
    if (frame.envelope.ctr !== pending.ctr) return { refused: 'reply to another sealing of this request' };
    if ((!isDenial(reply) || frame.mac) && !verifyNativeMac(frame, key)) return { refused: 'bad MAC' };
    return { key };
  }

  /**
   * A denial for a stale counter: our counter fell behind the server's
   * window (e.g. after a handoff), so the request was not executed. It is
   * sealed afresh and sent again, up to MAX_RESEALS times; true when it was.
   */
  private resealIfStale(pending: Pending, reply: Reply): boolean {
    if (!isDenial(reply) || (reply as { reason?: string }).reason !== DENIAL_REASONS.staleCounter) return false;
    if (pending.reseals >= MAX_RESEALS) return false;
    pending.reseals++;
    Object.assign(pending, this.seal(pending.msg, pending.key));
    for (const to of this.deps.servers.targets(false)) this.deps.transport.send(pending.bytes, to);
    return true;
  }

  /**
   * What a MAC we checked vouches for (an unMACed reply could be anyone's):
   * the user key a REGISTERED agreed, the server's lease epoch, and that the
   * user asked from its proven address (`pv`: its requests go unpadded).
   */
  private learn(frame: NativeFrame, pending: Pending, key: Buffer | undefined): void {
    if (key === undefined || !frame.mac) return;
    const reply = frame.message as Reply;
    if (pending.agreement && reply.type === 'REGISTERED') this.deps.keys.set(reply.name, key);
    if (frame.envelope.ep !== undefined) this.deps.epochSeen?.(frame.envelope.ep);
    if (frame.envelope.pv === 1 && 'name' in pending.msg) this.provenUsers.add(pending.msg.name);
  }

  /**
   * One datagram of an answer in several: kept until every part is in, then
   * the answer is their texts in part order. A lost part is recovered by the
   * request's retransmission (the server answers it with the same parts).
   */
  private acceptPart(pending: Pending, reply: Extract<Reply, { type: 'RETRIEVED' }>): boolean {
    const parts = reply.parts!;
    const part = reply.part ?? 0;
    if (part >= parts) return this.forged(reply, `part ${part} of ${parts}`);
    const first = pending.parts?.values().next().value;
    // A part of another execution (the request ran again elsewhere, e.g. after a crash): the parts held
    // belong to an answer that will never be complete, so assembling starts again from this one.
    if (!pending.parts || (first && (first.parts !== parts || first.answer !== reply.answer))) pending.parts = new Map();
    pending.parts.set(part, reply);
    if (pending.parts.size < parts) return true;
    const ordered = [...pending.parts.entries()].sort(([left], [right]) => left - right).map(([, datagram]) => datagram);
    const { part: _part, parts: _parts, answer: _answer, ...head } = ordered[0]!;
    pending.settle(undefined, { ...head, texts: ordered.flatMap((datagram) => datagram.texts), more: ordered.some((datagram) => datagram.more) });
    return true;
  }

  private forged(reply: Reply, why: string): false {
    this.forgedReplies++;
    this.deps.logger.debug({ type: reply.type, why }, 'unauthenticated reply dropped');
    return false;
  }

  /** Resend every pending request now (after a CHANGE-SERVER: the new server should not wait for our timers). */
  resendAll(): void {
    for (const pending of this.pending.values()) {
      pending.resent = true;
      for (const to of this.deps.servers.targets(false)) this.deps.transport.send(pending.bytes, to);
    }
  }

  get size(): number {
    return this.pending.size;
  }

  /** Reject every pending request with RSS_CLOSED and refuse new ones. */
  close(): void {
    this.closedError = new RssError('RSS_CLOSED', 'the client was closed');
    for (const pending of [...this.pending.values()]) pending.settle(this.closedError);
  }
}
