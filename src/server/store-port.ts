/**
 * What the server needs of its store, and nothing more: the server owns this
 * interface and sees the store only through it (type-only). store/store.ts
 * implements it over MongoDB; tests implement it in memory. app/ constructs
 * the concrete store and hands it in.
 */
import type { ServerTag } from '../protocol/messages';
import type { ContactDoc, RequestDoc, TextDoc, UserDoc } from '../store/documents';
import type { CursorStore } from './cursors';

export type { CursorWrite } from './cursors';
import type { PeerSecretSource } from './guard';
import type { ContactStore } from './legacy-contacts';
import type { RetentionStore } from './retention';
import type { MemberStore } from './ring';
import type { LeaseStore } from './role';

/** What storeText did: stored this text, or found the same request's text stored before (`stored: false`). */
export interface StoredOutcome {
  stored: boolean;
  text: TextDoc;
}

/** Where a user's owed texts on one subject start: those numbered above `after` (and at most the visible line). */
export interface OwedFrom {
  subject: string;
  after: number;
}


/** A user's replay high-water mark to write at a handoff (`$max`). */
export interface ReplayMarkWrite {
  user: string;
  ctrHigh: number;
}

/**
 * Every store operation server code calls. The narrower ports its parts
 * take (lease, ring beats, contacts, cursors, peer secret, retention) are part of it.
 */
export interface StorePort extends LeaseStore, MemberStore, ContactStore, CursorStore, PeerSecretSource, RetentionStore {
  /** Store calls retried after a transient error (status). */
  readonly retries: number;

  // ---- serving: fencing and sequence numbers
  /** The fence line (null: the lease is not ours); with `block` > 0, line+1 ... line+block are allocated to the caller. */
  fenceSeqs(holder: ServerTag, epoch: number, block?: number): Promise<number | null>;
  fenceOne(seq: number, epoch: number): Promise<TextDoc | null>;
  allocateSeqs(holder: ServerTag, epoch: number, count: number): Promise<number>;
  /** This store's identity (the pair checks it shares one store). */
  storeId(): Promise<string>;

  // ---- users
  countUsers(): Promise<number>;
  loadUsers(): Promise<UserDoc[]>;
  /** Every user's cursor alone (a takeover after a failover reads them first: takeover-state.ts). */
  loadCursors(): Promise<{ _id: string; cursor?: number }[]>;
  insertUser(user: UserDoc): Promise<boolean>;
  updateUser(name: string, set: Partial<Omit<UserDoc, '_id'>>): Promise<boolean>;
  deleteUser(name: string): Promise<boolean>;
  saveReplayMarks(marks: ReplayMarkWrite[]): Promise<void>;

  // ---- texts
  findTextByReq(req: string): Promise<TextDoc | null>;
  storeText(text: TextDoc): Promise<StoredOutcome>;
  owedTexts(from: OwedFrom[], upTo: number, limit: number, exclude?: string): Promise<{ texts: TextDoc[]; more: boolean }>;
  /** The `n` most recent texts on `subjects` (numbered below `before`, when given), oldest first. */
  lastTexts(subjects: string[], n: number, before?: number): Promise<TextDoc[]>;
  countTexts(): Promise<number>;

  // ---- legacy contacts (saving and removing: ContactStore)
  loadContacts(since: number, limit: number): Promise<ContactDoc[]>;
  purgeContacts(before: number): Promise<number>;

  // ---- replies of executed requests
  saveReply(key: string, reply: object, at: number): Promise<void>;
  recentReplies(since: number): Promise<RequestDoc[]>;
  purgeReplies(before: number): Promise<number>;
}
