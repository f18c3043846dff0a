/**
 * The log model of what each user is owed (cursor + since over `texts`),
 * driven through the real Store on the embedded engine, the real owed rule
 * (server/owed.ts) and the real coalesced cursors (server/cursors.ts),
 * against a plain model: a set of owed sequence numbers per user. A publish
 * adds its number to every other user subscribed to its subject at that
 * moment; a subject change drops the owed texts on the subjects dropped;
 * an in-order ACK or a RETRIEVE-TEXTS removes what it received. A handoff
 * flushes the cursors and reloads everything from the store (nothing may
 * change); a crash reloads without flushing: then the texts received since
 * the last write may be owed again, and nothing else may change (never a
 * loss).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type RunningEngine } from '../../src/engine';
import { Cursors } from '../../src/server/cursors';
import { readOwed, sinceFor } from '../../src/server/owed';
import type { UserDoc } from '../../src/store/documents';
import { Store } from '../../src/store/store';
import { FakeClock } from '../../src/util/clock';
import { openRawDb } from '../helpers/raw-db';

const NAMES = ['ann', 'ben', 'cat', 'dan'] as const;
const SUBJECTS = ['a', 'b', 'c'] as const;

type Op =
  | { op: 'register'; user: number }
  | { op: 'deregister'; user: number }
  | { op: 'subjects'; user: number; subjects: string[] }
  | { op: 'publish'; user: number; subject: number; also: number }
  | { op: 'ack'; user: number }
  | { op: 'retrieve'; user: number; n: number }
  | { op: 'tick' }
  | { op: 'handoff' }
  | { op: 'crash' };

const user = fc.integer({ min: 0, max: NAMES.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('register' as const), user }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deregister' as const), user }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('subjects' as const), user, subjects: fc.subarray([...SUBJECTS]) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('publish' as const), user, subject: fc.integer({ min: 0, max: 2 }), also: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('ack' as const), user }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('retrieve' as const), user, n: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('tick' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('handoff' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('crash' as const) }) },
);

/** Most runs begin with every user registered on some subjects, so the operations after meet. */
const start: fc.Arbitrary<Op[]> = fc
  .array(fc.subarray([...SUBJECTS], { minLength: 1 }), { minLength: NAMES.length, maxLength: NAMES.length })
  .map((lists) => lists.flatMap((subjects, u): Op[] => [{ op: 'register', user: u }, { op: 'subjects', user: u, subjects }]));

/** One serving server's view, as RssServer holds it: users in memory, cursors coalesced, a counter for numbers. */
class Sim {
  readonly directory = new Map<string, UserDoc>();
  readonly clock = new FakeClock();
  cursors: Cursors;
  /** Every number issued so far is stored (publishes here complete at once): issued = visible line. */
  issued = 0;
  get sequencer(): { visibleLine: number } {
    return { visibleLine: this.issued };
  }
  readonly store: Store;

  constructor(store: Store) {
    this.store = store;
    this.cursors = this.newCursors();
  }

  newCursors(): Cursors {
    return new Cursors(this.store, this.clock, (err) => { throw err; });
  }

  /** What a server that takes over loads. */
  async reload(): Promise<void> {
    const users = await this.store.loadUsers();
    this.directory.clear();
    for (const u of users) this.directory.set(u._id, u);
    this.cursors.clear();
    this.cursors = this.newCursors();
    this.cursors.load(users);
  }

  owed(name: string, limit: number) {
    return readOwed({ store: this.store, directory: this.directory, cursors: this.cursors, sequencer: this.sequencer }, name, limit);
  }
}

let sim: Sim;

/** The plain model: owed numbers per registered user, subjects per user, the subject of every number. */
class Model {
  readonly owed = new Map<string, Set<number>>();
  readonly subjects = new Map<string, string[]>();
  readonly subjectOf = new Map<number, string>();
  /** Numbers received since the cursors were last written: the only ones a crash may owe again. */
  readonly unwritten = new Map<string, Set<number>>();

  sorted(name: string): number[] {
    return [...(this.owed.get(name) ?? [])].sort((x, y) => x - y);
  }

  received(name: string, seqs: number[]): void {
    let u = this.unwritten.get(name);
    if (!u) this.unwritten.set(name, (u = new Set()));
    for (const s of seqs) {
      this.owed.get(name)!.delete(s);
      u.add(s);
    }
  }
}

async function step(store: Store, model: Model, o: Op): Promise<void> {
  const name = 'user' in o ? NAMES[o.user]! : '';
  const registered = model.owed.has(name);
  switch (o.op) {
    case 'register': {
      if (registered) return;
      const doc: UserDoc = { _id: name, host: '127.0.0.1', port: 1, dialect: 'native', subjects: [], since: [], cursor: sim.issued, createdAt: 1 };
      expect(await store.insertUser(doc)).toBe(true);
      sim.directory.set(name, doc);
      sim.cursors.start(name, sim.issued);
      model.owed.set(name, new Set());
      model.subjects.set(name, []);
      return;
    }
    case 'deregister': {
      if (!registered) return;
      await store.deleteUser(name);
      sim.directory.delete(name);
      sim.cursors.forget(name);
      model.owed.delete(name);
      model.subjects.delete(name);
      model.unwritten.delete(name);
      return;
    }
    case 'subjects': {
      if (!registered) return;
      const u = sim.directory.get(name)!;
      const since = sinceFor(u, o.subjects, sim.issued);
      await store.updateUser(name, { subjects: o.subjects, since });
      sim.directory.set(name, { ...u, subjects: o.subjects, since });
      model.subjects.set(name, o.subjects);
      for (const s of [...model.owed.get(name)!]) if (!o.subjects.includes(model.subjectOf.get(s)!)) model.owed.get(name)!.delete(s);
      return;
    }
    case 'publish': {
      // A publisher need not be registered here: the rule only excludes its own texts. Two at once sometimes (one group).
      const subjects = [SUBJECTS[o.subject]!, ...(o.also === 0 ? [SUBJECTS[(o.subject + 1) % 3]!] : [])];
      const texts = subjects.map((subject) => ({ _id: ++sim.issued, from: name, subject, text: `t${sim.issued}`, at: 1, req: `r${sim.issued}`, epoch: 1 }));
      const out = await Promise.all(texts.map((t) => store.storeText(t)));
      expect(out.every((r) => r.stored)).toBe(true);
      for (const t of texts) {
        model.subjectOf.set(t._id, t.subject);
        for (const [u, subs] of model.subjects) if (u !== name && subs.includes(t.subject)) model.owed.get(u)!.add(t._id);
      }
      return;
    }
    case 'ack': {
      if (!registered) return;
      // A native push is always the oldest owed text; its ACK moves the cursor there.
      const { texts } = await sim.owed(name, 1);
      expect(texts.map((t) => t._id)).toEqual(model.sorted(name).slice(0, 1));
      if (texts.length === 0) return;
      sim.cursors.advance(name, texts[0]!._id);
      model.received(name, [texts[0]!._id]);
      return;
    }
    case 'retrieve': {
      if (!registered) return;
      const { texts, more } = await sim.owed(name, o.n);
      const want = model.sorted(name);
      expect(texts.map((t) => t._id)).toEqual(want.slice(0, o.n));
      expect(more).toBe(want.length > o.n);
      for (const t of texts) expect(model.subjects.get(name)).toContain(t.subject);
      if (texts.length === 0) return;
      await sim.cursors.saveNow(name, texts.at(-1)!._id);
      model.received(name, texts.map((t) => t._id));
      model.unwritten.clear();
      return;
    }
    case 'tick':
      sim.clock.advance(1000);
      await sim.cursors.flush();
      model.unwritten.clear();
      return;
    case 'handoff':
      await sim.cursors.flush();
      model.unwritten.clear();
      await sim.reload();
      return;
    case 'crash': {
      // Whatever was not written is gone: the next server reads the store.
      await sim.reload();
      for (const [u, owed] of model.owed) {
        const now = (await sim.owed(u, 10_000)).texts.map((t) => t._id);
        const again = now.filter((s) => !owed.has(s));
        // Never a loss: everything owed still is.
        expect(now).toEqual(expect.arrayContaining([...owed]));
        // Owed again: only texts received since the last write.
        for (const s of again) expect(model.unwritten.get(u)?.has(s)).toBe(true);
        model.owed.set(u, new Set(now));
      }
      model.unwritten.clear();
      return;
    }
  }
}

describe('the log model of owed texts against a per-recipient model', () => {
  let engine: RunningEngine;
  beforeAll(async () => {
    engine = await startEngine({ port: 0 });
  });
  afterAll(async () => {
    await engine.close();
  });

  it('agrees under random publishes, subject changes, ACKs, retrieves, handoffs and crashes', async () => {
    await fc.assert(
      fc.asyncProperty(start, fc.array(opArb, { minLength: 10, maxLength: 80, size: 'max' }), async (first, ops) => {
        const dbName = `owed_${randomBytes(5).toString('hex')}`;
        const store = await Store.open({ uri: engine.uri, dbName });
        try {
          sim = new Sim(store);
          const model = new Model();
          for (const o of [...first, ...ops]) await step(store, model, o);
          // At the end, every user's whole owed list agrees.
          for (const u of model.owed.keys()) expect((await sim.owed(u, 10_000)).texts.map((t) => t._id)).toEqual(model.sorted(u));
        } finally {
          sim.cursors.clear();
          await store.close();
          const raw = await openRawDb(engine.uri, dbName);
          await raw.db.dropDatabase();
          await raw.close();
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
