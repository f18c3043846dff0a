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
  /**
   * Authenticated native users: the user key agreed at REGISTER, wrapped
   * (AES-256-GCM under a key derived from the peer secret, the name as
   * associated data) — never stored in plain form.
   */
  key?: string;
  /** The address (host, port) has proved that it receives: pushes may go there. */
  addrOk?: boolean;
  /** The pending CHALLENGE nonce for the current address (native, until answered). */
  nonce?: string;
  /** Replay high-water mark: the highest request ctr accepted for this user (persisted with user writes and at handoff). */
  ctrHigh?: number;
  /**
   * Every text numbered up to here has been received by the user (or was
   * never owed to it): received in order, so one number says it all. Only
   * goes up (`$max`); written coalesced (server/cursors.ts).
   */
  cursor?: number;
  /**
   * Per current subject, the highest sequence number issued when the user
   * added it: texts on it numbered above are owed, those at or below never
   * were. Kept for kept subjects, dropped with dropped ones. An array, not
   * an object keyed by subject: subjects may hold '.', which a field path
   * cannot.
   */
  since?: SubjectSince[];
}

/** One entry of UserDoc.since. */
export interface SubjectSince {
  subject: string;
  seq: number;
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
  /**
   * A fence, not a text: it holds a number an earlier holder allocated but
   * had not stored when the lease moved, so that holder can never store it
   * (Store.fenceSeqs). Empty from, subject and text.
   */
  fenced?: true;
}

/** `requests`: the reply to an executed request, so a retransmission is answered without executing again. */
export interface RequestDoc {
  _id: string;
  /** The encoded-independent reply object (a Reply). */
  reply: object;
  at: number;
}

/**
 * `contacts`: a legacy client (canonical text or pickle) heard at an
 * address, registered or not, so every CHANGE-SERVER reaches it.
 */
export interface ContactDoc {
  /** addressKey of (host, port). */
  _id: string;
  host: string;
  port: number;
  dialect: 'text' | 'pickle';
  /** Last heard from, ms since the epoch (the entry expires some time after). */
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
  /** Every number up to this one has its text or a fence document, or can never be stored (absent: 0). */
  fence?: number;
  /** How many fence documents `texts` holds (so the count of texts can leave them out). */
  fenced?: number;
}

/** `control` `_id: 'member:NAME'`: a ring member's heartbeat counter (rings of servers only). */
export interface MemberBeatDoc {
  _id: string;
  beat: number;
}

export const MEMBER_PREFIX = 'member:';

export function memberId(name: string): string {
  return `${MEMBER_PREFIX}${name}`;
}

/** `control` `_id: 'retention'`: "every text numbered up to `line` was stored by `at`", for how old texts are (server/retention.ts). */
export interface RetentionDoc {
  _id: 'retention';
  marks: { at: number; line: number }[];
}

/** `control` `_id: 'schema'`: the data model this store holds (absent: the first one, with an `inbox` collection). */
export interface SchemaDoc {
  _id: 'schema';
  version: number;
}

/** The data model written by this version: texts owed are read from the log by each user's cursor (no inbox). */
export const SCHEMA_VERSION = 2;
