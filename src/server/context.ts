/**
 * What a request handler sees: the serving server's state and one request's
 * circumstances. Handlers are plain async functions of (context, request)
 * returning the replies, so they are tested without sockets.
 */
import type { DialectName, Push, Reply, Request, RetrievedReply, ServerTag } from '../protocol/messages';
import type { Store } from '../store/store';
import type { UserDoc } from '../store/documents';
import type { Address } from '../transport/types';
import type { Clock } from '../util/clock';
import type { Logger } from '../util/log';
import type { Delivery } from './delivery';
import type { Directory } from './directory';
import type { Sequencer } from './sequencer';

export interface ServerCounters {
  requests: number;
  replies: number;
  duplicates: number;
  malformed: number;
  ignored: number;
  published: number;
  pushes: number;
}

export interface ServerCore {
  readonly tag: ServerTag;
  readonly store: Store;
  readonly directory: Directory;
  readonly delivery: Delivery;
  readonly sequencer: Sequencer;
  readonly clock: Clock;
  readonly log: Logger;
  readonly counters: ServerCounters;
  /** The lease epoch this server serves under; throws NotServingError when it no longer may act. */
  servingEpoch(): number;
  /** Send an unsolicited message to a user in the user's own dialect. */
  push(user: UserDoc, msg: Push): void;
  /** Status fields for operators. */
  status(): Record<string, unknown>;
}

export interface RequestContext {
  readonly core: ServerCore;
  readonly from: Address;
  readonly dialect: DialectName;
  /** Native sender's client id. */
  readonly cid?: string;
  /** De-duplication key of this request. */
  readonly key: string;
  /** How many texts of a RETRIEVED reply fit in one datagram of this dialect. */
  fitRetrieved(reply: RetrievedReply): number;
  /**
   * Record the replies for retransmissions now, before an irreversible step
   * (RETRIEVE-TEXTS records its answer before it marks texts received).
   */
  remember(replies: Reply[]): Promise<void>;
}

export type Handler<T extends Request['type']> = (
  ctx: RequestContext,
  req: Extract<Request, { type: T }>,
) => Promise<Reply[]>;
