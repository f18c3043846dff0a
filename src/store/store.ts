/**
 * Data access for rss, through the official MongoDB driver only. Works the
 * same against the embedded engine, mongodb-memory-server and a replica set.
 * Every method is one logical operation; the server decides when to call it.
 */
import { randomBytes } from 'node:crypto';
import { MongoBulkWriteError, MongoClient, type Collection, type Db } from 'mongodb';
import { FencedError, NotServingError, StorageError } from '../errors';
import type { ServerTag } from '../protocol/messages';
import { MEMBER_PREFIX, memberId, type ContactDoc, type LeaseDoc, type MemberBeatDoc, type RequestDoc, type RetentionDoc, type TextDoc, type UserDoc } from './documents';
import { migrateToLog, readSchemaMarker, type MigrationReport } from './migrate';
import { GroupCommit } from './group';
import { defaultRetryPolicy, withRetry, type RetryPolicy } from './retry';
// The port the server declares (what it needs of a store), and its value types.
import type { CursorWrite, OwedFrom, ReplayMarkWrite, StoredOutcome, StorePort } from '../server/store-port';
import type { RetentionMark } from '../server/retention';


export interface StoreOptions {
  uri: string;
  /** Database name (default "rss"). Tests use a fresh one each. */
  dbName?: string;
  /** How store calls are retried on transient errors (default: defaultRetryPolicy()). */
  retry?: RetryPolicy;
  /**
   * Connections kept open even while idle (the driver's minPoolSize). None by
   * default: a store opened for one job opens what it uses. A server, which
   * starts as standby, asks for STANDBY_CONNECTIONS.
   */
  warmConnections?: number;
}

/**
 * Groups of publishes written at once by default. One: with the embedded
 * engine in the server's process, more groups in flight made smaller groups
 * (more commands, more CPU per publish) and a worse tail near saturation,
 * with no gain below it (docs/BENCHMARKS.md, "writes in flight").
 */
export const TEXT_WRITES_IN_FLIGHT = 1;
/**
 * How long a small group of texts waits for others under steady traffic
 * (GroupCommit's linger): at 4,700 publishes/s it makes groups of about ten
 * instead of one or two, and the server's CPU per publish falls from 233 to
 * about 165 µs (1 ms: 171 µs; 4 ms: 144 µs but a median answer 2 ms later).
 * The median answer stays about 1.4 ms; a quiet server never waits.
 */
export const TEXT_WRITE_LINGER_MS = 2;

/**
 * Driver timeouts: an unreachable store fails a call within about two
 * seconds instead of thirty, and a connection that went silent (a
 * blackholed network) fails after five instead of never. A call waiting
 * for a connection of the pool gives up after two (the driver's default
 * waits for good). rss's own calls are all short.
 */
const DRIVER_TIMEOUTS = { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000, socketTimeoutMS: 5000, waitQueueTimeoutMS: 2000, heartbeatFrequencyMS: 1000 };

/**
 * Connections a standby keeps open even while idle (StoreOptions.warmConnections).
 * A standby makes one lease read at a time, so it would hold a single
 * connection; at a takeover it sends its renewal, the fence and three reads
 * at once, and each would first open a connection of its own (measured: the
 * first takeover of a process took 20–40 ms more, on a loaded machine, than
 * the later ones).
 */
export const STANDBY_CONNECTIONS = 8;

/** The `req` of a fence document: it takes a text number no text may take any more (see fenceSeqs). */
const FENCE_REQ = 'fence:';

/** A fence document: it takes number `seq`, so no text can be stored under it any more (no subject: never owed). */
function fenceDoc(seq: number, epoch: number): TextDoc {
  return { _id: seq, from: '', subject: '', text: '', at: Date.now(), req: `${FENCE_REQ}${seq}`, epoch, fenced: true };
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

export class Store implements StorePort {
  private readonly users: Collection<UserDoc>;
  private readonly texts: Collection<TextDoc>;
  private readonly requests: Collection<RequestDoc>;
  private readonly control: Collection<LeaseDoc>;
  private readonly contacts: Collection<ContactDoc>;
  /** The `control` document of retention's marks. */
  private readonly retention: Collection<RetentionDoc>;
  /** Publishes written together: one texts insert command per group, whatever their fan-out. */
  private readonly textWrites: GroupCommit<TextDoc, StoredOutcome>;
  /** Store calls retried after a transient error (each retry counted once). */
  retries = 0;

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    private readonly retryPolicy: RetryPolicy = defaultRetryPolicy(),
  ) {
    // Each group is fenced and idempotent on its own (unique _id and request key), so groups need no order among them.
    this.textWrites = new GroupCommit((items) => this.retrying(() => this.writeTexts(items)), { maxInFlight: TEXT_WRITES_IN_FLIGHT, linger: TEXT_WRITE_LINGER_MS });
    this.users = db.collection<UserDoc>('users');
    this.texts = db.collection<TextDoc>('texts');
    this.requests = db.collection<RequestDoc>('requests');
    this.control = db.collection<LeaseDoc>('control');
    this.contacts = db.collection<ContactDoc>('contacts');
    this.retention = db.collection<RetentionDoc>('control');
  }

  /**
   * Connect, make sure the indexes rss relies on exist, and bring a store of
   * an older data model to the current one (store/migrate.ts; `migrated`
   * says what was done, for the one log line).
   */
  static async open(opts: StoreOptions & { migrated?: (report: MigrationReport) => void }): Promise<Store> {
    const client = new MongoClient(opts.uri, { ...DRIVER_TIMEOUTS, minPoolSize: opts.warmConnections ?? 0 });
    try {
      await client.connect();
      const store = new Store(client, client.db(opts.dbName ?? 'rss'), opts.retry);
      // Before anything is written to it (indexes included).
      const marker = await readSchemaMarker(store.db);
      await store.ensureIndexes();
      const report = await migrateToLog(store.db, marker);
      if (report) opts.migrated?.(report);
      return store;
    } catch (err) {
      await client.close().catch(() => {});
      if (err instanceof StorageError) throw err;
      throw new StorageError(`cannot reach the store at ${redact(opts.uri)}: ${(err as Error).message}`, { cause: err });
    }
  }

  private async ensureIndexes(): Promise<void> {
    await this.texts.createIndex({ req: 1 }, { unique: true, name: 'req_unique' });
    await this.texts.createIndex({ subject: 1, _id: -1 }, { name: 'subject_seq' });
    await this.requests.createIndex({ at: 1 }, { name: 'at' });
    await this.contacts.createIndex({ at: 1 }, { name: 'at' });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** `op` with bounded retries on transient errors; only idempotent operations (or made so) go through here. */
  private retrying<T>(op: () => Promise<T>): Promise<T> {
    return withRetry(op, this.retryPolicy, () => {
      this.retries++;
    });
  }

  // ---- lease (serving role) -------------------------------------------

  async readLease(): Promise<LeaseDoc | null> {
    return this.retrying(() => this.control.findOne({ _id: 'lease' }));
  }

  /** Create the first lease for `holder` if none exists; returns the lease in force either way. */
  async initLease(holder: ServerTag): Promise<LeaseDoc> {
    await this.retrying(async () => {
      try {
        await this.control.insertOne({ _id: 'lease', holder, epoch: 1, beat: 0, seq: 0 });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    });
    return (await this.readLease())!;
  }

  /** Renew: only the holder of `epoch` can; false means the lease is lost. */
  async renewLease(holder: ServerTag, epoch: number): Promise<boolean> {
    // Retried as is: a second $inc of the beat only says "alive" twice.
    const r = await this.retrying(() => this.control.updateOne({ _id: 'lease', holder, epoch }, { $inc: { beat: 1 } }));
    return r.matchedCount === 1;
  }

  /**
   * Move the lease from `from` (at `epoch`) to `to` at epoch+1. Used both for
   * a planned handoff and for a takeover after the holder went silent (then
   * `beat` must still be the value the standby watched, so two standbys or a
   * late renewal cannot both win). A holder handing over with every number
   * it allocated settled passes `settled`: the fence moves up to it with the
   * lease, so the next holder has nothing of it to fence (see fenceSeqs).
   * Retried: a retry that finds the lease moved exactly as asked (its
   * earlier attempt's answer was lost) returns it.
   */
  async moveLease(from: ServerTag, epoch: number, to: ServerTag, beat?: number, settled?: number): Promise<LeaseDoc | null> {
    const filter: Record<string, unknown> = { _id: 'lease', holder: from, epoch };
    if (beat !== undefined) filter.beat = beat;
    const update = { $set: { holder: to, beat: 0 }, $inc: { epoch: 1 }, ...(settled !== undefined ? { $max: { fence: settled } } : {}) };
    let attempt = 0;
    return this.retrying(async () => {
      const moved = await this.control.findOneAndUpdate(filter as { _id: 'lease' }, update, { returnDocument: 'after' });
      if (moved || attempt++ === 0) return moved;
      // A retry after an attempt whose answer was lost: it may have moved the lease already.
      const now = await this.control.findOne({ _id: 'lease' });
      return now && now.holder === to && now.epoch === epoch + 1 ? now : null;
    });
  }

  /**
   * Fence the text numbers of earlier holders (run by a new holder before it
   * serves): every number allocated so far (up to the lease's `seq`) whose
   * text is not stored gets a fence document in `texts` under that `_id`, so
   * a paused earlier holder that wakes up can never store a text there (the
   * unique `_id` refuses it) and its rows are orphans for good. The lease's
   * `fence` then records how far this is done, so the next holder starts
   * from there (a holder that handed over with its numbers settled moved it
   * up to its last one: nothing is left to fence). Returns that line: every
   * number up to it has its text or can never have one. With `block` > 0 the
   * same lease update allocates the numbers line+1 ... line+block to the
   * caller (its first block, without a round trip of its own). Compare-and-set
   * on (holder, epoch): null when the lease is lost meanwhile. Idempotent, so
   * it is retried as a whole (a block whose answer was lost is fenced by the retry).
   */
  async fenceSeqs(holder: ServerTag, epoch: number, block = 0): Promise<number | null> {
    return this.retrying(async () => {
      const filter = { _id: 'lease' as const, holder, epoch };
      const lease = block > 0
        ? await this.control.findOneAndUpdate(filter, { $inc: { seq: block } }, { returnDocument: 'before' })
        : await this.control.findOne(filter);
      if (!lease) return null;
      const from = (lease.fence ?? 0) + 1;
      const upTo = lease.seq;
      // Nothing to fence: the lease read above (a compare-and-set) proved it ours.
      if (upTo < from) return upTo;
      const stored = await this.texts.find({ _id: { $gte: from, $lte: upTo } }, { projection: { _id: 1 } }).toArray();
      const have = new Set(stored.map((t) => t._id));
      const fences: TextDoc[] = [];
      for (let seq = from; seq <= upTo; seq++) {
        if (!have.has(seq)) fences.push(fenceDoc(seq, epoch));
      }
      // A duplicate _id is a text that got there first: stored before the fence, it stays (it has its rows).
      let added = 0;
      for (let i = 0; i < fences.length; i += 1000) {
        const errs = await this.insertDocs('texts', fences.slice(i, i + 1000));
        added += fences.slice(i, i + 1000).length - errs.size;
      }
      const r = await this.control.updateOne(filter, { $max: { fence: upTo }, $inc: { fenced: added } });
      return r.matchedCount === 1 ? upTo : null;
    });
  }

  /**
   * Settle one number whose text write ended in doubt (the store failed
   * mid-group: the text may or may not be stored): a fence document under
   * that `_id` makes "not stored" final, or finds the text stored. Returns
   * the text, or null when the number is now fenced. Retried.
   */
  async fenceOne(seq: number, epoch: number): Promise<TextDoc | null> {
    return this.retrying(async () => {
      const errs = await this.insertDocs('texts', [fenceDoc(seq, epoch)]);
      const err = errs.get(0);
      if (!err) {
        await this.control.updateOne({ _id: 'lease' }, { $inc: { fenced: 1 } });
        return null;
      }
      if (err.code !== DUPLICATE_KEY) throw new StorageError(`fence of ${seq} not stored: ${err.message}`);
      const there = await this.texts.findOne({ _id: seq });
      return there && !there.fenced ? there : null;
    });
  }

  // ---- ring members' heartbeats (a ring of servers only) -----------------

  /** A ring member is alive: its counter goes up (observers time its changes by their own clocks). */
  async beatMember(name: ServerTag): Promise<void> {
    await this.memberBeats().updateOne({ _id: memberId(name) }, { $inc: { beat: 1 } }, { upsert: true });
  }

  /** The heartbeat counters of these ring members (a member that never beat is absent). */
  async readMemberBeats(names: readonly ServerTag[]): Promise<Map<ServerTag, number>> {
    const docs = await this.memberBeats().find({ _id: { $in: names.map(memberId) } }).toArray();
    return new Map(docs.map((d) => [d._id.slice(MEMBER_PREFIX.length), d.beat]));
  }

  private memberBeats(): Collection<MemberBeatDoc> {
    return this.db.collection<MemberBeatDoc>('control');
  }

  /** Allocate `count` text sequence numbers; fenced: fails with NotServingError once `epoch` is over. */
  async allocateSeqs(holder: ServerTag, epoch: number, count: number): Promise<number> {
    // Retried as is: a retry after a lost answer skips a block, which is never used (numbers are ordered, not dense).
    const lease = await this.retrying(() => this.control.findOneAndUpdate(
      { _id: 'lease', holder, epoch },
      { $inc: { seq: count } },
      { returnDocument: 'after' },
    ));
    if (!lease) throw new NotServingError(`lease epoch ${epoch} is over`);
    return lease.seq - count + 1;
  }

  /**
   * The peer secret shared by A and B when none is configured: created once,
   * at random, in `control` (both servers share the store, so both read the
   * same one).
   */
  peerSecret(): Promise<string> {
    return this.randomOnce('peer-secret', 'secret', 32, 'peer secret');
  }

  /**
   * This store's identity: a random id created once in `control`. Two
   * servers of a pair compare theirs to find out whether they really share
   * one store.
   */
  storeId(): Promise<string> {
    return this.randomOnce('store-id', 'id', 16, 'store id');
  }

  /** The random value (`bytes` bytes, base64url) in `control` document `_id`, field `field`: created by the first to ask. */
  private async randomOnce(_id: string, field: string, bytes: number, what: string): Promise<string> {
    const control = this.db.collection<{ _id: string } & Record<string, unknown>>('control');
    const doc = await this.retrying(async () => {
      try {
        await control.insertOne({ _id, [field]: randomBytes(bytes).toString('base64url') });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      return control.findOne({ _id });
    });
    const value = doc?.[field];
    if (typeof value !== 'string') throw new StorageError(`${what} missing from the store`);
    return value;
  }

  // ---- users --------------------------------------------------------------

  /** How many users are registered (what the store holds, whichever server asks). */
  async countUsers(): Promise<number> {
    return this.users.countDocuments({});
  }

  async loadUsers(): Promise<UserDoc[]> {
    return this.retrying(() => this.users.find({}).toArray());
  }

  async loadCursors(): Promise<{ _id: string; cursor?: number }[]> {
    return this.retrying(() => this.users.find({}, { projection: { cursor: 1 } }).toArray());
  }

  /** Insert a new user; false when the name is taken. */
  async insertUser(user: UserDoc): Promise<boolean> {
    let attempt = 0;
    return this.retrying(async () => {
      attempt++;
      try {
        await this.users.insertOne({ ...user });
        return true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // A retry finding the very document an earlier attempt (whose answer was lost) inserted: inserted.
        if (attempt === 1) return false;
        const there = await this.users.findOne({ _id: user._id });
        return there !== null && there.createdAt === user.createdAt && there.host === user.host && there.port === user.port && there.key === user.key;
      }
    });
  }

  async updateUser(name: string, set: Partial<Omit<UserDoc, '_id'>>): Promise<boolean> {
    const r = await this.retrying(() => this.users.updateOne({ _id: name }, { $set: set }));
    return r.matchedCount === 1;
  }

  /**
   * Remove the user and everything about it: what it is owed is only its
   * cursor and subjects, in this document. Its published texts stay: others
   * received them.
   */
  async deleteUser(name: string): Promise<boolean> {
    let deleted = false;
    await this.retrying(async () => {
      const r = await this.users.deleteOne({ _id: name });
      deleted ||= r.deletedCount === 1;
    });
    return deleted;
  }

  /**
   * Write the cursors of many users in ONE `update` command (`$max`: a
   * cursor only goes up, so a repeat or a late write changes nothing wrong;
   * a user removed meanwhile is not recreated). Retried.
   */
  saveCursors(writes: CursorWrite[]): Promise<void> {
    return this.raiseUsers('cursor', writes.map((w) => ({ user: w.user, value: w.cursor })), 'cursors');
  }

  /** The replay high-water marks of a handoff, in one command (`$max`: a lower one than stored changes nothing). */
  saveReplayMarks(marks: ReplayMarkWrite[]): Promise<void> {
    return this.raiseUsers('ctrHigh', marks.map((m) => ({ user: m.user, value: m.ctrHigh })), 'replay marks');
  }

  /** Raise `field` of many users to at least their values, in one `update` command. Retried. */
  private async raiseUsers(field: 'cursor' | 'ctrHigh', raises: { user: string; value: number }[], what: string): Promise<void> {
    if (raises.length === 0) return;
    const updates = raises.map((r) => ({ q: { _id: r.user }, u: { $max: { [field]: r.value } } }));
    const r = await this.retrying(() => this.db.command({ update: 'users', updates, ordered: false, ...this.writeConcern() }));
    if (r.writeConcernError || r.writeErrors?.length) throw new StorageError(`${what} not saved: ${JSON.stringify(r.writeConcernError ?? r.writeErrors)}`);
  }

  // ---- texts and deliveries ---------------------------------------------------

  /** The text stored by request key `req` (never a fence: their keys are their own). */
  async findTextByReq(req: string): Promise<TextDoc | null> {
    return this.retrying(() => this.texts.findOne({ req }));
  }

  /**
   * Store a new text, written together with the other texts stored
   * meanwhile (group commit): one insert command whatever the fan-out, since
   * who is owed it is a rule over the log (server/owed.ts), not rows. A text
   * whose request key (`req`, unique) is stored already is not stored
   * again: the stored one is returned (`stored: false`).
   */
  storeText(text: TextDoc): Promise<StoredOutcome> {
    return this.textWrites.add(text);
  }

  private async writeTexts(texts: TextDoc[]): Promise<(StoredOutcome | Error)[]> {
    const out: (StoredOutcome | Error)[] = texts.map((text) => ({ stored: true, text }));
    const repeated: number[] = [];
    for (const [i, w] of await this.insertDocs('texts', texts)) {
      if (w.code === DUPLICATE_KEY) repeated.push(i);
      else out[i] = new StorageError(`text ${texts[i]!._id} not stored: ${w.message}`);
    }
    if (repeated.length === 0) return out;
    // Stored before under the same request key (a retransmission): answer with that text.
    const found = await this.texts.find({ req: { $in: repeated.map((i) => texts[i]!.req) } }).toArray();
    const byReq = new Map(found.map((t) => [t.req, t]));
    for (const i of repeated) {
      const before = byReq.get(texts[i]!.req);
      // A duplicate _id with no text of that req: the number was taken (never under a valid lease).
      // Found under this very number: an earlier attempt of this group stored it (its answer was lost).
      if (before && before._id === texts[i]!._id) out[i] = { stored: true, text: before };
      else out[i] = before ? { stored: false, text: before } : new FencedError(`text ${texts[i]!._id} not stored: its number is fenced`);
    }
    return out;
  }

  /**
   * The write concern of the URI or client, for commands sent as such (the
   * collection methods would add it themselves). These commands are not
   * retried by the driver: a failed group fails its publishes, whose
   * clients retransmit (PUBLISH is idempotent by its request key).
   */
  private writeConcern(): { writeConcern?: Record<string, unknown> } {
    const wc = this.db.writeConcern;
    if (!wc) return {};
    const doc: Record<string, unknown> = {};
    if (wc.w !== undefined) doc.w = wc.w;
    if (wc.journal !== undefined) doc.j = wc.journal;
    if (wc.wtimeoutMS !== undefined) doc.wtimeout = wc.wtimeoutMS;
    return Object.keys(doc).length > 0 ? { writeConcern: doc } : {};
  }

  /**
   * One unordered `insert` command: the hot path's writes skip the driver's
   * bulk-write machinery (about 15 µs per document at the group sizes rss
   * writes). Returns the per-document write errors by index; throws when the
   * command as a whole failed or its write concern was not met (then nothing
   * is known of any document).
   */
  private async insertDocs(collection: 'texts', documents: object[]): Promise<Map<number, { code?: number; message: string }>> {
    const res = await this.db.command({ insert: collection, documents, ordered: false, ...this.writeConcern() });
    if (res.writeConcernError) throw new StorageError(`insert into ${collection}: write concern not met: ${JSON.stringify(res.writeConcernError)}`);
    const out = new Map<number, { code?: number; message: string }>();
    for (const w of (res.writeErrors ?? []) as { index: number; code?: number; errmsg?: string }[]) {
      out.set(w.index, { ...(w.code !== undefined ? { code: w.code } : {}), message: w.errmsg ?? `write error ${w.code}` });
    }
    return out;
  }

  /**
   * The oldest `limit` texts owed by `from` (per subject, numbered above its
   * `after`) up to `upTo`, not published by `exclude`, in sequence order;
   * `more` when others remain. One query per distinct `after` (usually one:
   * a user's cursor passes its subjects' lines once it received anything),
   * `{subject: {$in}, _id: {$gt, $lte}}` on the (subject, _id) index: each
   * subject's run bounded by the range and merged in order by the engine,
   * as MongoDB's multi-interval bounds do. Fence documents have no subject:
   * never found.
   */
  owedTexts(from: OwedFrom[], upTo: number, limit: number, exclude?: string): Promise<{ texts: TextDoc[]; more: boolean }> {
    const byAfter = new Map<number, string[]>();
    for (const f of from) {
      if (f.after >= upTo) continue;
      const subjects = byAfter.get(f.after);
      if (subjects) subjects.push(f.subject);
      else byAfter.set(f.after, [f.subject]);
    }
    return this.retrying(async () => {
      const runs = await Promise.all([...byAfter].map(([after, subjects]) => this.texts
        .find({ subject: subjects.length === 1 ? subjects[0]! : { $in: subjects }, _id: { $gt: after, $lte: upTo }, ...(exclude !== undefined ? { from: { $ne: exclude } } : {}) })
        .sort({ _id: 1 })
        .limit(limit + 1)
        .toArray()));
      const all = runs.length === 1 ? runs[0]! : runs.flat().sort((x, y) => x._id - y._id);
      return { texts: all.slice(0, limit), more: all.length > limit };
    });
  }

  /** The `n` most recent texts on `subjects`, oldest first. */
  async lastTexts(subjects: string[], n: number, before?: number): Promise<TextDoc[]> {
    if (subjects.length === 0 || n === 0) return [];
    // Fence documents have no subject: never found here.
    const filter = before === undefined ? { subject: { $in: subjects } } : { subject: { $in: subjects }, _id: { $lt: before } };
    const newest = await this.retrying(() => this.texts.find(filter).sort({ _id: -1 }).limit(n).toArray());
    return newest.reverse();
  }

  /** The numbers of the texts on `subject` numbered in (after, upTo], lowest first, at most `limit` (the (subject, _id) index). */
  async textNumbers(subject: string, after: number, upTo: number, limit: number): Promise<number[]> {
    const found = await this.retrying(() => this.texts.find({ subject, _id: { $gt: after, $lte: upTo } }, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(limit).toArray());
    return found.map((t) => t._id);
  }

  /** Delete the texts with these numbers (server/retention.ts decides which nobody needs); how many went. */
  async deleteTexts(numbers: number[]): Promise<number> {
    if (numbers.length === 0) return 0;
    // One `delete` command; deleting the same numbers again deletes nothing, so it is safe to retry.
    const r = await this.retrying(() => this.db.command({ delete: 'texts', deletes: [{ q: { _id: { $in: numbers } }, limit: 0 }], ...this.writeConcern() }));
    if (r.writeConcernError || r.writeErrors?.length) throw new StorageError(`texts not deleted: ${JSON.stringify(r.writeConcernError ?? r.writeErrors)}`);
    return r.n as number;
  }

  /** The number of the `n`th newest text on `subject`; 0 when it holds fewer. */
  async nthNewest(subject: string, n: number): Promise<number> {
    const [doc] = await this.retrying(() => this.texts.find({ subject }, { projection: { _id: 1 } }).sort({ _id: -1 }).skip(n - 1).limit(1).toArray());
    return doc?._id ?? 0;
  }

  async retentionMarks(): Promise<RetentionMark[]> {
    const doc = await this.retrying(() => this.retention.findOne({ _id: 'retention' }));
    return doc?.marks ?? [];
  }

  async saveRetentionMarks(marks: RetentionMark[]): Promise<void> {
    await this.retrying(() => this.retention.updateOne({ _id: 'retention' }, { $set: { marks } }, { upsert: true }));
  }

  /** Texts stored (fence documents, counted in the lease, left out). */
  async countTexts(): Promise<number> {
    const [all, lease] = await Promise.all([this.retrying(() => this.texts.estimatedDocumentCount()), this.readLease()]);
    return all - (lease?.fenced ?? 0);
  }

  // ---- legacy clients heard at an address ------------------------------------------

  /**
   * Store what one server knows of a contact (both servers write: the latest
   * time heard wins). Senders choose the addresses, so the collection is
   * bounded: a new contact past `keep` (the server's ContactOptions.max)
   * drops the least recently heard ones.
   */
  async saveContact(contact: ContactDoc, keep: number): Promise<void> {
    const { _id, host, port, dialect, at } = contact;
    const r = await this.contacts.updateOne({ _id }, { $set: { host, port, dialect }, $max: { at } }, { upsert: true });
    if (r.upsertedCount === 0) return;
    const excess = (await this.contacts.estimatedDocumentCount()) - keep;
    if (excess <= 0) return;
    const oldest = await this.contacts.find({}, { projection: { _id: 1 } }).sort({ at: 1 }).limit(excess).toArray();
    await this.contacts.deleteMany({ _id: { $in: oldest.map((d) => d._id) } });
  }

  async removeContact(id: string): Promise<void> {
    await this.contacts.deleteOne({ _id: id });
  }

  /** The `limit` contacts heard from most recently, no older than `since`. */
  async loadContacts(since: number, limit: number): Promise<ContactDoc[]> {
    return this.contacts.find({ at: { $gte: since } }).sort({ at: -1 }).limit(limit).toArray();
  }

  async purgeContacts(before: number): Promise<number> {
    const r = await this.contacts.deleteMany({ at: { $lt: before } });
    return r.deletedCount;
  }

  // ---- replies of executed requests ----------------------------------------------

  async saveReply(key: string, reply: object, at: number): Promise<void> {
    // One `update` command (as insertDocs): on every RETRIEVE-TEXTS (after its answer went out) and state change (before).
    const r = await this.retrying(() => this.db.command({ update: 'requests', updates: [{ q: { _id: key }, u: { $set: { reply, at } }, upsert: true }], ...this.writeConcern() }));
    if (r.writeConcernError || r.writeErrors?.length) throw new StorageError(`reply record not saved: ${JSON.stringify(r.writeConcernError ?? r.writeErrors)}`);
  }

  async recentReplies(since: number): Promise<RequestDoc[]> {
    return this.retrying(() => this.requests.find({ at: { $gte: since } }).toArray());
  }

  async purgeReplies(before: number): Promise<number> {
    const r = await this.retrying(() => this.requests.deleteMany({ at: { $lt: before } }));
    return r.deletedCount;
  }
}

/** The URI without its password, for messages. */
export function redact(uri: string): string {
  return uri.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
