/**
 * The documents rss keeps in MongoDB. Servers A and B share one database,
 * which is what makes "both servers hold the same information" true by
 * construction.
 */
import type { DialectName, ServerTag } from '../protocol/messages';

/** `users`: one per registered name (`_id`). */
export interface UserDoc {
  _id: string;
  host: string;
  port: number;
  dialect: DialectName;
  subjects: string[];
  /** Native users: the client id that registered the name (only that client may act on it). */
  cid?: string;
  createdAt: number;
}

/** `texts`: one per published text; `_id` is its sequence number in the one total order. */
export interface TextDoc {
  _id: number;
  from: string;
  subject: string;
  text: string;
  at: number;
  /** De-duplication key of the PUBLISH request that created it (unique), so a retransmission never stores twice. */
  req: string;
  /** Lease epoch under which it was written (fencing audit trail). */
  epoch: number;
}

/** `inbox`: a text not yet received by a user that is owed it (native: until acknowledged; pickle: until retrieved). */
export interface InboxDoc {
  user: string;
  seq: number;
}

/** `requests`: the reply to an executed request, so a retransmission is answered without executing again. */
export interface RequestDoc {
  _id: string;
  /** The encoded-independent reply object (a Reply). */
  reply: object;
  at: number;
}

/** `control` `_id: 'lease'`: who serves, under which epoch. */
export interface LeaseDoc {
  _id: 'lease';
  holder: ServerTag;
  epoch: number;
  /** Renewal counter: a standby that sees it stand still for the lease time takes over. */
  beat: number;
  /** Last allocated text sequence number: allocation is fenced by the epoch. */
  seq: number;
}
