/**
 * Data access for rss, through the official MongoDB driver only. Works the
 * same against the embedded engine, mongodb-memory-server and a replica set.
 * Every method is one logical operation; the server decides when to call it.
 */
import { randomBytes } from 'node:crypto';
import { MongoBulkWriteError, MongoClient, type Collection, type Db } from 'mongodb';
import { NotServingError, StorageError } from '../errors';
import type { ServerTag } from '../protocol/messages';
import type { InboxDoc, LeaseDoc, RequestDoc, TextDoc, UserDoc } from './documents';

export interface StoreOptions {
  uri: string;
  /** Database name (default "rss"). Tests use a fresh one each. */
  dbName?: string;
}

const DUPLICATE_KEY = 11000;

/** True when `err` is MongoDB's duplicate key error (for a bulk write: when every write error is one). */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: { code?: number }[] } | undefined;
  // A bulk write's `code` is only its first write error's; a bulk write with no
  // write errors failed on its write concern, which is no duplicate.
  if (e?.writeErrors && e.writeErrors.length > 0) return e.writeErrors.every((w) => w.code === DUPLICATE_KEY);
  if (err instanceof MongoBulkWriteError || e?.writeErrors) return false;
  return e?.code === DUPLICATE_KEY;
}

export class Store {
  readonly users: Collection<UserDoc>;
  readonly texts: Collection<TextDoc>;
  readonly inbox: Collection<InboxDoc>;
  readonly requests: Collection<RequestDoc>;
  readonly control: Collection<LeaseDoc>;

  private constructor(
    private readonly client: MongoClient,
    readonly db: Db,
  ) {
    this.users = db.collection<UserDoc>('users');
    this.texts = db.collection<TextDoc>('texts');
    this.inbox = db.collection<InboxDoc>('inbox');
    this.requests = db.collection<RequestDoc>('requests');
    this.control = db.collection<LeaseDoc>('control');
  }

  /** Connect and make sure the indexes rss relies on exist. */
  static async open(opts: StoreOptions): Promise<Store> {
    const client = new MongoClient(opts.uri, { serverSelectionTimeoutMS: 5000, connectTimeoutMS: 5000 });
    try {
      await client.connect();
      const store = new Store(client, client.db(opts.dbName ?? 'rss'));
      await store.ensureIndexes();
      return store;
    } catch (err) {
      await client.close().catch(() => {});
      throw new StorageError(`cannot reach the store at ${redact(opts.uri)}: ${(err as Error).message}`, { cause: err });
    }
  }

  private async ensureIndexes(): Promise<void> {
    await this.texts.createIndex({ req: 1 }, { unique: true, name: 'req_unique' });
    await this.texts.createIndex({ subject: 1, _id: -1 }, { name: 'subject_seq' });
    await this.inbox.createIndex({ user: 1, seq: 1 }, { unique: true, name: 'user_seq' });
    await this.requests.createIndex({ at: 1 }, { name: 'at' });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  // ---- lease (serving role) -------------------------------------------

  async readLease(): Promise<LeaseDoc | null> {
    return this.control.findOne({ _id: 'lease' });
  }

  /** Create the first lease for `holder` if none exists; returns the lease in force either way. */
  async initLease(holder: ServerTag): Promise<LeaseDoc> {
    try {
      await this.control.insertOne({ _id: 'lease', holder, epoch: 1, beat: 0, seq: 0 });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    return (await this.readLease())!;
  }

  /** Renew: only the holder of `epoch` can; false means the lease is lost. */
  async renewLease(holder: ServerTag, epoch: number): Promise<boolean> {
    const r = await this.control.updateOne({ _id: 'lease', holder, epoch }, { $inc: { beat: 1 } });
    return r.matchedCount === 1;
  }

  /**
   * Move the lease from `from` (at `epoch`) to `to` at epoch+1. Used both for
   * a planned handoff and for a takeover after the holder went silent (then
   * `beat` must still be the value the standby watched, so two standbys or a
   * late renewal cannot both win).
   */
  async moveLease(from: ServerTag, epoch: number, to: ServerTag, beat?: number): Promise<LeaseDoc | null> {
    const filter: Record<string, unknown> = { _id: 'lease', holder: from, epoch };
    if (beat !== undefined) filter.beat = beat;
    return this.control.findOneAndUpdate(
      filter as { _id: 'lease' },
      { $set: { holder: to, beat: 0 }, $inc: { epoch: 1 } },
      { returnDocument: 'after' },
    );
  }

  /** Allocate `count` text sequence numbers; fenced: fails with NotServingError once `epoch` is over. */
  async allocateSeqs(holder: ServerTag, epoch: number, count: number): Promise<number> {
    const lease = await this.control.findOneAndUpdate(
      { _id: 'lease', holder, epoch },
      { $inc: { seq: count } },
      { returnDocument: 'after' },
    );
    if (!lease) throw new NotServingError(`lease epoch ${epoch} is over`);
    return lease.seq - count + 1;
  }

  /**
   * The peer secret shared by A and B when none is configured: created once,
   * at random, in `control` (both servers share the store, so both read the
   * same one).
   */
  async peerSecret(): Promise<string> {
    const control = this.db.collection<{ _id: string; secret: string }>('control');
    try {
      await control.insertOne({ _id: 'peer-secret', secret: randomBytes(32).toString('base64url') });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const doc = await control.findOne({ _id: 'peer-secret' });
    if (!doc) throw new StorageError('peer secret missing from the store');
    return doc.secret;
  }

  // ---- users --------------------------------------------------------------

  async loadUsers(): Promise<UserDoc[]> {
    return this.users.find({}).toArray();
  }

  /** Insert a new user; false when the name is taken. */
  async insertUser(user: UserDoc): Promise<boolean> {
    try {
      await this.users.insertOne(user);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async updateUser(name: string, set: Partial<Omit<UserDoc, '_id'>>): Promise<boolean> {
    const r = await this.users.updateOne({ _id: name }, { $set: set });
    return r.matchedCount === 1;
  }

  /** Remove the user and everything about it (its pending texts). Its published texts stay: others received them. */
  async deleteUser(name: string): Promise<boolean> {
    const r = await this.users.deleteOne({ _id: name });
    await this.clearInbox(name);
    return r.deletedCount === 1;
  }

  /** Forget every text owed to `name` (de-registered, or a new user taking a name whose old rows survived a crash). */
  async clearInbox(name: string): Promise<void> {
    await this.inbox.deleteMany({ user: name });
  }

  // ---- texts and deliveries ---------------------------------------------------

  async findTextByReq(req: string): Promise<TextDoc | null> {
    return this.texts.findOne({ req });
  }

  /**
   * Store a text and the deliveries owed for it; idempotent (a retry after a
   * crash re-inserts only what is missing). Resolves once both are stored.
   */
  async insertText(text: TextDoc, owed: string[]): Promise<void> {
    await this.addInbox(owed.map((user) => ({ user, seq: text._id })));
    try {
      await this.texts.insertOne(text);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /** Insert deliveries, ignoring those already present. */
  async addInbox(entries: InboxDoc[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      await this.inbox.insertMany(entries, { ordered: false });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /** The oldest `limit` texts owed to `user`, in sequence order (a missing text is skipped). */
  async pendingTexts(user: string, limit: number): Promise<{ texts: TextDoc[]; more: boolean; missing: number[] }> {
    const owed = await this.inbox.find({ user }).sort({ seq: 1 }).limit(limit + 1).toArray();
    const more = owed.length > limit;
    const seqs = owed.slice(0, limit).map((o) => o.seq);
    const texts = seqs.length === 0 ? [] : await this.texts.find({ _id: { $in: seqs } }).sort({ _id: 1 }).toArray();
    // Owed texts not (yet) stored: in progress, or orphans of a crash between the two inserts of insertText.
    const found = new Set(texts.map((t) => t._id));
    return { texts, more, missing: seqs.filter((s) => !found.has(s)) };
  }

  /** Mark texts as received by `user`. */
  async removeInbox(user: string, seqs: number[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.inbox.deleteMany({ user, seq: { $in: seqs } });
  }

  /** The `n` most recent texts on `subjects`, oldest first. */
  async lastTexts(subjects: string[], n: number): Promise<TextDoc[]> {
    if (subjects.length === 0 || n === 0) return [];
    const newest = await this.texts.find({ subject: { $in: subjects } }).sort({ _id: -1 }).limit(n).toArray();
    return newest.reverse();
  }

  async countTexts(): Promise<number> {
    return this.texts.estimatedDocumentCount();
  }

  // ---- replies of executed requests ----------------------------------------------

  async saveReply(key: string, reply: object, at: number): Promise<void> {
    await this.requests.updateOne({ _id: key }, { $set: { reply, at } }, { upsert: true });
  }

  async recentReplies(since: number): Promise<RequestDoc[]> {
    return this.requests.find({ at: { $gte: since } }).toArray();
  }

  async purgeReplies(before: number): Promise<number> {
    const r = await this.requests.deleteMany({ at: { $lt: before } });
    return r.deletedCount;
  }
}

/** The URI without its password, for messages. */
export function redact(uri: string): string {
  return uri.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
