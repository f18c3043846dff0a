/**
 * The storage contract of rss: every Store method, as the server relies on
 * it. Registered once per engine by contract.test.ts; each test gets a fresh
 * database, so it starts from empty collections.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FencedError, NotServingError, StorageError } from '../../src/errors';
import type { TextDoc, UserDoc } from '../../src/store/documents';
import { isDuplicateKey, redact, Store } from '../../src/store/store';

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

/** Counts the write commands the store sends through `db.command`, as "insert texts", "delete inbox"... */
function writeCommands(store: Store): Record<string, number> {
  const seen: Record<string, number> = {};
  const orig = store.db.command.bind(store.db);
  store.db.command = ((cmd: Record<string, unknown>, ...rest: never[]) => {
    const verb = ['insert', 'update', 'delete'].find((v) => v in cmd);
    if (verb) seen[`${verb} ${String(cmd[verb])}`] = (seen[`${verb} ${String(cmd[verb])}`] ?? 0) + 1;
    return orig(cmd, ...rest);
  }) as typeof store.db.command;
  return seen;
}

/** Registers the Store contract against the engine whose URI `uri()` gives (read when each test starts). */
export function storeContract(uri: () => string): void {
  let store: Store;

  beforeEach(async () => {
    store = await Store.open({ uri: uri(), dbName: freshDbName() });
  });
  afterEach(async () => {
    await store.db.dropDatabase();
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
      expect(await store.control.countDocuments()).toBe(1);
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
      // A stored text 1 and the rows of text 2 (then it paused); 3 and 4 were never used.
      expect((await store.storeText(text(first), ['bob'])).stored).toBe(true);
      await store.addInbox([{ user: 'bob', seq: first + 1 }]);
      await store.moveLease('A', 1, 'B', 0);
      expect(await store.fenceSeqs('B', 2)).toBe(4);
      expect((await store.readLease())!).toMatchObject({ fence: 4, fenced: 3 });
      // A wakes up and stores text 2: refused, its number is fenced.
      await expect(store.storeText(text(first + 1), ['bob'])).rejects.toThrow(/fenced/);
      // Bob is owed text 1 (stored before the fence) and an orphan row of 2 (a fence is no text).
      expect(await store.pendingTexts('bob', 10)).toMatchObject({ texts: [{ _id: 1 }], missing: [2] });
      expect(await store.countTexts()).toBe(1);
      expect(await store.lastTexts(['s'], 10)).toHaveLength(1);
      // A second fence (nothing allocated since) adds nothing; it is refused to a server that does not hold the lease.
      expect(await store.fenceSeqs('B', 2)).toBe(4);
      expect((await store.readLease())!.fenced).toBe(3);
      expect(await store.fenceSeqs('A', 1)).toBeNull();
      // B's own numbers come after the fence.
      expect(await store.allocateSeqs('B', 2, 1)).toBe(5);
    });

    it('a text group retried after a lost answer is stored once, as stored', async () => {
      await store.initLease('A');
      await store.allocateSeqs('A', 1, 1);
      expect((await store.storeText(text(1), ['bob'])).stored).toBe(true);
      // The same group again (its first answer lost): found under its own number, so stored, rows kept.
      expect(await store.storeText(text(1), ['bob'])).toMatchObject({ stored: true, text: { _id: 1 } });
      expect((await store.pendingTexts('bob', 10)).texts.map((t) => t._id)).toEqual([1]);
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

    it('updateUser sets fields and reports a missing user', async () => {
      await store.insertUser(user('alice', ['a']));
      expect(await store.updateUser('alice', { subjects: ['x', 'y'], port: 5000 })).toBe(true);
      expect(await store.users.findOne({ _id: 'alice' })).toEqual({ ...user('alice'), subjects: ['x', 'y'], port: 5000 });
      expect(await store.updateUser('nobody', { port: 1 })).toBe(false);
      expect(await store.users.countDocuments()).toBe(1);
    });

    it('deleteUser removes the user and its inbox, nobody else’s, and keeps its texts', async () => {
      await store.insertUser(user('alice'));
      await store.insertUser(user('bob'));
      await store.insertText(text(1, 's', 'alice'), ['alice', 'bob']);
      await store.insertText(text(2, 's', 'bob'), ['alice']);
      expect(await store.deleteUser('alice')).toBe(true);
      expect(await store.loadUsers()).toEqual([user('bob')]);
      expect(await store.inbox.find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ user: 'bob', seq: 1 }]);
      expect(await store.countTexts()).toBe(2);
      expect(await store.deleteUser('alice')).toBe(false);
    });

    it('deleteUser of an unknown name still clears stray inbox rows', async () => {
      await store.addInbox([{ user: 'ghost', seq: 1 }]);
      expect(await store.deleteUser('ghost')).toBe(false);
      expect(await store.inbox.countDocuments()).toBe(0);
    });
  });

  describe('texts and inbox', () => {
    it('insertText stores the text and its deliveries', async () => {
      await store.insertText(text(1), ['bob', 'carol']);
      expect(await store.findTextByReq('req-1')).toEqual(text(1));
      expect(await store.findTextByReq('req-2')).toBeNull();
      const rows = await store.inbox.find({}).sort({ user: 1 }).project({ _id: 0 }).toArray();
      expect(rows).toEqual([{ user: 'bob', seq: 1 }, { user: 'carol', seq: 1 }]);
      expect(await store.countTexts()).toBe(1);
    });

    it('insertText is idempotent and a retry re-adds missing inbox rows', async () => {
      await store.insertText(text(1), ['bob', 'carol']);
      // Suppose only part of the deliveries were written before a crash.
      await store.inbox.deleteOne({ user: 'carol', seq: 1 });
      await store.insertText(text(1), ['bob', 'carol']);
      expect(await store.countTexts()).toBe(1);
      expect(await store.inbox.countDocuments({ seq: 1 })).toBe(2);
      expect(await store.inbox.countDocuments({ user: 'carol', seq: 1 })).toBe(1);
    });

    it('texts are unique by req (secondary unique index)', async () => {
      await store.insertText(text(1), []);
      const err = await store.texts.insertOne({ ...text(2), req: 'req-1' }).catch((e: unknown) => e);
      expect(isDuplicateKey(err)).toBe(true);
      expect(await store.countTexts()).toBe(1);
    });

    it('addInbox ignores rows already present and inserts the rest', async () => {
      await store.addInbox([{ user: 'bob', seq: 1 }]);
      await store.addInbox([
        { user: 'bob', seq: 1 },
        { user: 'bob', seq: 2 },
        { user: 'carol', seq: 1 },
      ]);
      await store.addInbox([]);
      expect(await store.inbox.countDocuments()).toBe(3);
    });

    it('pendingTexts: oldest first, limited, with `more`, only that user', async () => {
      for (const seq of [3, 1, 4, 2]) await store.insertText(text(seq), ['bob']);
      await store.insertText(text(5), ['carol']);
      const two = await store.pendingTexts('bob', 2);
      expect(two.texts.map((t) => t._id)).toEqual([1, 2]);
      expect(two.more).toBe(true);
      const all = await store.pendingTexts('bob', 4);
      expect(all.texts).toEqual([1, 2, 3, 4].map((s) => text(s)));
      expect(all.more).toBe(false);
      expect(await store.pendingTexts('nobody', 10)).toEqual({ texts: [], more: false, missing: [] });
    });

    it('pendingTexts skips an owed text that does not exist', async () => {
      await store.insertText(text(1), ['bob']);
      await store.addInbox([{ user: 'bob', seq: 2 }]);
      await store.insertText(text(3), ['bob']);
      const r = await store.pendingTexts('bob', 10);
      expect(r.texts.map((t) => t._id)).toEqual([1, 3]);
      expect(r.more).toBe(false);
      // The caller decides whether a missing text is in progress or an orphan.
      expect(r.missing).toEqual([2]);
    });

    it('removeInbox removes only the given seqs of that user', async () => {
      for (const seq of [1, 2, 3]) await store.insertText(text(seq), ['bob', 'carol']);
      await store.removeInbox('bob', [1, 3, 99]);
      await store.removeInbox('bob', []);
      expect((await store.pendingTexts('bob', 10)).texts.map((t) => t._id)).toEqual([2]);
      expect((await store.pendingTexts('carol', 10)).texts.map((t) => t._id)).toEqual([1, 2, 3]);
    });

    it('storeText: concurrent texts are written as one group, each with its deliveries', async () => {
      const spy = writeCommands(store);
      const out = await Promise.all([1, 2, 3, 4].map((seq) => store.storeText(text(seq), ['bob', 'carol'])));
      expect(out.map((o) => [o.stored, o.text._id])).toEqual([[true, 1], [true, 2], [true, 3], [true, 4]]);
      expect(spy).toEqual({ 'insert texts': 1, 'insert inbox': 1 });
      expect((await store.pendingTexts('carol', 10)).texts.map((t) => t._id)).toEqual([1, 2, 3, 4]);
    });

    it('storeText: a repeated request key answers with the stored text; the rows written for its own number are removed', async () => {
      await store.storeText(text(1), ['bob']);
      await store.removeInbox('bob', [1]);
      // The retransmission got a new number (5): it is not stored, and owes nothing (the first text's deliveries
      // were written before it; bob has received it already, and is not owed it again).
      const [again, fresh] = await Promise.all([store.storeText({ ...text(5), req: 'req-1' }, ['bob', 'carol']), store.storeText(text(2), ['bob'])]);
      expect(again).toEqual({ stored: false, text: text(1) });
      expect(fresh).toEqual({ stored: true, text: text(2) });
      expect(await store.countTexts()).toBe(2);
      expect(await store.texts.countDocuments({ _id: 5 })).toBe(0);
      expect(await store.inbox.countDocuments({ seq: 5 })).toBe(0);
      expect((await store.pendingTexts('bob', 10)).texts.map((t) => t._id)).toEqual([2]);
      expect((await store.pendingTexts('carol', 10)).texts.map((t) => t._id)).toEqual([]);
    });

    it('storeText writes the deliveries before the text: a stored text always has its rows', async () => {
      const spy: string[] = [];
      const orig = store.db.command.bind(store.db);
      store.db.command = ((cmd: Record<string, unknown>, ...rest: never[]) => {
        if ('insert' in cmd) spy.push(String(cmd.insert));
        return orig(cmd, ...rest);
      }) as typeof store.db.command;
      await store.storeText(text(1), ['bob']);
      expect(spy).toEqual(['inbox', 'texts']);
    });

    it('storeText: two publishes of one request key in the same group store one text', async () => {
      const out = await Promise.all([store.storeText(text(1), ['bob']), store.storeText({ ...text(2), req: 'req-1' }, ['bob'])]);
      expect(out.map((o) => o.text._id)).toEqual([1, 1]);
      expect(out.map((o) => o.stored)).toEqual([true, false]);
      expect(await store.countTexts()).toBe(1);
      expect(await store.inbox.countDocuments({})).toBe(1);
    });

    it('storeText: a number already taken fails only that text', async () => {
      await store.texts.insertOne({ ...text(3), req: 'other' });
      const out = await Promise.allSettled([store.storeText(text(3), ['bob']), store.storeText(text(4), ['bob'])]);
      expect(out[0]!.status).toBe('rejected');
      expect((out[0] as PromiseRejectedResult).reason).toBeInstanceOf(FencedError);
      expect(out[1]).toEqual({ status: 'fulfilled', value: { stored: true, text: text(4) } });
      // No inbox row for the text that was not stored.
      expect(await store.inbox.find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ user: 'bob', seq: 4 }]);
    });

    it('inbox rows have deterministic ids; removals of one turn are one delete command', async () => {
      for (const seq of [1, 2, 3]) await store.insertText(text(seq), ['bob', 'carol', 'dave']);
      expect((await store.inbox.find({ user: 'bob' }).sort({ seq: 1 }).toArray()).map((r) => r._id)).toEqual(['1:bob', '2:bob', '3:bob']);
      const spy = writeCommands(store);
      await Promise.all([store.removeInbox('bob', [1]), store.removeInbox('carol', [1, 2]), store.removeInbox('bob', [3]), store.removeInbox('dave', [])]);
      expect(spy).toEqual({ 'delete inbox': 1 });
      expect((await store.pendingTexts('bob', 10)).texts.map((t) => t._id)).toEqual([2]);
      expect((await store.pendingTexts('carol', 10)).texts.map((t) => t._id)).toEqual([3]);
      expect((await store.pendingTexts('dave', 10)).texts.map((t) => t._id)).toEqual([1, 2, 3]);
    });

    it("the hot path's write commands carry the URI's write concern", async () => {
      const sep = uri().includes('?') ? '&' : '?';
      const wc = await Store.open({ uri: `${uri()}${sep}w=1`, dbName: store.db.databaseName });
      try {
        const sent: Record<string, unknown>[] = [];
        const orig = wc.db.command.bind(wc.db);
        wc.db.command = ((cmd: Record<string, unknown>, ...rest: never[]) => {
          sent.push(cmd);
          return orig(cmd, ...rest);
        }) as typeof wc.db.command;
        await wc.storeText(text(1), ['bob']);
        await wc.removeInbox('bob', [1]);
        expect(sent.map((c) => c.writeConcern)).toEqual([{ w: 1 }, { w: 1 }, { w: 1 }]);
        expect(await wc.countTexts()).toBe(1);
      } finally {
        await wc.close();
      }
    });

    it('inbox rows of older versions (ObjectId ids) are still removed', async () => {
      await store.insertText(text(1), []);
      await store.inbox.insertOne({ user: 'bob', seq: 1 } as never);
      const again = await Store.open({ uri: uri(), dbName: store.db.databaseName });
      try {
        await again.removeInbox('bob', [1]);
        expect(await again.inbox.countDocuments({})).toBe(0);
      } finally {
        await again.close();
      }
    });

    it('lastTexts: the N most recent on the subjects, oldest first', async () => {
      const subjects = ['a', 'b', 'c', 'a', 'c', 'b', 'a', 'c', 'b', 'a'];
      // Inserted out of order, so natural order is not sequence order.
      for (const seq of [7, 2, 9, 1, 10, 4, 3, 8, 6, 5]) await store.insertText(text(seq, subjects[seq - 1]), []);
      const ids = async (s: string[], n: number) => (await store.lastTexts(s, n)).map((t) => t._id);
      expect(await ids(['a', 'b'], 4)).toEqual([6, 7, 9, 10]);
      expect(await ids(['c'], 2)).toEqual([5, 8]);
      expect(await ids(['a'], 100)).toEqual([1, 4, 7, 10]);
      expect(await ids(['b', 'c', 'a'], 3)).toEqual([8, 9, 10]);
      expect(await ids(['zzz'], 3)).toEqual([]);
      expect(await ids([], 3)).toEqual([]);
      expect(await ids(['a'], 0)).toEqual([]);
      expect((await store.lastTexts(['c'], 1))[0]).toEqual(text(8, 'c'));
    });

    it('countTexts counts stored texts', async () => {
      expect(await store.countTexts()).toBe(0);
      for (const seq of [1, 2, 3]) await store.insertText(text(seq), []);
      await store.insertText(text(3), []);
      expect(await store.countTexts()).toBe(3);
    });
  });

  describe('contacts', () => {
    const contact = (port: number, at: number) => ({ _id: `127.0.0.1|${port}`, host: '127.0.0.1', port, dialect: 'text' as const, at });

    it('saveContact keeps at most `keep`, dropping the least recently heard when a new one comes', async () => {
      for (let port = 1; port <= 5; port++) await store.saveContact(contact(port, 100 + port), 3);
      expect((await store.loadContacts(0, 10)).map((c) => c.port)).toEqual([5, 4, 3]);
      // Heard again: newer, so it outlives the others; rewriting a known one drops nothing.
      await store.saveContact(contact(3, 200), 3);
      expect(await store.contacts.countDocuments()).toBe(3);
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
      expect(await store.requests.countDocuments()).toBe(3);
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
      expect(await names(store.texts)).toEqual(expect.arrayContaining(['req_unique', 'subject_seq']));
      expect(await names(store.inbox)).toEqual(expect.arrayContaining(['user_seq']));
      expect(await names(store.requests)).toEqual(expect.arrayContaining(['at']));
    });
  });
}

/** Store.open on an address where nothing listens fails with StorageError (not the driver's error). */
export async function expectOpenFailure(uri: string): Promise<void> {
  const err = await Store.open({ uri, dbName: freshDbName() }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe('RSS_STORAGE');
}
