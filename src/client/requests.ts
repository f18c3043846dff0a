/**
 * Request/response exchanges over UDP: numbering, retransmission of the
 * identical bytes under the RetryPolicy, matching replies to pending RQ#s,
 * and the timeout. Knows nothing of what the requests mean.
 */
import { DeniedError, RssError, TimeoutError } from '../errors';
import { isDenial, type Reply, type ReplyType, type Request } from '../protocol/messages';
import { encodeNative } from '../protocol/native';
import type { Transport } from '../transport/types';
import type { Clock, TimerHandle } from '../util/clock';
import type { Logger } from '../util/log';
import type { ClientIdentity } from './identity';
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
};

interface Pending {
  type: RequestBody['type'];
  bytes: Buffer;
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
}

/** The table of pending exchanges of one client. */
export class Exchanges {
  private readonly pending = new Map<number, Pending>();
  private closedError: RssError | undefined;

  constructor(private readonly d: ExchangeDeps) {}

  /** Send `body` and resolve with the success reply; DeniedError / TimeoutError otherwise. */
  request(body: RequestBody): Promise<Reply> {
    // Created now, so its stack names the caller rather than a timer callback.
    const timeout = new TimeoutError(`no answer to ${body.type} within ${this.d.policy.exchangeLifetimeMs} ms`);
    if (this.closedError) return Promise.reject(this.closedError);
    const rq = this.d.identity.nextRq((n) => this.pending.has(n));
    const bytes = encodeNative({ ...body, rq } as Request, { cid: this.d.identity.cid, ctr: this.d.identity.nextCtr() });
    return new Promise<Reply>((resolve, reject) => {
      const p: Pending = {
        type: body.type,
        bytes,
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

  private transmit(rq: number, p: Pending): void {
    for (const to of this.d.servers.targets(sendsToBoth(this.d.policy, p.attempt))) this.d.transport.send(p.bytes, to);
    const wait = retransmitWait(this.d.policy, p.attempt, this.d.random);
    p.timer = this.d.clock.after(wait, () => {
      // After the last retransmission's wait, give up even if the lifetime has not run out.
      if (p.attempt >= this.d.policy.maxRetransmit) return p.settle(p.timeout);
      p.attempt++;
      this.d.logger.debug({ rq, attempt: p.attempt }, 'retransmit');
      this.transmit(rq, p);
    });
  }

  /**
   * Offer a reply from a known server. Returns false (and drops it) when no
   * pending request has its RQ# or the type does not answer that request.
   */
  accept(reply: Reply): boolean {
    const rq = 'rq' in reply ? reply.rq : undefined;
    const p = rq === undefined ? undefined : this.pending.get(rq);
    if (!p || (reply.type !== 'DENIED' && !EXPECTED[p.type].includes(reply.type))) {
      this.d.logger.debug({ type: reply.type, rq }, 'reply for no pending request dropped');
      return false;
    }
    p.settle(isDenial(reply) ? new DeniedError(reply as { type: string; reason?: string }) : undefined, reply);
    return true;
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
