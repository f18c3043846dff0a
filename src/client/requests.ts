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
import { retransmitWait, sendsToBoth, type RetryPolicy } from './retry';
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

  constructor(private readonly d: ExchangeDeps) {}

  /** Send `body` and resolve with the success reply; DeniedError / TimeoutError otherwise. */
  request(body: RequestBody): Promise<Reply> {
    // Created now, so its stack names the caller rather than a timer callback.
    const timeout = new TimeoutError(`no answer to ${body.type} within ${this.d.policy.exchangeLifetimeMs} ms`);
    if (this.closedError) return Promise.reject(this.closedError);
    const rq = this.d.identity.nextRq((n) => this.pending.has(n));
    const key = 'name' in body ? this.d.keys.get(body.name) : undefined;
    const agreement = body.type === 'REGISTER' && !key ? newAgreementKeys() : undefined;
    const msg = { ...body, rq, ...(agreement ? { pub: agreement.pub } : {}) } as Request;
    const sealed = this.seal(msg, key);
    if (sealed.bytes.length > LIMITS.maxNativeDatagram) {
      return Promise.reject(new InvalidArgumentError(`${body.type} would be ${sealed.bytes.length} bytes, more than one ${LIMITS.maxNativeDatagram}-byte datagram`));
    }
    return new Promise<Reply>((resolve, reject) => {
      const p: Pending = {
        type: body.type,
        msg,
        ...sealed,
        ...(key ? { key } : {}),
        ...(agreement ? { agreement } : {}),
        reseals: 0,
        attempt: 0,
        timeout,
        lifetime: this.d.clock.after(this.d.policy.exchangeLifetimeMs, () => p.settle(timeout)),
        settle: (err, reply) => {
          p.timer?.cancel();
          p.lifetime.cancel();
          this.pending.delete(rq);
          if (err) reject(err);
          else resolve(reply!);
        },
      };
      this.pending.set(rq, p);
      this.d.logger.debug({ rq, type: body.type }, 'request');
      this.transmit(rq, p);
    });
  }

  /** The datagram of `msg`: a fresh ctr, padded unless its user is known to ask from its proven address, MACed with `key` when there is one. */
  private seal(msg: Request, key: Buffer | undefined): { bytes: Buffer; ctr: number } {
    const ctr = this.d.identity.nextCtr();
    const envelope = { cid: this.d.identity.cid, ctr };
    const proven = key !== undefined && 'name' in msg && this.provenUsers.has(msg.name);
    return { bytes: proven ? encodeNative(msg, envelope, key) : encodeNativePadded(msg, envelope, key), ctr };
  }

  private transmit(rq: number, p: Pending): void {
    for (const to of this.d.servers.targets(sendsToBoth(this.d.policy, p.attempt))) this.d.transport.send(p.bytes, to);
    const wait = retransmitWait(this.d.policy, p.attempt, this.d.random);
    p.timer = this.d.clock.after(wait, () => {
      // After the last retransmission's wait, give up even if the lifetime has not run out.
      if (p.attempt >= this.d.policy.maxRetransmit) return p.settle(p.timeout);
      p.attempt++;
      if ('name' in p.msg) this.provenUsers.delete(p.msg.name);
      this.d.logger.debug({ rq, attempt: p.attempt }, 'retransmit');
      this.transmit(rq, p);
    });
  }

  /**
   * Offer a reply from a known server. Returns false (and drops it) when no
   * pending request has its RQ#, the type does not answer that request, or
   * it fails authentication: a success reply to a MACed request (or to a
   * REGISTER, whose reply yields the key) must be MACed with the user key
   * and echo the request's ctr. A denial without a MAC is believed (the
   * server cannot MAC "authentication failed"): a forged one can fail a call,
   * never fake a success.
   */
  accept(frame: NativeFrame): boolean {
    const reply = frame.message as Reply;
    const rq = 'rq' in reply ? reply.rq : undefined;
    const p = rq === undefined ? undefined : this.pending.get(rq);
    if (!p || (reply.type !== 'DENIED' && !EXPECTED[p.type].includes(reply.type))) {
      this.d.logger.debug({ type: reply.type, rq }, 'reply for no pending request dropped');
      return false;
    }
    const denial = isDenial(reply);
    let key = p.key;
    if (p.agreement && reply.type === 'REGISTERED') {
      key = reply.pub === undefined ? undefined : deriveUserKey(p.agreement, reply.pub, p.agreement.pub, reply.pub, reply.name);
      if (!key || reply.name !== (p.msg as { name: string }).name) return this.forged(reply, 'REGISTERED without a usable server key');
    }
    const secured = key !== undefined;
    if (secured && frame.envelope.ctr !== p.ctr) return this.forged(reply, 'reply to another sealing of this request');
    if (secured && (!denial || frame.mac) && !verifyNativeMac(frame, key!)) return this.forged(reply, 'bad MAC');
    if (denial && (reply as { reason?: string }).reason === DENIAL_REASONS.staleCounter && p.reseals < MAX_RESEALS) {
      // Our counter fell behind the server's window (e.g. after a handoff): the request was not executed; seal it afresh.
      p.reseals++;
      Object.assign(p, this.seal(p.msg, p.key));
      for (const to of this.d.servers.targets(false)) this.d.transport.send(p.bytes, to);
      return true;
    }
    if (p.agreement && reply.type === 'REGISTERED') this.d.keys.set(reply.name, key!);
    // Only a MAC we checked vouches for the epoch (an unMACed reply could be anyone's).
    if (secured && frame.mac && frame.envelope.ep !== undefined) this.d.epochSeen?.(frame.envelope.ep);
    if (secured && frame.mac && frame.envelope.pv === 1 && 'name' in p.msg) this.provenUsers.add(p.msg.name);
    if (reply.type === 'RETRIEVED' && reply.parts !== undefined && reply.parts > 1) return this.acceptPart(p, reply);
    p.settle(denial ? new DeniedError(reply as { type: string; reason?: string }) : undefined, reply);
    return true;
  }

  /**
   * One datagram of an answer in several: kept until every part is in, then
   * the answer is their texts in part order. A lost part is recovered by the
   * request's retransmission (the server answers it with the same parts).
   */
  private acceptPart(p: Pending, reply: Extract<Reply, { type: 'RETRIEVED' }>): boolean {
    const parts = reply.parts!;
    const part = reply.part ?? 0;
    if (part >= parts) return this.forged(reply, `part ${part} of ${parts}`);
    const first = p.parts?.values().next().value;
    // A part of another execution (the request ran again elsewhere, e.g. after a crash): the parts held
    // belong to an answer that will never be complete, so assembling starts again from this one.
    if (!p.parts || (first && (first.parts !== parts || first.answer !== reply.answer))) p.parts = new Map();
    p.parts.set(part, reply);
    if (p.parts.size < parts) return true;
    const ordered = [...p.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
    const { part: _part, parts: _parts, answer: _answer, ...head } = ordered[0]!;
    p.settle(undefined, { ...head, texts: ordered.flatMap((r) => r.texts), more: ordered.some((r) => r.more) });
    return true;
  }

  private forged(reply: Reply, why: string): false {
    this.forgedReplies++;
    this.d.logger.debug({ type: reply.type, why }, 'unauthenticated reply dropped');
    return false;
  }


  /** Resend every pending request now (after a CHANGE-SERVER: the new server should not wait for our timers). */
  resendAll(): void {
    for (const p of this.pending.values()) {
      for (const to of this.d.servers.targets(false)) this.d.transport.send(p.bytes, to);
    }
  }

  get size(): number {
    return this.pending.size;
  }

  /** Reject every pending request with RSS_CLOSED and refuse new ones. */
  close(): void {
    this.closedError = new RssError('RSS_CLOSED', 'the client was closed');
    for (const p of [...this.pending.values()]) p.settle(this.closedError);
  }
}
