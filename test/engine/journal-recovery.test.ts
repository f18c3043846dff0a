import { afterEach, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { appendFile, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { Journal, JournalCorruptError } from '../../src/engine/storage/journal.js';
import { cleanupDirs, dirUsage, openCollect, tempDir } from './journal-helpers.js';

afterEach(cleanupDirs);

/** A journal with three records; returns the file and where the last frame starts. */
async function threeRecords(dir: string): Promise<{ file: string; lastOffset: number; size: number }> {
  const { journal } = await Journal.open(dir);
  await journal.append({ n: 1, s: 'first' });
  await journal.append({ n: 2, s: 'second' });
  const lastOffset = (await readFile(path.join(dir, 'journal-0.log'))).length;
  await journal.appendMany([{ n: 3, s: 'third' }, { n: 4, s: 'fourth, same frame' }]);
  await journal.close();
  const file = path.join(dir, 'journal-0.log');
  return { file, lastOffset, size: (await readFile(file)).length };
}

async function expectCorrupt(dir: string, file: string, offset: number): Promise<JournalCorruptError> {
  const err = await Journal.open(dir).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JournalCorruptError);
  const e = err as JournalCorruptError;
  expect(e.code).toBe('JOURNAL_CORRUPT');
  expect(e.file).toBe(file);
  expect(e.offset).toBe(offset);
  expect(e.message).toContain(file);
  return e;
}

describe('torn tail', () => {
  it('truncation at every byte offset inside the last frame: earlier records kept, warning given, file repaired', async () => {
    const dir = await tempDir();
    const { file, lastOffset, size } = await threeRecords(dir);
    const pristine = await readFile(file);
    for (let cut = lastOffset; cut < size; cut++) {
      await writeFile(file, pristine.subarray(0, cut));
      const o = await openCollect(dir);
      // Frame 3 holds records 3 and 4: a torn appendMany loses both, never one.
      expect(o.records).toEqual([
        { n: 1, s: 'first' },
        { n: 2, s: 'second' },
      ]);
      if (cut === lastOffset) expect(o.warnings).toEqual([]);
      else {
        expect(o.warnings).toHaveLength(1);
        expect(o.warnings[0]).toContain(`dropped a torn final record at offset ${lastOffset}`);
      }
      // Appending after repair produces a clean log.
      await o.journal.append({ n: 5 });
      await o.journal.close();
      const again = await openCollect(dir);
      expect(again.warnings).toEqual([]);
      expect(again.records.map((r) => r.n)).toEqual([1, 2, 5]);
      await again.journal.close();
    }
  }, 30_000);

  it('a bad checksum in the very last frame is a torn tail', async () => {
    const dir = await tempDir();
    const { file, lastOffset, size } = await threeRecords(dir);
    const buf = await readFile(file);
    buf[size - 3] ^= 0xff;
    await writeFile(file, buf);
    const o = await openCollect(dir);
    expect(o.records.map((r) => r.n)).toEqual([1, 2]);
    expect(o.warnings[0]).toMatch(new RegExp(`torn final record at offset ${lastOffset} .*checksum`));
    await o.journal.close();
  });

  it('zero-filled space after the last frame (file grown, data never written) is a torn tail', async () => {
    const dir = await tempDir();
    const { file, size } = await threeRecords(dir);
    await appendFile(file, Buffer.alloc(4096));
    const o = await openCollect(dir);
    expect(o.records.map((r) => r.n)).toEqual([1, 2, 3, 4]);
    expect(o.warnings[0]).toContain(`offset ${size}`);
    await o.journal.close();
    expect((await readFile(file)).length).toBe(size);
  });
  it('a torn multi-megabyte appendMany frame is recognised as torn (and quickly)', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await journal.append({ first: true });
    const firstFrameEnd = (await readFile(path.join(dir, 'journal-0.log'))).length;
    await journal.appendMany(Array.from({ length: 20_000 }, (_, i) => ({ i, s: 'abcdefghij'.repeat(20) })));
    await journal.close();
    const file = path.join(dir, 'journal-0.log');
    const size = (await readFile(file)).length;
    await truncate(file, Math.floor(size / 2));
    const t = performance.now();
    const o = await openCollect(dir);
    expect(performance.now() - t).toBeLessThan(5000);
    expect(o.records).toEqual([{ first: true }]);
    expect(o.warnings[0]).toContain(`dropped a torn final record at offset ${firstFrameEnd} `);
    await o.journal.close();
  }, 30_000);
});

describe('damage', () => {
  it('a damaged middle record stops open with JournalCorruptError naming file and offset', async () => {
    const dir = await tempDir();
    const { file } = await threeRecords(dir);
    const buf = await readFile(file);
    const secondOffset = buf.readUInt32LE(0) + 8;
    buf[secondOffset + 8 + 6] ^= 0x01; // a byte inside the second frame's body
    await writeFile(file, buf);
    const e = await expectCorrupt(dir, file, secondOffset);
    expect(e.message).toMatch(/checksum mismatch\) followed by a valid frame at offset \d+/);
  });

  it('a damaged length field in the middle is damage too, for every bit of it', async () => {
    const dir = await tempDir();
    const { file } = await threeRecords(dir);
    const pristine = await readFile(file);
    const secondOffset = pristine.readUInt32LE(0) + 8;
    for (let bit = 0; bit < 32; bit++) {
      const buf = Buffer.from(pristine);
      buf[secondOffset + (bit >> 3)] ^= 1 << (bit & 7);
      await writeFile(file, buf);
      await expectCorrupt(dir, file, secondOffset);
    }
  });

  it('a damaged first record is damage, not a torn tail', async () => {
    const dir = await tempDir();
    const { file } = await threeRecords(dir);
    const buf = await readFile(file);
    buf[4] ^= 0x80; // CRC of frame 0
    await writeFile(file, buf);
    await expectCorrupt(dir, file, 0);
  });

  it('a torn older journal followed by records in a newer one is damage', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await journal.append({ a: 1 });
    await journal.append({ a: 2 });
    // Fail the snapshot so both generations stay on disk.
    await expect(journal.compact((async function* () { throw new Error('no'); })())).rejects.toThrow();
    await journal.append({ a: 3 });
    await journal.close();
    const j0 = path.join(dir, 'journal-0.log');
    const size0 = (await readFile(j0)).length;
    await truncate(j0, size0 - 2);
    const frame0 = (await readFile(j0)).readUInt32LE(0) + 8;
    await expectCorrupt(dir, j0, frame0);
  });

  it('a damaged newest snapshot falls back to the older snapshot and its journals, with a warning', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await journal.append({ a: 1 });
    await journal.compact([{ state: [1] }]);
    await journal.append({ a: 2 });
    await journal.close();
    // Keep generation 1 aside, compact to generation 2, then put it back: the
    // directory as a crash right after snapshot-2's rename would leave it.
    const keep = await Promise.all(['journal-1.log', 'snapshot-1.snap'].map((n) => readFile(path.join(dir, n))));
    const again = await Journal.open(dir);
    await again.journal.compact([{ state: [1, 2] }]);
    await again.journal.append({ a: 3 });
    await again.journal.close();
    await writeFile(path.join(dir, 'journal-1.log'), keep[0]!);
    await writeFile(path.join(dir, 'snapshot-1.snap'), keep[1]!);
    // Then the disk damages the newest snapshot.
    const snap2 = path.join(dir, 'snapshot-2.snap');
    const buf = await readFile(snap2);
    buf[buf.length - 20] ^= 0xff;
    await writeFile(snap2, buf);

    const o = await openCollect(dir);
    expect(o.snapshot).toEqual([{ state: [1] }]);
    expect(o.records).toEqual([{ a: 2 }, { a: 3 }]);
    expect(o.warnings.join('\n')).toMatch(/snapshot is damaged.*snapshot-2\.snap/);
    await o.journal.close();
  });

  it('a damaged snapshot with no fallback stops open', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await journal.append({ a: 1 });
    await journal.compact([{ state: 'x'.repeat(100) }]);
    await journal.close();
    const snap = path.join(dir, 'snapshot-1.snap');
    const buf = await readFile(snap);
    buf[40] ^= 0xff;
    await writeFile(snap, buf);
    await expect(Journal.open(dir)).rejects.toBeInstanceOf(JournalCorruptError);
    // A snapshot cut short (no trailer) is refused too.
    await writeFile(snap, (await readFile(snap)).subarray(0, 30));
    await expect(Journal.open(dir)).rejects.toThrow(/snapshot is damaged/);
  });

  it('a missing journal file is refused rather than silently starting empty', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await journal.compact([{ s: 1 }]);
    await journal.append({ a: 1 });
    await journal.close();
    await rm(path.join(dir, 'journal-1.log'));
    await expect(Journal.open(dir)).rejects.toThrow(/journal file missing/);
  });

  it('open removes generations left over from a clean-up interrupted by a crash', async () => {
    const dir = await tempDir();
    const { journal } = await Journal.open(dir);
    await journal.append({ a: 1 });
    await journal.close();
    const j0 = await readFile(path.join(dir, 'journal-0.log'));
    const again = await Journal.open(dir);
    await again.journal.compact([{ s: 1 }]);
    await again.journal.close();
    await writeFile(path.join(dir, 'journal-0.log'), j0);
    const o = await openCollect(dir);
    expect(o.snapshot).toEqual([{ s: 1 }]);
    expect(o.records).toEqual([]);
    expect((await dirUsage(dir)).names).toEqual(['journal-1.log', 'snapshot-1.snap']);
    await o.journal.close();
  });
});
