/**
 * The storage contract of rss: every Store method, as the server relies on
 * it. Registered once per engine by contract.test.ts; each test gets a fresh
 * database, so it starts from empty collections.
 */
import { randomBytes } from 'node:crypto';
import { Collection, Db, MongoClient } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FencedError, NotServingError, StorageError } from '../../src/errors';
import type { TextDoc, UserDoc } from '../../src/store/documents';
import { isDuplicateKey, redact, STANDBY_CONNECTIONS, Store } from '../../src/store/store';
import { openRawDb, type RawDb } from '../helpers/raw-db';

/** A fresh database name per test. */
export const freshDbName = (): string => `rss_contract_${randomBytes(6).toString('hex')}`;

const user = (name: string, subjects: string[] = []): UserDoc => ({
  _id: name,
  host: '127.0.0.1',
  port: 4000,
  dialect: 'native',
  subjects,
  createdAt: 1,
});

const text = (seq: number, subject = 's', from = 'alice'): TextDoc => ({
  _id: seq,
  from,
  subject,
  text: `text ${seq}`,
  at: 1000 + seq,
  req: `req-${seq}`,
  epoch: 1,
});

/**
 * The write commands the stores send through `db.command` from now on (the
 * test's own connection, `raw`, left out), as "insert texts", "update
 * users"..., and each command as sent.
 */
function writeCommands(raw: RawDb): { counts: Record<string, number>; sent: Record<string, unknown>[] } {
  const out = { counts: {} as Record<string, number>, sent: [] as Record<string, unknown>[] };
  const orig = Db.prototype.command;
  vi.spyOn(Db.prototype, 'command').mockImplementation(function (this: Db, cmd, ...rest) {
    const verb = ['insert', 'update', 'delete'].find((v) => v in cmd);
    if (this !== raw.db && verb) {
      out.counts[`${verb} ${String(cmd[verb])}`] = (out.counts[`${verb} ${String(cmd[verb])}`] ?? 0) + 1;
      out.sent.push(cmd);
    }
    return orig.call(this, cmd, ...rest);
  });
  return out;
}

/** Registers the Store contract against the engine whose URI `uri()` gives (read when each test starts). */
export function storeContract(uri: () => string): void {
  let store: Store;
  /** The same database through the test's own connection: the store keeps its collections to itself. */
  let raw: RawDb;

  beforeEach(async () => {
    const dbName = freshDbName();
    store = await Store.open({ uri: uri(), dbName });
    raw = await openRawDb(uri(), dbName);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await raw.db.dropDatabase();
    await raw.close();
    await store.close();
  });

  describe('lease', () => {
    it('starts absent; initLease creates epoch 1 for the first caller only', async () => {
      expect(await store.readLease()).toBeNull();
      expect(await store.initLease('A')).toEqual({ _id: 'lease', holder: 'A', epoch: 1, beat: 0, seq: 0 });
      // A second init (the other server, or a retry) returns the lease in force unchanged.
      expect(await store.initLease('B')).toEqual({ _id: 'lease', holder: 'A', epoch: 1, beat: 0, seq: 0 });
      expect(await store.readLease()).toMatchObject({ holder: 'A', epoch: 1 });
    });

    it('concurrent initLease calls agree on one holder', async () => {
      const [a, b] = await Promise.all([store.initLease('A'), store.initLease('B')]);
      expect(a).toEqual(b);
      expect(await raw.control.countDocuments({ _id: { $ne: 'schema' } } as never)).toBe(1);
    });

    it('renewLease bumps beat only for the holder of the current epoch', async () => {
      await store.initLease('A');
      expect(await store.renewLease('A', 1)).toBe(true);
      expect(await store.renewLease('A', 1)).toBe(true);
      expect(await store.readLease()).toMatchObject({ holder: 'A', epoch: 1, beat: 2 });
      expect(await store.renewLease('B', 1)).toBe(false);
      expect(await store.renewLease('A', 2)).toBe(false);
      expect(await store.renewLease('A', 0)).toBe(false);
      expect((await store.readLease())!.beat).toBe(2);
    });

    it('renewLease on a missing lease is false', async () => {
      expect(await store.renewLease('A', 1)).toBe(false);
    });

    it('planned moveLease: epoch+1, beat reset, and only once per epoch', async () => {
      await store.initLease('A');
      await store.renewLease('A', 1);
      const moved = await store.moveLease('A', 1, 'B');
      expect(moved).toEqual({ _id: 'lease', holder: 'B', epoch: 2, beat: 0, seq: 0 });
      // The old epoch is over: neither a repeat nor a renewal by A succeeds.
      expect(await store.moveLease('A', 1, 'B')).toBeNull();
      expect(await store.renewLease('A', 1)).toBe(false);
      expect(await store.renewLease('B', 2)).toBe(true);
    });

    it('takeover moveLease is a compare-and-set on (epoch, beat)', async () => {
      await store.initLease('A');
      await store.renewLease('A', 1); // beat 1
      // The standby watched beat 0, but the holder renewed since: no takeover.
      expect(await store.moveLease('A', 1, 'B', 0)).toBeNull();
      expect(await store.readLease()).toMatchObject({ holder: 'A', epoch: 1, beat: 1 });
      // Wrong holder in the filter: no takeover either.
      expect(await store.moveLease('B', 1, 'A', 1)).toBeNull();
      const taken = await store.moveLease('A', 1, 'B', 1);
      expect(taken).toMatchObject({ holder: 'B', epoch: 2, beat: 0 });
    });

    it('two racing takeovers of the same (epoch, beat): exactly one wins', async () => {
      await store.initLease('A');
      const results = await Promise.all([
        store.moveLease('A', 1, 'B', 0),
        store.moveLease('A', 1, 'B', 0),
        store.moveLease('A', 1, 'A', 0),
      ]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect((await store.readLease())!.epoch).toBe(2);
    });

    it('allocateSeqs hands out consecutive ranges, kept across a move', async () => {
      await store.initLease('A');
      expect(await store.allocateSeqs('A', 1, 1)).toBe(1);
      expect(await store.allocateSeqs('A', 1, 3)).toBe(2);
      expect(await store.allocateSeqs('A', 1, 1)).toBe(5);
      await store.moveLease('A', 1, 'B');
      expect(await store.allocateSeqs('B', 2, 2)).toBe(6);
      expect((await store.readLease())!.seq).toBe(7);
    });

    it('allocateSeqs is fenced: NotServingError once the lease moved', async () => {
      await store.initLease('A');
      await store.allocateSeqs('A', 1, 1);
      await store.moveLease('A', 1, 'B', 0);
      const err = await store.allocateSeqs('A', 1, 1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotServingError);
      expect((err as NotServingError).code).toBe('RSS_NOT_SERVING');
      // The fenced call allocated nothing.
      expect((await store.readLease())!.seq).toBe(1);
      await expect(store.allocateSeqs('B', 1, 1)).rejects.toBeInstanceOf(NotServingError);
    });

    it('fenceSeqs: an earlier holder can never store a number it had not stored when the lease moved; what it stored before stays', async () => {
      await store.initLease('A');
      const first = await store.allocateSeqs('A', 1, 4);
      // A stored text 1 (then it paused, about to store 2); 3 and 4 were never used.
      expect((await store.storeText(text(first))).stored).toBe(true);
      await store.moveLease('A', 1, 'B', 0);
      expect(await store.fenceSeqs('B', 2)).toBe(4);
      expect((await store.readLease())!).toMatchObject({ fence: 4, fenced: 3 });
      // A wakes up and stores text 2: refused, its number is fenced.
      await expect(store.storeText(text(first + 1))).rejects.toThrow(/fenced/);
      // Bob is owed text 1 (stored before the fence), never a fence (it has no subject).
      expect((await store.owedTexts([{ subject: 's', after: 0 }], 4, 10)).texts.map((t) => t._id)).toEqual([1]);
      expect(await store.countTexts()).toBe(1);
      expect(await store.lastTexts(['s'], 10)).toHaveLength(1);
      // A second fence (nothing allocated since) adds nothing; it is refused to a server that does not hold the lease.
      expect(await store.fenceSeqs('B', 2)).toBe(4);
      expect((await store.readLease())!.fenced).toBe(3);
      expect(await store.fenceSeqs('A', 1)).toBeNull();
      // B's own numbers come after the fence.
      expect(await store.allocateSeqs('B', 2, 1)).toBe(5);
    });

    it('moveLease with `settled`: the fence moves with the lease, and the next holder has nothing to fence', async () => {
      await store.initLease('A');
      const first = await store.allocateSeqs('A', 1, 16);
      // A stored 1 and 2 and handed over with every number it allocated settled (3 ... 16 never used).
      for (const seq of [first, first + 1]) await store.storeText(text(seq));
      expect(await store.moveLease('A', 1, 'B', undefined, 16)).toMatchObject({ holder: 'B', epoch: 2, fence: 16 });
      const spy = writeCommands(raw).counts;
      const leaseWrites = vi.spyOn(Collection.prototype, 'updateOne');
      expect(await store.fenceSeqs('B', 2)).toBe(16);
      // No fence document, no lease write: the read proved the lease B's.
      expect(spy).toEqual({});
      expect(leaseWrites).not.toHaveBeenCalled();
      expect((await store.readLease())!).toMatchObject({ fence: 16 });
      expect((await store.readLease())!.fenced ?? 0).toBe(0);
      // The fence never moves back (a lower `settled` changes nothing).
      await store.moveLease('B', 2, 'A', undefined, 3);
      expect((await store.readLease())!.fence).toBe(16);
    });

    it('fenceSeqs with a block: the same lease update allocates the numbers right above the line to the caller', async () => {
      await store.initLease('A');
      await store.allocateSeqs('A', 1, 4);
      await store.storeText(text(1));
      await store.moveLease('A', 1, 'B', 0);
      // 2 ... 4 are fenced; 5 ... 20 are B's.
      expect(await store.fenceSeqs('B', 2, 16)).toBe(4);
      expect((await store.readLease())!).toMatchObject({ seq: 20, fence: 4, fenced: 3 });
      expect(await store.allocateSeqs('B', 2, 1)).toBe(21);
      // B hands over with 5 ... 21 settled: A fences nothing and takes 22 ... 37.
      await store.moveLease('B', 2, 'A', undefined, 21);
      expect(await store.fenceSeqs('A', 3, 16)).toBe(21);
      expect((await store.readLease())!).toMatchObject({ seq: 37, fence: 21, fenced: 3 });
      // Refused (and nothing allocated) to a server that does not hold the lease.
      expect(await store.fenceSeqs('B', 2, 16)).toBeNull();
      expect((await store.readLease())!.seq).toBe(37);
    });

    it('a text group retried after a lost answer is stored once, as stored', async () => {
      await store.initLease('A');
      await store.allocateSeqs('A', 1, 1);
      expect((await store.storeText(text(1))).stored).toBe(true);
      // The same group again (its first answer lost): found under its own number, so stored.
      expect(await store.storeText(text(1))).toMatchObject({ stored: true, text: { _id: 1 } });
      expect(await store.countTexts()).toBe(1);
    });

    it('concurrent allocations never overlap', async () => {
      await store.initLease('A');
      const firsts = await Promise.all(Array.from({ length: 10 }, () => store.allocateSeqs('A', 1, 2)));
      const seqs = firsts.flatMap((f) => [f, f + 1]).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });
  });

  describe('users', () => {
    it('insert, duplicate, load', async () => {
      expect(await store.insertUser(user('alice', ['a']))).toBe(true);
      expect(await store.insertUser({ ...user('alice'), port: 9 })).toBe(false);
      expect(await store.insertUser(user('bob'))).toBe(true);
      const all = await store.loadUsers();
      expect(all.map((u) => u._id).sort()).toEqual(['alice', 'bob']);
      // The duplicate did not overwrite the first registration.
      expect(all.find((u) => u._id === 'alice')).toEqual(user('alice', ['a']));
    });

    it('loadCursors: every user by name with its cursor alone (none stored: absent)', async () => {
      await store.insertUser({ ...user('alice', ['a']), cursor: 7 });
      await store.insertUser(user('bob'));
      const cursors = await store.loadCursors();
      expect(cursors.sort((x, y) => x._id.localeCompare(y._id))).toEqual([{ _id: 'alice', cursor: 7 }, { _id: 'bob' }]);
    });

    it('updateUser sets fields and reports a missing user', async () => {
      await store.insertUser(user('alice', ['a']));
      expect(await store.updateUser('alice', { subjects: ['x', 'y'], port: 5000 })).toBe(true);
      expect(await raw.users.findOne({ _id: 'alice' })).toEqual({ ...user('alice'), subjects: ['x', 'y'], port: 5000 });
      expect(await store.updateUser('nobody', { port: 1 })).toBe(false);
      expect(await raw.users.countDocuments()).toBe(1);
    });

    it('deleteUser removes the user (its cursor and subjects: all it is owed), nobody else, and keeps its texts', async () => {
      await store.insertUser({ ...user('alice', ['s']), cursor: 0, since: [{ subject: 's', seq: 0 }] });
      await store.insertUser(user('bob'));
      await store.storeText(text(1, 's', 'alice'));
      await store.storeText(text(2, 's', 'bob'));
      expect(await store.deleteUser('alice')).toBe(true);
      expect(await store.loadUsers()).toEqual([user('bob')]);
      expect(await store.countTexts()).toBe(2);
      expect(await store.deleteUser('alice')).toBe(false);
    });

    it('saveReplayMarks: one update command for many users, $max (never back), never creating a user', async () => {
      await store.insertUser({ ...user('alice'), ctrHigh: 50 });
      await store.insertUser(user('bob'));
      const spy = writeCommands(raw).counts;
      await store.saveReplayMarks([{ user: 'alice', ctrHigh: 40 }, { user: 'bob', ctrHigh: 7 }, { user: 'ghost', ctrHigh: 9 }]);
      expect(spy).toEqual({ 'update users': 1 });
      const marks = Object.fromEntries((await store.loadUsers()).map((u) => [u._id, u.ctrHigh]));
      expect(marks).toEqual({ alice: 50, bob: 7 });
      await store.saveReplayMarks([]);
      expect(spy).toEqual({ 'update users': 1 });
    });

    it('saveCursors: one update command for many users, $max (never back), never creating a user', async () => {
      await store.insertUser({ ...user('alice'), cursor: 5 });
      await store.insertUser({ ...user('bob'), cursor: 1 });
      const spy = writeCommands(raw).counts;
      await store.saveCursors([{ user: 'alice', cursor: 3 }, { user: 'bob', cursor: 7 }, { user: 'ghost', cursor: 9 }]);
      expect(spy).toEqual({ 'update users': 1 });
      const cursors = Object.fromEntries((await store.loadUsers()).map((u) => [u._id, u.cursor]));
      expect(cursors).toEqual({ alice: 5, bob: 7 });
      await store.saveCursors([]);
      expect(spy).toEqual({ 'update users': 1 });
    });
  });

  describe('texts', () => {
    it('storeText stores the text, found by its request key', async () => {
      await store.storeText(text(1));
      expect(await store.findTextByReq('req-1')).toEqual(text(1));
      expect(await store.findTextByReq('req-2')).toBeNull();
      expect(await store.countTexts()).toBe(1);
    });

    it('texts are unique by req (secondary unique index)', async () => {
      await store.storeText(text(1));
      const err = await raw.texts.insertOne({ ...text(2), req: 'req-1' }).catch((e: unknown) => e);
      expect(isDuplicateKey(err)).toBe(true);
      expect(await store.countTexts()).toBe(1);
    });

    it('owedTexts: per subject above its line, up to the visible line, oldest first, limited, with `more`, not the reader’s own', async () => {
      const subjects = ['a', 'b', 'a', 'c', 'b', 'a', 'b', 'a'];
      // Stored out of order, so natural order is not sequence order.
      for (const seq of [5, 1, 8, 3, 2, 7, 4, 6]) await store.storeText(text(seq, subjects[seq - 1], seq === 6 ? 'bob' : 'alice'));
      const ids = async (from: { subject: string; after: number }[], upTo: number, limit: number) => {
        const r = await store.owedTexts(from, upTo, limit, 'bob');
        return { ids: r.texts.map((t) => t._id), more: r.more };
      };
      expect(await ids([{ subject: 'a', after: 0 }, { subject: 'b', after: 0 }], 8, 10)).toEqual({ ids: [1, 2, 3, 5, 7, 8], more: false });
      expect(await ids([{ subject: 'a', after: 0 }, { subject: 'b', after: 0 }], 8, 3)).toEqual({ ids: [1, 2, 3], more: true });
      expect(await ids([{ subject: 'a', after: 3 }, { subject: 'b', after: 0 }], 8, 10)).toEqual({ ids: [2, 5, 7, 8], more: false });
      // The visible line: 7 and 8 are not read (a lower number could still turn up).
      expect(await ids([{ subject: 'a', after: 0 }, { subject: 'b', after: 4 }], 6, 10)).toEqual({ ids: [1, 3, 5], more: false });
      expect(await ids([{ subject: 'zzz', after: 0 }], 8, 10)).toEqual({ ids: [], more: false });
      expect(await ids([], 8, 10)).toEqual({ ids: [], more: false });
      expect((await store.owedTexts([{ subject: 'c', after: 0 }], 8, 1)).texts).toEqual([text(4, 'c')]);
    });

    it('owedTexts reads each subject through the (subject, _id) index, not the whole log', async () => {
      for (let seq = 1; seq <= 300; seq++) await raw.texts.insertOne(text(seq, seq % 3 === 0 ? 'rare' : 'busy'));
      const plan = await raw.texts.find({ subject: { $in: ['rare', 'other'] }, _id: { $gt: 290, $lte: 300 } }).sort({ _id: 1 }).explain('executionStats');
      expect(JSON.stringify(plan)).toMatch(/IXSCAN|subject_seq/);
      // Only the entries in range are examined, not each subject's whole run.
      expect(plan.executionStats.totalDocsExamined).toBeLessThanOrEqual(10);
      expect((await store.owedTexts([{ subject: 'rare', after: 290 }], 300, 10)).texts.map((t) => t._id)).toEqual([291, 294, 297, 300]);
    });

    it('storeText: concurrent texts are written as one insert command, whatever their fan-out', async () => {
      const spy = writeCommands(raw).counts;
      const out = await Promise.all([1, 2, 3, 4].map((seq) => store.storeText(text(seq))));
      expect(out.map((o) => [o.stored, o.text._id])).toEqual([[true, 1], [true, 2], [true, 3], [true, 4]]);
      expect(spy).toEqual({ 'insert texts': 1 });
    });

    it('storeText: a repeated request key answers with the stored text; its own number stays empty', async () => {
      await store.storeText(text(1));
      const [again, fresh] = await Promise.all([store.storeText({ ...text(5), req: 'req-1' }), store.storeText(text(2))]);
      expect(again).toEqual({ stored: false, text: text(1) });
      expect(fresh).toEqual({ stored: true, text: text(2) });
      expect(await store.countTexts()).toBe(2);
      expect(await raw.texts.countDocuments({ _id: 5 })).toBe(0);
    });

    it('storeText: two publishes of one request key in the same group store one text', async () => {
      const out = await Promise.all([store.storeText(text(1)), store.storeText({ ...text(2), req: 'req-1' })]);
      expect(out.map((o) => o.text._id)).toEqual([1, 1]);
      expect(out.map((o) => o.stored)).toEqual([true, false]);
      expect(await store.countTexts()).toBe(1);
    });

    it('storeText: a number already taken fails only that text', async () => {
      await raw.texts.insertOne({ ...text(3), req: 'other' });
      const out = await Promise.allSettled([store.storeText(text(3)), store.storeText(text(4))]);
      expect(out[0]!.status).toBe('rejected');
      expect((out[0] as PromiseRejectedResult).reason).toBeInstanceOf(FencedError);
      expect(out[1]).toEqual({ status: 'fulfilled', value: { stored: true, text: text(4) } });
    });

    it("the hot path's write commands carry the URI's write concern", async () => {
      const sep = uri().includes('?') ? '&' : '?';
      const wc = await Store.open({ uri: `${uri()}${sep}w=1`, dbName: raw.db.databaseName });
      try {
        await wc.insertUser(user('bob'));
        const { sent } = writeCommands(raw);
        await wc.storeText(text(1));
        await wc.saveCursors([{ user: 'bob', cursor: 1 }]);
        expect(sent.map((c) => c.writeConcern)).toEqual([{ w: 1 }, { w: 1 }]);
        expect(await wc.countTexts()).toBe(1);
      } finally {
        await wc.close();
      }
    });

    it('lastTexts: the N most recent on the subjects, oldest first', async () => {
      const subjects = ['a', 'b', 'c', 'a', 'c', 'b', 'a', 'c', 'b', 'a'];
      // Inserted out of order, so natural order is not sequence order.
      for (const seq of [7, 2, 9, 1, 10, 4, 3, 8, 6, 5]) await store.storeText(text(seq, subjects[seq - 1]));
      const ids = async (s: string[], n: number) => (await store.lastTexts(s, n)).map((t) => t._id);
      expect(await ids(['a', 'b'], 4)).toEqual([6, 7, 9, 10]);
      expect(await ids(['c'], 2)).toEqual([5, 8]);
      expect(await ids(['a'], 100)).toEqual([1, 4, 7, 10]);
      expect(await ids(['b', 'c', 'a'], 3)).toEqual([8, 9, 10]);
      expect(await ids(['zzz'], 3)).toEqual([]);
      expect(await ids([], 3)).toEqual([]);
      expect(await ids(['a'], 0)).toEqual([]);
      expect((await store.lastTexts(['c'], 1))[0]).toEqual(text(8, 'c'));
      // Older ones, below a number: the next page back.
      expect(await ids(['a', 'b'], 4)).toEqual([6, 7, 9, 10]);
      expect((await store.lastTexts(['a', 'b'], 3, 6)).map((t) => t._id)).toEqual([1, 2, 4]);
      expect((await store.lastTexts(['a'], 10, 4)).map((t) => t._id)).toEqual([1]);
      expect(await store.lastTexts(['a'], 10, 1)).toEqual([]);
    });

    it('textNumbers: a subject\'s numbers in a range, lowest first, limited; deleteTexts deletes those in one command', async () => {
      const subjects = ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'];
      for (const seq of [8, 3, 5, 1, 7, 2, 6, 4]) await store.storeText(text(seq, subjects[seq - 1]));
      await raw.texts.insertOne({ _id: 100, fenced: true } as unknown as TextDoc);
      expect(await store.textNumbers('a', 1, 7, 10)).toEqual([3, 5, 7]);
      expect(await store.textNumbers('a', 0, 8, 2)).toEqual([1, 3]);
      expect(await store.textNumbers('b', 8, 100, 10)).toEqual([]);
      const spy = writeCommands(raw).counts;
      expect(await store.deleteTexts([3, 5, 6, 99])).toBe(3);
      expect(spy['delete texts']).toBe(1);
      expect((await raw.texts.find({}).sort({ _id: 1 }).toArray()).map((t) => t._id)).toEqual([1, 2, 4, 7, 8, 100]);
      expect(await store.deleteTexts([])).toBe(0);
    });

    it('nthNewest: the number of the nth newest text on a subject, 0 when it holds fewer', async () => {
      for (const seq of [5, 1, 9, 3, 7]) await store.storeText(text(seq, seq === 7 ? 'b' : 'a'));
      expect(await store.nthNewest('a', 1)).toBe(9);
      expect(await store.nthNewest('a', 3)).toBe(3);
      expect(await store.nthNewest('a', 4)).toBe(1);
      expect(await store.nthNewest('a', 5)).toBe(0);
      expect(await store.nthNewest('b', 1)).toBe(7);
      expect(await store.nthNewest('none', 1)).toBe(0);
    });

    it('retention marks: none at first, then what was saved last', async () => {
      expect(await store.retentionMarks()).toEqual([]);
      await store.saveRetentionMarks([{ at: 1, line: 10 }, { at: 2, line: 20 }]);
      await store.saveRetentionMarks([{ at: 2, line: 20 }, { at: 3, line: 30 }]);
      expect(await store.retentionMarks()).toEqual([{ at: 2, line: 20 }, { at: 3, line: 30 }]);
    });

    it('countTexts counts stored texts', async () => {
      expect(await store.countTexts()).toBe(0);
      for (const seq of [1, 2, 3]) await store.storeText(text(seq));
      await store.storeText(text(3));
      expect(await store.countTexts()).toBe(3);
    });
  });

  it('keeps no idle connection open unless asked to; a standby asks for STANDBY_CONNECTIONS and they are opened', async () => {
    const clients: MongoClient[] = [];
    let opened = 0;
    const connect = MongoClient.prototype.connect;
    vi.spyOn(MongoClient.prototype, 'connect').mockImplementation(function (this: MongoClient) {
      clients.push(this);
      if (clients.length === 2) this.on('connectionCreated', () => opened++);
      return connect.call(this);
    });
    const plain = await Store.open({ uri: uri(), dbName: raw.db.databaseName });
    const warm = await Store.open({ uri: uri(), dbName: raw.db.databaseName, warmConnections: STANDBY_CONNECTIONS });
    try {
      expect(clients.map((c) => c.options.minPoolSize)).toEqual([0, STANDBY_CONNECTIONS]);
      // The driver fills the pool in the background: every warm connection opens without a call asking for it.
      await expect.poll(() => opened, { timeout: 5000 }).toBeGreaterThanOrEqual(STANDBY_CONNECTIONS);
    } finally {
      await plain.close();
      await warm.close();
    }
  });

  describe('migration from the inbox (version 1)', () => {
    it('turns inbox rows into cursors and since, drops the inbox, marks the schema, and says so once', async () => {
      const db = raw.db;
      await db.collection('control').deleteOne({ _id: 'schema' } as never);
      await db.collection('control').insertOne({ _id: 'lease', holder: 'A', epoch: 3, beat: 0, seq: 40, fence: 40 } as never);
      await raw.users.insertMany([user('owes', ['a', 'b']), user('clear', ['a']), { ...user('new', ['a']), cursor: 33, since: [{ subject: 'a', seq: 30 }] }]);
      // On a: 5 (before), 7 (owed), 8 (received out of order), 12 (owed); on b: 9, received already.
      for (const [seq, subject] of [[5, 'a'], [7, 'a'], [8, 'a'], [9, 'b'], [12, 'a']] as const) await store.storeText(text(seq, subject, 'zed'));
      await db.collection('inbox').insertMany([{ _id: '7:owes', user: 'owes', seq: 7 }, { _id: '12:owes', user: 'owes', seq: 12 }, { user: 'ghost', seq: 3 }] as never[]);
      const reports: unknown[] = [];
      const again = await Store.open({ uri: uri(), dbName: db.databaseName, migrated: (r) => reports.push(r) });
      try {
        expect(reports).toEqual([{ from: 1, to: 2, users: 2, rows: 3 }]);
        const by = Object.fromEntries((await again.loadUsers()).map((u) => [u._id, { cursor: u.cursor, since: u.since }]));
        expect(by).toEqual({
          // Owed 7 and 12, both on a: a is owed from before the lowest; b has no row (owed nothing so far).
          owes: { cursor: 6, since: [{ subject: 'a', seq: 6 }, { subject: 'b', seq: 40 }] },
          // Owed nothing: everything allocated so far counts as received.
          clear: { cursor: 40, since: [{ subject: 'a', seq: 40 }] },
          // Written by this version already: untouched.
          new: { cursor: 33, since: [{ subject: 'a', seq: 30 }] },
        });
        expect((await db.listCollections({ name: 'inbox' }).toArray()).length).toBe(0);
        expect(await db.collection('control').findOne({ _id: 'schema' } as never)).toEqual({ _id: 'schema', version: 2 });
        // What 'owes' is owed now, by the rule: 7 and 12, and 8 again (received out of order: a cursor cannot say
        // so; shown again rather than lost); not 9 (received on b), nor 5 (before its rows).
        const owes = by.owes!;
        const from = owes.since!.map((e) => ({ subject: e.subject, after: Math.max(owes.cursor!, e.seq) }));
        expect((await again.owedTexts(from, 40, 10, 'owes')).texts.map((t) => t._id)).toEqual([7, 8, 12]);
      } finally {
        await again.close();
      }
      // Opened again: nothing more to do, nothing said.
      const third = await Store.open({ uri: uri(), dbName: db.databaseName, migrated: (r) => reports.push(r) });
      await third.close();
      expect(reports).toHaveLength(1);
    });

    it('a store of a newer data model is refused with one clear StorageError, and left as it is', async () => {
      const db = raw.db;
      await db.collection('control').updateOne({ _id: 'schema' } as never, { $set: { version: 99 } });
      const err = await Store.open({ uri: uri(), dbName: db.databaseName }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).message).toMatch(/data model version 99, newer than this rss understands \(version 2\)/);
      expect(await db.collection('control').findOne({ _id: 'schema' } as never)).toEqual({ _id: 'schema', version: 99 });
      await db.collection('control').updateOne({ _id: 'schema' } as never, { $set: { version: 2 } });
    });

    it('a new store gets its marker silently', async () => {
      expect(await raw.db.collection('control').findOne({ _id: 'schema' } as never)).toEqual({ _id: 'schema', version: 2 });
      expect((await raw.db.listCollections({ name: 'inbox' }).toArray()).length).toBe(0);
    });
  });

  describe('contacts', () => {
    const contact = (port: number, at: number) => ({ _id: `127.0.0.1|${port}`, host: '127.0.0.1', port, dialect: 'text' as const, at });

    it('saveContact keeps at most `keep`, dropping the least recently heard when a new one comes', async () => {
      for (let port = 1; port <= 5; port++) await store.saveContact(contact(port, 100 + port), 3);
      expect((await store.loadContacts(0, 10)).map((c) => c.port)).toEqual([5, 4, 3]);
      // Heard again: newer, so it outlives the others; rewriting a known one drops nothing.
      await store.saveContact(contact(3, 200), 3);
      expect(await raw.contacts.countDocuments()).toBe(3);
      await store.saveContact(contact(6, 150), 3);
      expect((await store.loadContacts(0, 10)).map((c) => c.port)).toEqual([3, 6, 5]);
    });
  });

  describe('replies', () => {
    it('saveReply upserts; recentReplies and purgeReplies split by `at`', async () => {
      await store.saveReply('k1', { replies: [1] }, 100);
      await store.saveReply('k2', { replies: [2] }, 200);
      await store.saveReply('k3', { replies: [3] }, 300);
      await store.saveReply('k1', { replies: ['again'] }, 250);
      expect(await raw.requests.countDocuments()).toBe(3);
      const recent = await store.recentReplies(250);
      expect(recent.map((r) => r._id).sort()).toEqual(['k1', 'k3']);
      expect(recent.find((r) => r._id === 'k1')).toEqual({ _id: 'k1', reply: { replies: ['again'] }, at: 250 });
      expect(await store.purgeReplies(250)).toBe(1);
      expect((await store.recentReplies(0)).map((r) => r._id).sort()).toEqual(['k1', 'k3']);
      expect(await store.purgeReplies(0)).toBe(0);
    });
  });

  describe('helpers', () => {
    it('isDuplicateKey recognises 11000 only', () => {
      expect(isDuplicateKey({ code: 11000 })).toBe(true);
      expect(isDuplicateKey({ writeErrors: [{ code: 11000 }, { code: 11000 }] })).toBe(true);
      expect(isDuplicateKey({ writeErrors: [{ code: 11000 }, { code: 121 }] })).toBe(false);
      expect(isDuplicateKey({ code: 121 })).toBe(false);
      expect(isDuplicateKey(new Error('x'))).toBe(false);
      expect(isDuplicateKey(undefined)).toBe(false);
    });

    it('redact hides the password only', () => {
      expect(redact('mongodb://u:secret@h:1/db')).toBe('mongodb://u:***@h:1/db');
      expect(redact('mongodb://h:1/db')).toBe('mongodb://h:1/db');
    });

    it('indexes the store relies on exist after open', async () => {
      const names = async (c: { indexes(): Promise<{ name?: string; unique?: boolean }[]> }) => (await c.indexes()).map((i) => i.name);
      expect(await names(raw.texts)).toEqual(expect.arrayContaining(['req_unique', 'subject_seq']));
      expect(await names(raw.requests)).toEqual(expect.arrayContaining(['at']));
    });
  });
}

/** Store.open on an address where nothing listens fails with StorageError (not the driver's error). */
export async function expectOpenFailure(uri: string): Promise<void> {
  const err = await Store.open({ uri, dbName: freshDbName() }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe('RSS_STORAGE');
}
