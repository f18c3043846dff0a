import { afterEach, describe, expect, it } from 'vitest';
import { Long, ObjectId } from 'bson';
import * as path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { Journal } from '../../src/engine/storage/journal.js';
import { crc32, crc32Portable } from '../../src/engine/storage/journal-format.js';
import { cleanupDirs, dirUsage, openCollect, tempDir } from './journal-helpers.js';

afterEach(cleanupDirs);

describe('journal basics', () => {
  it('native and portable CRC-32 agree (check value of "123456789" is cbf43926)', () => {
    const data = Buffer.from('123456789');
    expect(crc32Portable(data)).toBe(0xcbf43926);
    expect(crc32(data)).toBe(0xcbf43926);
    const rnd = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff));
    expect(crc32(rnd)).toBe(crc32Portable(rnd));
  });

  it('creates the directory, round-trips records with BSON types, and reopens', async () => {
    const dir = path.join(await tempDir(), 'nested', 'data');
    const first = await openCollect(dir);
    expect(first.snapshot).toBeNull();
    expect(first.records).toEqual([]);
    const oid = new ObjectId();
    const recs = [
      { op: 'i', ns: 'db.c', doc: { _id: oid, n: 1, big: Long.fromString('9007199254740993'), at: new Date(5) } },
      { op: 'u', ns: 'db.c', q: { _id: oid }, u: { $set: { 'a.b': 'x' } } },
    ];
    await first.journal.append(recs[0]!);
    await first.journal.appendMany([recs[1]!, { op: 'd', n: 3 }]);
    expect(first.journal.bytesSinceSnapshot).toBeGreaterThan(0);
    await first.journal.close();

    const again = await openCollect(dir);
    expect(again.warnings).toEqual([]);
    expect(again.snapshot).toBeNull();
    expect(again.records).toEqual([...recs, { op: 'd', n: 3 }]);
    expect((again.records[0] as { doc: { big: Long } }).doc.big.toString()).toBe('9007199254740993');
    // Appending after reopen continues the same log.
    await again.journal.append({ op: 'x' });
    await again.journal.close();
    const third = await openCollect(dir);
    expect(third.records).toHaveLength(4);
    await third.journal.close();
  });

  it('rejects appends after close and rejects unserializable records without breaking the journal', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    // bson@7 would silently truncate this string; the journal must refuse it instead.
    await expect(journal.append({ s: 'x'.repeat(18 << 20) })).rejects.toThrow(/larger than bson can serialize/);
    await expect(journal.append(new Date() as never)).rejects.toThrow();
    const nearLimit = { s: 'y'.repeat((16 << 20) + 1000) };
    await journal.append(nearLimit);
    await journal.append({ ok: 1 });
    await journal.close();
    await journal.close(); // idempotent
    await expect(journal.append({ late: 1 })).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });
    const o = await openCollect(dir);
    expect(o.records).toHaveLength(2);
    expect((o.records[0]!.s as string).length).toBe(nearLimit.s.length);
    await o.journal.close();
    await expect(journal.compact([])).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });
  });

  it('group commit: 64 concurrent appends share far fewer than 64 fsyncs', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await Promise.all(Array.from({ length: 64 }, (_, i) => journal.append({ i })));
    // First batch leaves as soon as the tick ends, so everything fits in one or two.
    expect(journal.stats.syncs).toBeLessThanOrEqual(2);
    expect(journal.stats.records).toBe(64);

    // Appends issued while a sync is in flight go out together in the next one.
    const before = journal.stats.syncs;
    const waves: Promise<void>[] = [];
    for (let w = 0; w < 5; w++) {
      for (let i = 0; i < 50; i++) waves.push(journal.append({ w, i }));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(waves);
    expect(journal.stats.syncs - before).toBeLessThan(250 / 5);
    await journal.close();
    const { records, journal: j2 } = await openCollect(dir);
    expect(records).toHaveLength(64 + 250);
    expect(records.slice(0, 64)).toEqual(Array.from({ length: 64 }, (_, i) => ({ i })));
    await j2.close();
  });

  it('maxBatchBytes splits a large group into several writes, order preserved', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir, { maxBatchBytes: 1024 });
    await Promise.all(Array.from({ length: 100 }, (_, i) => journal.append({ i, pad: 'p'.repeat(100) })));
    expect(journal.stats.syncs).toBeGreaterThanOrEqual(10);
    await journal.close();
    const { records, journal: j2 } = await openCollect(dir);
    expect(records.map((r) => r.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await j2.close();
  });
});

describe('compaction', () => {
  it('snapshot chunks round-trip; only records after the snapshot are replayed', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await journal.append({ n: 1 });
    await journal.append({ n: 2 });
    await journal.compact([{ meta: true }, { docs: [{ n: 1 }, { n: 2 }] }]);
    expect(journal.bytesSinceSnapshot).toBe(0);
    await journal.append({ n: 3 });
    await journal.close();
    const o = await openCollect(dir);
    expect(o.snapshot).toEqual([{ meta: true }, { docs: [{ n: 1 }, { n: 2 }] }]);
    expect(o.records).toEqual([{ n: 3 }]);
    expect((await dirUsage(dir)).names).toEqual(['journal-1.log', 'snapshot-1.snap']);
    await o.journal.close();
  });

  it('streams a large snapshot (1,000,000 small docs in 1,000 chunks) from an async generator', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    async function* chunks() {
      for (let c = 0; c < 1000; c++) yield { docs: Array.from({ length: 1000 }, (_, i) => ({ _id: c * 1000 + i })) };
    }
    await journal.compact(chunks());
    await journal.close();
    const o = await openCollect(dir);
    expect(o.snapshot).toHaveLength(1000);
    expect(o.snapshot![999]!.docs[999]).toEqual({ _id: 999_999 });
    await o.journal.close();
  }, 60_000);

  it('accepts pre-serialized chunks', async () => {
    const { serialize } = await import('bson');
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await journal.compact([serialize({ a: 1 }), { b: 2 }]);
    await journal.close();
    const o = await openCollect(dir);
    expect(o.snapshot).toEqual([{ a: 1 }, { b: 2 }]);
    await o.journal.close();
  });

  it('many generations keep disk use bounded and reopen correctly', async () => {
    const dir = await tempDir();
    let { journal } = await Journal.open(dir);
    const state: number[] = [];
    let maxBytes = 0;
    for (let gen = 0; gen < 30; gen++) {
      for (let i = 0; i < 50; i++) {
        state.push(gen * 100 + i);
        await journal.append({ v: gen * 100 + i, pad: 'z'.repeat(200) });
      }
      // State stays small (last 10 values) while the journal grows: disk must track the state.
      await journal.compact([{ vals: state.slice(-10) }]);
      const u = await dirUsage(dir);
      expect(u.names).toHaveLength(2);
      maxBytes = Math.max(maxBytes, u.bytes);
      if (gen % 10 === 9) {
        await journal.close();
        const o = await openCollect(dir);
        expect(o.snapshot).toEqual([{ vals: state.slice(-10) }]);
        expect(o.records).toEqual([]);
        journal = o.journal;
      }
    }
    expect(maxBytes).toBeLessThan(2000);
    await journal.close();
  }, 30_000);

  it('appends racing a compaction land in the new generation and none are lost', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    const before = Array.from({ length: 20 }, (_, i) => journal.append({ i }));
    // Snapshot reflects the 20 records whose append was called before compact.
    const compacting = journal.compact([{ upTo: 19 }]);
    expect(journal.compacting).toBe(true);
    const after = Array.from({ length: 20 }, (_, i) => journal.append({ i: 20 + i }));
    await Promise.all([...before, ...after, compacting]);
    expect(journal.compacting).toBe(false);
    await journal.close();
    const o = await openCollect(dir);
    expect(o.snapshot).toEqual([{ upTo: 19 }]);
    expect(o.records.map((r) => r.i)).toEqual(Array.from({ length: 20 }, (_, i) => 20 + i));
    await o.journal.close();
  });

  it('back-to-back compactions are serialized and the last one wins', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await journal.append({ a: 1 });
    const c1 = journal.compact([{ s: 1 }]);
    const a2 = journal.append({ a: 2 });
    const c2 = journal.compact([{ s: 2 }]);
    const a3 = journal.append({ a: 3 });
    await Promise.all([c1, a2, c2, a3]);
    await journal.close();
    const o = await openCollect(dir);
    expect(o.snapshot).toEqual([{ s: 2 }]);
    expect(o.records).toEqual([{ a: 3 }]);
    expect((await dirUsage(dir)).names).toEqual(['journal-2.log', 'snapshot-2.snap']);
    await o.journal.close();
  });

  it('a failed snapshot write leaves the journal usable and nothing lost', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await journal.append({ a: 1 });
    async function* failing() {
      yield { ok: 1 };
      throw new Error('engine failed mid-snapshot');
    }
    await expect(journal.compact(failing())).rejects.toThrow('engine failed mid-snapshot');
    await journal.append({ a: 2 });
    await journal.close();
    const o = await openCollect(dir);
    expect(o.snapshot).toBeNull();
    expect(o.records).toEqual([{ a: 1 }, { a: 2 }]);
    expect((await dirUsage(dir)).names).toEqual(['journal-0.log', 'journal-1.log']);
    await o.journal.close();
  });

  it('a chunk over the bson size limit fails the compaction with a clear message', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await expect(journal.compact([{ s: 'x'.repeat(17 << 20) }])).rejects.toThrow(/snapshot chunk 0/);
    await journal.close();
  });

  it('ignores and removes a leftover temp snapshot from an interrupted compaction', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await journal.append({ a: 1 });
    await journal.close();
    await writeFile(path.join(dir, 'snapshot-1.snap.tmp'), 'half-written');
    const o = await openCollect(dir);
    expect(o.records).toEqual([{ a: 1 }]);
    expect((await dirUsage(dir)).names).toEqual(['journal-0.log']);
    await o.journal.close();
  });
});

describe('failures and slow disks', () => {
  it('a failed fsync fails that batch and every later append; reopen recovers what was synced', async () => {
    const dir = await tempDir();
    let failNext = false;
    const { journal } = await Journal.open(dir, {
      beforeSync: () => {
        if (failNext) throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
      },
    });
    await journal.append({ a: 1 });
    failNext = true;
    const r = await Promise.allSettled([journal.append({ a: 2 }), journal.append({ a: 3 })]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    expect((r[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ENGINE_STORAGE' });
    failNext = false;
    // Retrying after a failed fsync could acknowledge lost data, so the journal stays failed.
    await expect(journal.append({ a: 4 })).rejects.toMatchObject({ code: 'ENGINE_STORAGE' });
    await expect(journal.compact([])).rejects.toMatchObject({ code: 'ENGINE_STORAGE' });
    await journal.close();
    const o = await openCollect(dir);
    // Records 2 and 3 were written but never acknowledged: either outcome is allowed.
    expect(o.records[0]).toEqual({ a: 1 });
    expect(o.records.some((x) => x.a === 4)).toBe(false);
    await o.journal.close();
  });

  it('a slow write to the old generation is awaited before the old generation is deleted', async () => {
    const dir = await tempDir();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let slow = false;
    const { journal } = await Journal.open(dir, { beforeSync: (file) => (slow && file.endsWith('journal-0.log') ? gate : undefined) });
    await journal.append({ a: 0 });
    slow = true;
    const a1 = journal.append({ a: 1 }); // stuck in gen 0 until released
    const c = journal.compact([{ upTo: 1 }]);
    const a2 = journal.append({ a: 2 }); // gen 1, queued behind a1
    let a1Done = false;
    void a1.then(() => (a1Done = true));
    // The snapshot becomes durable while a1 is stuck; gen 0 must still be there and a1 pending.
    await expect.poll(async () => (await dirUsage(dir)).names).toContain('snapshot-1.snap');
    expect(a1Done).toBe(false);
    expect((await dirUsage(dir)).names).toContain('journal-0.log');
    release();
    await Promise.all([a1, c, a2]);
    await journal.close();
    const o = await openCollect(dir);
    expect(o.snapshot).toEqual([{ upTo: 1 }]);
    expect(o.records).toEqual([{ a: 2 }]);
    expect((await dirUsage(dir)).names).toEqual(['journal-1.log', 'snapshot-1.snap']);
    await o.journal.close();
  });
});

describe('bytesSinceSnapshot', () => {
  it('counts appended bytes, resets on compact, survives reopen, and comes back after a failed compaction', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await journal.append({ a: 'x'.repeat(100) });
    const one = journal.bytesSinceSnapshot;
    expect(one).toBeGreaterThan(100);
    await journal.append({ a: 'x'.repeat(100) });
    expect(journal.bytesSinceSnapshot).toBe(2 * one);
    await expect(journal.compact((async function* () { throw new Error('boom'); })())).rejects.toThrow('boom');
    expect(journal.bytesSinceSnapshot).toBe(2 * one);
    await journal.close();
    const o = await openCollect(dir);
    expect(o.journal.bytesSinceSnapshot).toBe(2 * one);
    await o.journal.compact([]);
    expect(o.journal.bytesSinceSnapshot).toBe(0);
    await o.journal.close();
    const o2 = await openCollect(dir);
    expect(o2.snapshot).toEqual([]);
    expect(o2.journal.bytesSinceSnapshot).toBe(0);
    await o2.journal.close();
  });
});
