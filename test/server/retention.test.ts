/**
 * Retention: which texts nobody needs any more, and the passes that delete
 * them. The rule is checked against the owed rule itself (a text deleted is
 * owed to no user), passes against an in-memory store.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agedLine, CATCH_UP_WINDOW, DELETE_CHUNK, keptMarks, passedLines, retentionPolicy, Retention, type RetentionHost, type RetentionPolicy } from '../../src/server/retention';
import { owedAfter } from '../../src/server/owed';
import type { TextDoc, UserDoc } from '../../src/store/documents';
import { FakeClock } from '../../src/util/clock';
import { MemoryStore } from '../security/memory-store';

const SUBJECTS = ['a', 'b', 'c', 'd'];

function user(name: string, subjects: string[], since: number[] = [], extra: Partial<UserDoc> = {}): UserDoc {
  return {
    _id: name, host: '127.0.0.1', port: 4000, dialect: 'native', subjects, createdAt: 1,
    since: subjects.map((subject, i) => ({ subject, seq: since[i] ?? 0 })), ...extra,
  };
}

/** The owed rule, written out plainly (server/owed.ts): is `t` owed to `u` with cursor `c`? */
function owed(t: { _id: number; subject: string; from: string }, u: UserDoc, c: number): boolean {
  const since = u.since?.find((e) => e.subject === t.subject)?.seq ?? 0;
  return u.subjects.includes(t.subject) && t.from !== u._id && t._id > Math.max(c, since);
}

const arbUsers = fc.uniqueArray(
  fc.record({
    name: fc.constantFrom('u0', 'u1', 'u2', 'u3', 'u4', 'u5'),
    subjects: fc.subarray(SUBJECTS),
    since: fc.array(fc.nat(60), { minLength: 4, maxLength: 4 }),
    cursor: fc.nat(80),
  }),
  { selector: (u) => u.name, maxLength: 6 },
);

describe('passedLines: the highest number no holder of a subject is owed', () => {
  it('no text at or below its subject line is owed to anyone, and the text just above it is owed to a holder', () => {
    fc.assert(
      fc.property(arbUsers, fc.array(fc.record({ subject: fc.constantFrom(...SUBJECTS), from: fc.constantFrom('u0', 'u1', 'zz') }), { maxLength: 100 }), (raw, spec) => {
        const users = raw.map((r) => user(r.name, r.subjects, r.since));
        const cursor = new Map<string, number>(raw.map((r) => [r.name, r.cursor]));
        const lines = passedLines(users, (n) => cursor.get(n)!);
        const texts = spec.map((t, i) => ({ _id: i + 1, ...t }));
        for (const t of texts) {
          const line = lines.get(t.subject);
          if (line !== undefined && t._id <= line) for (const u of users) expect(owed(t, u, cursor.get(u._id)!)).toBe(false);
        }
        for (const [subject, line] of lines) {
          // Tight: a text by someone else numbered just above the line is owed to some holder.
          const next = { _id: line + 1, subject, from: 'zz' };
          expect(users.some((u) => owed(next, u, cursor.get(u._id)!))).toBe(true);
        }
        // Subjects nobody holds have no line (nothing is known of their texts' readers here).
        for (const s of SUBJECTS) expect(lines.has(s)).toBe(users.some((u) => u.subjects.includes(s)));
      }),
    );
  });

  it('uses the same rule as the owed reads (owedAfter)', () => {
    const u = user('u', ['a', 'b'], [10, 3]);
    const lines = passedLines([u], () => 5);
    expect(lines.get('a')).toBe(owedAfter(u, 5, 'a'));
    expect(lines.get('b')).toBe(5);
  });
});

describe('marks: how old texts are', () => {
  it('agedLine is the line of the newest mark old enough, 0 when none is', () => {
    const marks = [{ at: 1000, line: 10 }, { at: 2000, line: 20 }, { at: 3000, line: 35 }];
    expect(agedLine(marks, 2500, 1000)).toBe(10);
    expect(agedLine(marks, 3000, 1000)).toBe(20);
    expect(agedLine(marks, 1500, 1000)).toBe(0);
    expect(agedLine(marks, 9000, 1000)).toBe(35);
    expect(agedLine([], 9000, 1000)).toBe(0);
  });

  it('keptMarks drops only marks older than the newest one already old enough', () => {
    const marks = [{ at: 1000, line: 10 }, { at: 2000, line: 20 }, { at: 3000, line: 35 }];
    const kept = keptMarks(marks, { at: 4100, line: 50 }, 1500);
    expect(kept).toEqual([{ at: 2000, line: 20 }, { at: 3000, line: 35 }, { at: 4100, line: 50 }]);
    // Whatever is dropped, the aged line at any later time is the same as with every mark kept.
    for (const now of [4100, 4600, 5200, 9000]) expect(agedLine(kept, now, 1500)).toBe(agedLine([...marks, { at: 4100, line: 50 }], now, 1500));
  });
});

/** A server stand-in: users, cursors and a visible line the test sets. */
function setup(policy: Partial<RetentionPolicy> = {}) {
  const store = new MemoryStore();
  const clock = new FakeClock();
  const users = new Map<string, UserDoc>();
  const cursors = new Map<string, number>();
  let wall = 1_000_000;
  let line = 0;
  let serving = true;
  let term = 1;
  const failures: unknown[] = [];
  let purged = 0;
  const catchUps: string[] = [];
  const host: RetentionHost = {
    users: () => users.values(),
    cursor: (n) => cursors.get(n) ?? 0,
    // As the server's: owed nothing up to `upTo` (at most the visible line), the cursor moves there.
    catchUp: async (name, upTo) => {
      catchUps.push(name);
      const u = users.get(name)!;
      const c = cursors.get(name) ?? 0;
      const to = Math.min(upTo, line);
      if ([...store.texts.values()].some((t) => t._id <= to && owed(t, u, c))) return false;
      cursors.set(name, Math.max(c, to));
      return true;
    },
    term: () => term,
    visibleLine: () => line,
    serving: () => serving,
    now: () => wall,
    failed: (err) => failures.push(err),
    purged: (n) => {
      purged += n;
    },
  };
  const full: RetentionPolicy = { keepMs: 10_000, newestKept: 2, intervalMs: 1000, perPass: 100_000, revisitMs: 0, deletesPerSecond: Infinity, ...policy };
  const retention = new Retention(store, host, clock, full);
  let seq = 0;
  return {
    store, clock, users, cursors, retention, failures, catchUps,
    get purged() {
      return purged;
    },
    publish(subject: string, from = 'pub', n = 1): number[] {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t: TextDoc = { _id: ++seq, from, subject, text: `t${seq}`, at: wall, req: `r${seq}`, epoch: 1 };
        store.texts.set(t._id, t);
        out.push(t._id);
      }
      line = seq;
      return out;
    },
    later(ms: number) {
      wall += ms;
      clock.advance(ms);
    },
    /** A pass marks where the log stands; kim has read up to `seq`; then the keep time passes. */
    async readByKimThenAged(seq: number) {
      await retention.pass();
      cursors.set('kim', seq);
      this.later(10_000);
    },
    stopServing() {
      serving = false;
    },
    newTerm() {
      term++;
    },
    remaining: (subject?: string) => [...store.texts.values()].filter((t) => !subject || t.subject === subject).map((t) => t._id).sort((a, b) => a - b),
  };
}

describe('Retention passes', () => {
  it('deletes what every holder has received once it is old enough, keeping the newest per subject and whatever is owed', async () => {
    const s = setup();
    s.users.set('kim', user('kim', ['news', 'sport']));
    s.users.set('lea', user('lea', ['news']));
    const news = s.publish('news', 'pub', 6);
    const sport = s.publish('sport', 'pub', 3);
    // Nothing is old enough yet: the first pass only marks where the log stands.
    expect(await s.retention.pass()).toBe(false);
    expect(s.remaining()).toHaveLength(9);
    s.later(10_000);
    s.cursors.set('kim', news[4]!);
    s.cursors.set('lea', news[2]!);
    await s.retention.pass();
    // news: lea is owed news[3..] (cursor at news[2]); sport: kim's cursor is past only sport's none (sport starts after news).
    expect(s.remaining('news')).toEqual(news.slice(3));
    expect(s.remaining('sport')).toEqual(sport);
    // lea catches up: news[3] goes; news[4] and news[5] are the newest two, kept whatever was received.
    s.cursors.set('lea', sport[2]!);
    s.cursors.set('kim', sport[2]!);
    s.later(1000);
    await s.retention.pass();
    expect(s.remaining('news')).toEqual(news.slice(4));
    expect(s.remaining('sport')).toEqual(sport.slice(1));
    expect(s.purged).toBe(5);
    expect(s.failures).toEqual([]);
  });

  it('never deletes a text younger than the keep time, nor one numbered above the visible line when marked', async () => {
    const s = setup({ newestKept: 1 });
    s.users.set('kim', user('kim', ['news']));
    const old = s.publish('news', 'pub', 3);
    await s.retention.pass();
    s.later(6000);
    const young = s.publish('news', 'pub', 3);
    await s.retention.pass();
    s.cursors.set('kim', young[2]!);
    s.later(4000);
    await s.retention.pass();
    // The old ones are 10 s old, the young ones 4 s: only the old ones go.
    expect(s.remaining()).toEqual(young);
    s.later(6000);
    await s.retention.pass();
    expect(s.remaining()).toEqual([young[2]]);
    expect(old.every((n) => !s.store.texts.has(n))).toBe(true);
  });

  it('a holder that is away keeps its subject texts, not the other subjects', async () => {
    const s = setup({ newestKept: 1 });
    s.users.set('away', user('away', ['a']));
    s.users.set('here', user('here', ['a', 'b']));
    const a = s.publish('a', 'pub', 4);
    const b = s.publish('b', 'pub', 4);
    s.cursors.set('here', b[3]!);
    await s.retention.pass();
    s.later(10_000);
    await s.retention.pass();
    expect(s.remaining('a')).toEqual(a);
    expect(s.remaining('b')).toEqual([b[3]]);
    // Away comes back and reads everything: its subject's texts can go too.
    s.cursors.set('away', b[3]!);
    await s.retention.pass();
    expect(s.remaining('a')).toEqual([a[3]]);
  });

  it("a user who only publishes on a subject does not hold its own texts back; one owed texts is read once until its cursor moves", async () => {
    const s = setup({ newestKept: 1 });
    s.users.set('pub', user('pub', ['mine']));
    s.users.set('away', user('away', ['other']));
    const mine = s.publish('mine', 'pub', 4);
    const other = s.publish('other', 'pub2', 2);
    await s.retention.pass();
    s.later(10_000);
    await s.retention.pass();
    // pub is owed nothing (its own texts): caught up, and its texts go but the newest.
    expect(s.cursors.get('pub')).toBe(other[1]);
    expect(s.remaining('mine')).toEqual([mine[3]]);
    // away is owed both: kept, and read once.
    expect(s.remaining('other')).toEqual(other);
    const readsOfAway = () => s.catchUps.filter((n) => n === 'away').length;
    expect(readsOfAway()).toBe(1);
    s.later(1000);
    await s.retention.pass();
    expect(readsOfAway()).toBe(1);
    // Its cursor moved (it received the first): read again.
    s.cursors.set('away', other[0]!);
    s.later(1000);
    await s.retention.pass();
    expect(readsOfAway()).toBe(2);
    expect(s.remaining('other')).toEqual(other.slice(1));
  });

  it('the next server to serve knows how old texts are from the marks in the store', async () => {
    const s = setup({ newestKept: 1 });
    s.users.set('kim', user('kim', ['news']));
    const news = s.publish('news', 'pub', 5);
    await s.readByKimThenAged(news[4]!);
    // A new Retention (a server that just took over) over the same store: no waiting for marks of its own.
    const host = { ...(s.retention as unknown as { host: RetentionHost }).host };
    const next = new Retention(s.store, host, s.clock, { keepMs: 10_000, newestKept: 1, intervalMs: 1000, perPass: 1000, revisitMs: 0, deletesPerSecond: Infinity });
    await next.pass();
    expect(s.remaining()).toEqual([news[4]]);
  });

  it('work is bounded: deletes of at most DELETE_CHUNK texts, a pass stops after perPass, later passes finish the job', async () => {
    const s = setup({ newestKept: 1, perPass: DELETE_CHUNK * 2 });
    s.users.set('kim', user('kim', ['news', 'sport']));
    const total = DELETE_CHUNK * 3 + 10;
    const news = s.publish('news', 'pub', total);
    const sport = s.publish('sport', 'pub', 5);
    const sizes: number[] = [];
    const del = s.store.deleteTexts.bind(s.store);
    s.store.deleteTexts = async (numbers) => {
      sizes.push(numbers.length);
      return del(numbers);
    };
    await s.readByKimThenAged(sport[4]!);
    expect(await s.retention.pass()).toBe(true);
    expect(s.remaining().length).toBe(total + 5 - DELETE_CHUNK * 2);
    while (await s.retention.pass());
    expect(s.remaining()).toEqual([news[total - 1], sport[4]]);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(DELETE_CHUNK);
  });

  it('deletes are spread out: commands of DELETE_CHUNK at most deletesPerSecond', async () => {
    const s = setup({ newestKept: 1, deletesPerSecond: DELETE_CHUNK * 20 });
    s.users.set('kim', user('kim', ['news']));
    const news = s.publish('news', 'pub', DELETE_CHUNK * 3 + 1);
    await s.readByKimThenAged(news[news.length - 1]!);
    const began = performance.now();
    await s.retention.pass();
    // Three commands, each followed by 1/20 s.
    expect(performance.now() - began).toBeGreaterThanOrEqual(140);
    expect(s.remaining()).toEqual([news[news.length - 1]]);
  });

  it('by default deletes are spread at twice the publish rate measured between passes, never slower than 1,000/s', async () => {
    const s = setup({ deletesPerSecond: undefined });
    s.users.set('kim', user('kim', ['news']));
    // Nothing measured yet: the floor, 1,000/s (128 ms per command of 128).
    expect(s.retention.deleteSpacing()).toBe(128);
    await s.retention.pass();
    s.publish('news', 'pub', 10_000);
    s.later(1000);
    await s.retention.pass();
    // 10,000 texts in 1 s: 20,000 deletes/s, 6.4 ms per command.
    expect(s.retention.deleteSpacing()).toBeCloseTo(6.4);
    // A clock that did not move changes nothing.
    await s.retention.pass();
    expect(s.retention.deleteSpacing()).toBeCloseTo(6.4);
    // Quiet since: the rate falls (smoothed), never below the floor.
    for (let i = 0; i < 20; i++) {
      s.later(1000);
      await s.retention.pass();
    }
    expect(s.retention.deleteSpacing()).toBe(128);
  });

  it('a subject all looked at waits revisitMs before it is read again', async () => {
    const s = setup({ newestKept: 1, revisitMs: 20_000 });
    s.users.set('kim', user('kim', ['news']));
    const first = s.publish('news', 'pub', 3);
    await s.readByKimThenAged(first[2]!);
    await s.retention.pass();
    expect(s.remaining()).toEqual([first[2]]);
    const more = s.publish('news', 'pub', 3);
    s.cursors.set('kim', more[2]!);
    s.later(10_000);
    await s.retention.pass();
    s.later(5_000);
    await s.retention.pass();
    // 15 s since news was looked at: not yet.
    expect(s.remaining()).toEqual([first[2], ...more]);
    s.later(6_000);
    await s.retention.pass();
    expect(s.remaining()).toEqual([more[2]]);
  });

  it('a publisher far behind is caught up a window at a time, and every user behind gets its turn however many', async () => {
    const s = setup({ newestKept: 1 });
    s.users.set('pub', user('pub', ['mine']));
    const mine = s.publish('mine', 'pub', CATCH_UP_WINDOW * 2 + 5);
    // 300 more publish-only users: more than one pass reads for (256).
    const others: number[] = [];
    for (let i = 0; i < 300; i++) {
      s.users.set(`p${i}`, user(`p${i}`, [`own${i}`]));
      others.push(...s.publish(`own${i}`, `p${i}`, 2));
    }
    await s.retention.pass();
    s.later(10_000);
    while (await s.retention.pass());
    await s.retention.pass();
    await s.retention.pass();
    // Several windows for pub (more texts than one window), fewer reads than a fixed window would take.
    expect(s.catchUps.filter((n) => n === 'pub').length).toBeGreaterThanOrEqual(2);
    expect(s.remaining('mine')).toEqual([mine[mine.length - 1]]);
    for (let i = 0; i < 300; i++) expect(s.remaining(`own${i}`)).toEqual([others[2 * i + 1]]);
  });

  it('keeps at most about 64 marks within the keep time, however many passes', async () => {
    const s = setup({ newestKept: 1 });
    s.users.set('kim', user('kim', ['news']));
    for (let i = 0; i < 400; i++) {
      s.publish('news');
      await s.retention.pass();
      s.later(50);
    }
    expect(s.store.marks.length).toBeLessThanOrEqual(66);
    expect(s.store.marks.length).toBeGreaterThan(10);
  });

  it('a store error mid-pass: the next pass looks at every subject again and finishes', async () => {
    const s = setup({ newestKept: 1 });
    s.users.set('kim', user('kim', ['a', 'b']));
    const a = s.publish('a', 'pub', DELETE_CHUNK + 3);
    const b = s.publish('b', 'pub', 4);
    await s.readByKimThenAged(b[3]!);
    const del = s.store.deleteTexts.bind(s.store);
    let calls = 0;
    s.store.deleteTexts = async (numbers) => {
      if (++calls === 2) throw new Error('store away');
      return del(numbers);
    };
    await expect(s.retention.pass()).rejects.toThrow('store away');
    await s.retention.pass();
    expect(s.remaining()).toEqual([a[a.length - 1], b[3]]);
  });

  it('a pass stops when the serving term changes under it', async () => {
    const s = setup({ newestKept: 1 });
    s.users.set('kim', user('kim', ['news']));
    const news = s.publish('news', 'pub', DELETE_CHUNK * 3);
    await s.readByKimThenAged(news[news.length - 1]!);
    const del = s.store.deleteTexts.bind(s.store);
    s.store.deleteTexts = async (numbers) => {
      s.newTerm();
      return del(numbers);
    };
    await s.retention.pass();
    // The first command went; nothing after it in that pass.
    expect(s.remaining()).toHaveLength(DELETE_CHUNK * 2);
  });

  it('texts are never kept shorter than the reply lifetime, whatever the policy asks', () => {
    expect(retentionPolicy(120_000, { keepMs: 1000 }).keepMs).toBe(120_000);
    expect(retentionPolicy(120_000, { keepMs: 600_000 }).keepMs).toBe(600_000);
    expect(retentionPolicy(500).keepMs).toBe(500);
  });

  it('does nothing once the server no longer serves', async () => {
    const s = setup({ newestKept: 1 });
    s.users.set('kim', user('kim', ['news']));
    const news = s.publish('news', 'pub', 4);
    await s.readByKimThenAged(news[3]!);
    s.stopServing();
    expect(await s.retention.pass()).toBe(false);
    expect(s.remaining()).toEqual(news);
  });

  it('runs on its timer while started, and stops with stop()', async () => {
    const s = setup({ newestKept: 1, intervalMs: 1000 });
    s.users.set('kim', user('kim', ['news']));
    const news = s.publish('news', 'pub', 4);
    s.retention.start();
    s.later(1000);
    await new Promise((r) => setImmediate(r));
    s.cursors.set('kim', news[3]!);
    s.later(10_000);
    await expect.poll(() => s.remaining()).toEqual([news[3]]);
    s.retention.stop();
    const more = s.publish('news', 'pub', 3);
    s.cursors.set('kim', more[2]!);
    s.later(30_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.remaining()).toEqual([news[3], ...more]);
  });
});
