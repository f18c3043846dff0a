import { describe, expect, it } from 'vitest';
import { Cursors, FLUSH_MS, FLUSH_MS_PER_USER, FLUSH_SLICE, MAX_FLUSH_MS, WRITE_DEADLINE_MS, flushDelay } from '../../src/server/cursors';
import { FakeClock } from '../../src/util/clock';

type Write = { user: string; cursor: number };

/** A cursor store whose writes the test answers one by one. */
function heldStore() {
  const calls: { writes: Write[]; resolve: () => void; reject: (err: Error) => void; done?: boolean }[] = [];
  const stored = new Map<string, number>();
  return {
    calls,
    stored,
    saveCursors(writes: Write[]): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        calls.push({
          writes,
          resolve: () => {
            for (const w of writes) stored.set(w.user, Math.max(stored.get(w.user) ?? 0, w.cursor));
            resolve();
          },
          reject,
        });
      });
    },
  };
}

/** `n` users whose cursors moved from 0 to `to`. */
function moved(cursors: Cursors, n: number, to: number): string[] {
  const users = Array.from({ length: n }, (_, i) => `u${i}`);
  for (const u of users) {
    cursors.start(u, 0);
    cursors.advance(u, to);
  }
  return users;
}

/** Lets every pending promise callback run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('Cursors: the coalesced write in slices, one flush at a time', () => {
  it('writes many moved cursors in commands of at most FLUSH_SLICE users, each after the one before is stored', async () => {
    const store = heldStore();
    const cursors = new Cursors(store, new FakeClock(), () => {});
    const users = moved(cursors, 2 * FLUSH_SLICE + 5, 7);
    const done = cursors.flush();
    await settle();
    // The engine runs a command whole in the server's thread: a second slice waits for the first.
    expect(store.calls).toHaveLength(1);
    expect(store.calls[0]!.writes).toHaveLength(FLUSH_SLICE);
    store.calls[0]!.resolve();
    await settle();
    expect(store.calls).toHaveLength(2);
    store.calls[1]!.resolve();
    await settle();
    expect(store.calls.map((c) => c.writes.length)).toEqual([FLUSH_SLICE, FLUSH_SLICE, 5]);
    store.calls[2]!.resolve();
    await done;
    expect([...store.stored.keys()].sort()).toEqual([...users].sort());
    expect(cursors.stats).toEqual({ cursorWrites: 3, cursorsWritten: users.length });
  });

  it('a cursor that moves while its slice waits is written again by the next flush', async () => {
    const store = heldStore();
    const cursors = new Cursors(store, new FakeClock(), () => {});
    const users = moved(cursors, FLUSH_SLICE + 1, 3);
    const done = cursors.flush();
    await settle();
    const last = users[users.length - 1]!;
    cursors.advance(last, 9);
    store.calls[0]!.resolve();
    await settle();
    store.calls[1]!.resolve();
    await done;
    const next = cursors.flush();
    await settle();
    expect(store.calls[2]!.writes).toEqual([{ user: last, cursor: 9 }]);
    store.calls[2]!.resolve();
    await next;
    expect(store.stored.get(last)).toBe(9);
  });

  it('a flush called while the timer\'s flush writes waits for it, and writes again what it failed to write', async () => {
    const store = heldStore();
    const clock = new FakeClock();
    const failures: unknown[] = [];
    const cursors = new Cursors(store, clock, (err) => failures.push(err));
    cursors.start('alice', 0);
    cursors.advance('alice', 5);
    clock.advance(FLUSH_MS);
    await settle();
    expect(store.calls).toHaveLength(1);
    // The handoff's flush: alice's cursor is out of the timer's hands only once it is stored.
    let handoffDone = false;
    const handoff = cursors.flush().then(() => { handoffDone = true; });
    await settle();
    expect(handoffDone).toBe(false);
    store.calls[0]!.reject(new Error('store away'));
    await settle();
    expect(failures).toHaveLength(1);
    expect(handoffDone).toBe(false);
    expect(store.calls).toHaveLength(2);
    expect(store.calls[1]!.writes).toEqual([{ user: 'alice', cursor: 5 }]);
    store.calls[1]!.resolve();
    await handoff;
    expect(store.stored.get('alice')).toBe(5);
  });

  it('a failed slice leaves it and the slices after it moved, for the next flush', async () => {
    const store = heldStore();
    const cursors = new Cursors(store, new FakeClock(), () => {});
    const users = moved(cursors, FLUSH_SLICE + 2, 4);
    const first = cursors.flush();
    await settle();
    store.calls[0]!.reject(new Error('store away'));
    await expect(first).rejects.toThrow('store away');
    const again = cursors.flush();
    await settle();
    store.calls[1]!.resolve();
    await settle();
    store.calls[2]!.resolve();
    await again;
    expect(store.stored.size).toBe(users.length);
  });

  it('release, when the lease is gone, writes every moved cursor, also those a flush still out had not reached, then forgets them', async () => {
    const store = heldStore();
    const clock = new FakeClock();
    const cursors = new Cursors(store, clock, () => {});
    const early = moved(cursors, FLUSH_SLICE + 10, 2);
    clock.advance(FLUSH_MS);
    await settle();
    // The timer's flush is out with its first slice; more move meanwhile.
    expect(store.calls).toHaveLength(1);
    const late = Array.from({ length: 2 * FLUSH_SLICE }, (_, i) => `v${i}`);
    for (const u of late) {
      cursors.start(u, 0);
      cursors.advance(u, 6);
    }
    const released = cursors.release();
    expect(cursors.get(late[0]!)).toBe(0);
    // Beside the flush still out: its first slice is not awaited.
    await settle();
    expect(store.calls).toHaveLength(2);
    for (let i = 0; i < 10 && store.calls.some((c) => !c.done); i++) {
      for (const c of store.calls) if (!c.done) (c.done = true), c.resolve();
      await settle();
    }
    await released;
    expect(store.stored.size).toBe(early.length + late.length);
    expect([...store.stored.values()].every((v) => v === 2 || v === 6)).toBe(true);
  });

  it('a cursor write that never settles is given up after WRITE_DEADLINE_MS: the flush fails, its cursors stay moved, the next flush writes them', async () => {
    const store = heldStore();
    const clock = new FakeClock();
    const cursors = new Cursors(store, clock, () => {});
    cursors.start('alice', 0);
    cursors.advance('alice', 8);
    const first = cursors.flush();
    await settle();
    clock.advance(WRITE_DEADLINE_MS);
    await expect(first).rejects.toThrow(/no answer within/);
    // The handoff's flush is not held by the lost write.
    const again = cursors.flush();
    await settle();
    expect(store.calls).toHaveLength(2);
    expect(store.calls[1]!.writes).toEqual([{ user: 'alice', cursor: 8 }]);
    store.calls[1]!.resolve();
    await again;
    expect(store.stored.get('alice')).toBe(8);
  });
});


describe('Cursors: what is written of a user gone or started again', () => {
  it('a user forgotten after its cursor moved is not written; one started again writes only its new cursor, once', async () => {
    const store = heldStore();
    const cursors = new Cursors(store, new FakeClock(), () => {});
    moved(cursors, 3, 9);
    cursors.forget('u0');
    // u1 is de-registered and registered again: its old, moved cursor is not the new user's.
    cursors.start('u1', 0);
    cursors.advance('u1', 4);
    cursors.advance('u1', 5);
    cursors.advance('u2', 8); // lower than where it is: no move
    const done = cursors.flush();
    await settle();
    store.calls[0]!.resolve();
    await done;
    expect(store.calls).toHaveLength(1);
    expect([...store.calls[0]!.writes].sort((a, b) => a.user.localeCompare(b.user))).toEqual([{ user: 'u1', cursor: 5 }, { user: 'u2', cursor: 9 }]);
    expect(cursors.get('u0')).toBe(0);
    expect(cursors.get('u1')).toBe(5);
    // Nothing moved since: the next flush writes nothing.
    await cursors.flush();
    expect(store.calls).toHaveLength(1);
  });

  it('a user who moves again after its write is written again; one that never moved, never', async () => {
    const store = heldStore();
    const cursors = new Cursors(store, new FakeClock(), () => {});
    cursors.load([{ _id: 'a', cursor: 3 }, { _id: 'b', cursor: 1 }]);
    cursors.advance('a', 4);
    let done = cursors.flush();
    await settle();
    store.calls[0]!.resolve();
    await done;
    cursors.advance('a', 6);
    done = cursors.flush();
    await settle();
    store.calls[1]!.resolve();
    await done;
    expect(store.calls.map((c) => c.writes)).toEqual([[{ user: 'a', cursor: 4 }], [{ user: 'a', cursor: 6 }]]);
    expect(store.stored.has('b')).toBe(false);
  });
});

describe('Cursors: the wait between flushes grows with the users the last one wrote', () => {
  it('flushDelay: FLUSH_MS for a few users, FLUSH_MS_PER_USER each beyond, at most MAX_FLUSH_MS', () => {
    expect(flushDelay(0)).toBe(FLUSH_MS);
    expect(flushDelay(10)).toBe(FLUSH_MS);
    expect(flushDelay(2000)).toBe(2000 * FLUSH_MS_PER_USER);
    expect(flushDelay(1_000_000)).toBe(MAX_FLUSH_MS);
  });

  it('after a flush of many users the next waits longer; after a small one, FLUSH_MS again', async () => {
    const store = heldStore();
    const clock = new FakeClock();
    const cursors = new Cursors(store, clock, () => {});
    const many = 3 * FLUSH_SLICE;
    const users = moved(cursors, many, 1);
    clock.advance(FLUSH_MS);
    await settle();
    for (let i = 0; i < 3; i++) {
      store.calls[i]!.resolve();
      await settle();
    }
    expect(store.stored.size).toBe(many);
    // Every user moves again: not written before flushDelay(many).
    for (const u of users) cursors.advance(u, 2);
    clock.advance(flushDelay(many) - 1);
    await settle();
    expect(store.calls).toHaveLength(3);
    clock.advance(1);
    await settle();
    expect(store.calls).toHaveLength(4);
    for (let i = 3; i < 6; i++) {
      store.calls[i]!.resolve();
      await settle();
    }
    // One user moves: the next flush took many, so it waits long too; the one after that is quick again.
    cursors.advance(users[0]!, 3);
    clock.advance(flushDelay(many));
    await settle();
    expect(store.calls).toHaveLength(7);
    store.calls[6]!.resolve();
    await settle();
    cursors.advance(users[0]!, 4);
    clock.advance(FLUSH_MS);
    await settle();
    expect(store.calls).toHaveLength(8);
    store.calls[7]!.resolve();
    await settle();
    expect(store.stored.get(users[0]!)).toBe(4);
  });
});
