/**
 * What a request handler sees: the serving server's state and one request's
 * circumstances. Handlers are plain async functions of (context, request)
 * returning the replies, so they are tested without sockets.
 */
import type { DialectName, Push, Reply, Request, RetrievedReply, RingMember, ServerTag } from '../protocol/messages';
import type { StorePort } from './store-port';
import type { UserDoc } from '../store/documents';
import type { Address } from '../transport/types';
import type { Clock } from '../util/clock';
import type { Logger } from '../util/log';
import type { Cursors } from './cursors';
import type { Delivery } from './delivery';
import type { Directory } from './directory';
import type { Faults } from './faults';
import type { Guard } from './guard';
import type { Sequencer } from './sequencer';
import type { Telemetry } from './telemetry';

export interface ServerCounters {
  requests: number;
  replies: number;
  duplicates: number;
  malformed: number;
  ignored: number;
  published: number;
  pushes: number;
  /** Texts deleted because nobody needs them any more (retention.ts). */
  textsPurged: number;
}

export interface ServerCore {
  readonly tag: ServerTag;
  readonly store: StorePort;
  readonly directory: Directory;
  readonly delivery: Delivery;
  /** Each user's cursor (every text numbered up to it received), written coalesced. */
  readonly cursors: Cursors;
  readonly sequencer: Sequencer;
  readonly clock: Clock;
  readonly log: Logger;
  readonly counters: ServerCounters;
  /** Labelled request counts, durations, takeovers, store errors, recent texts (status, metrics, dashboard). */
  readonly telemetry: Telemetry;
  /** Authentication, rate limits, anti-amplification. */
  readonly guard: Guard;
  /** The servers of a ring, in order (undefined for a pair). */
  readonly ring?: readonly RingMember[] | undefined;
  /** The lease epoch this server serves under; throws NotServingError when it no longer may act. */
  servingEpoch(): number;
  /** Still holding the lease of `epoch` and allowed to act (work begun under it may go on). */
  holds(epoch: number): boolean;
  /**
   * Counts this server's serving terms: it changes whenever the server stops
   * serving, so work begun before a pause can tell that the server resumed
   * the same epoch since (its reply cache was reloaded meanwhile).
   */
  readonly term: number;
  /** Still holding the lease of `epoch`, though maybe not allowed to act this moment (a renewal is late). */
  stillHolds(epoch: number): boolean;
  /** The error channel: failures caught are counted and logged there. */
  readonly faults: Faults;
  /** Send an unsolicited message to a user in the user's own dialect; false when nothing was sent. */
  push(user: UserDoc, msg: Push): boolean;
  /** Send (or re-send, throttled) the CHALLENGE for a native user's unvalidated address. */
  challenge(user: UserDoc): void;
  /** WHO's online flag: heard from within the presence window and not given up on since. */
  online(name: string): boolean;
  /** An authenticated request or ACK from the user was accepted (presence). */
  heard(name: string, known?: boolean): void;
  /** The user is gone (de-registered): forget its presence. */
  gone(name: string): void;
}

export interface RequestContext {
  readonly core: ServerCore;
  readonly from: Address;
  readonly dialect: DialectName;
  /** Native sender's client id. */
  readonly cid?: string;
  /** Native request counter (the replay window has accepted it when `authed` is set). */
  readonly ctr?: number;
  /** The user this native request proved to be (MAC with its key, fresh ctr). */
  readonly authed?: string;
  /** Size of the request datagram (credit for a challenge to the address it names). */
  readonly requestBytes: number;
  /** The key that MACs the native replies (the authenticated user's, or a new user's). */
  macKey?: Buffer;
  /** Send the replies to this user's own address instead of the request's source (within its budget unless validated). */
  replyTo?: UserDoc;
  /**
   * Run after the replies are sent, still in the user's queue (a CHALLENGE
   * must follow REGISTERED, which carries the key it is MACed with; a
   * RETRIEVE-TEXTS marks its texts received once its recorded answer is out).
   */
  readonly afterReply: (() => void | Promise<void>)[];
  /** De-duplication key of this request. */
  readonly key: string;
  /** How many texts of a RETRIEVED reply fit in one datagram of this dialect. */
  fitRetrieved(reply: RetrievedReply): number;
  /**
   * How many RETRIEVED datagrams may answer this request when the client
   * takes `wanted`: 1 in the legacy dialects and unless the request is
   * the MACed user's own, from its proven address (anti-amplification).
   */
  replyParts(wanted: number | undefined): number;
  /** Bytes the answer may take to the request's source now (Infinity when it needs no budget). */
  replyBudget(): number;
  /** The encoded size of `replies` in this request's dialect. */
  replySize(replies: Reply[]): number;
  /** Take `bytes` from the source's budget now for an answer sized to it (sent uncharged): its texts surely go out. */
  prepay(bytes: number): void;
  /**
   * Record the replies for retransmissions: in memory at once, in the store
   * right after they are sent and before any later afterReply step. So
   * RETRIEVE-TEXTS, which marks its texts received in such a step, answers
   * without waiting for the store: a crash before the record leaves the
   * texts owed (a retransmission is executed again and gets them), a crash
   * after it finds the record (the other server answers the same datagrams).
   */
  remember(replies: Reply[]): void;
}

export type Handler<T extends Request['type']> = (
  ctx: RequestContext,
  req: Extract<Request, { type: T }>,
) => Promise<Reply[]>;
