/**
 * Start-up recovery: pick the snapshot to start from, replay the journal
 * generations after it, drop a torn tail, refuse real damage.
 *
 * Invariants the writer (journal.ts) keeps, which recovery relies on:
 *  - journal-<g>.log is created (and the directory fsynced) before
 *    snapshot-<g>.snap can appear, so a snapshot always has its journal;
 *  - generation g-1 files are removed only after snapshot-<g>.snap is durable,
 *    so if journal-<g-1>.log still exists it is complete;
 *  - journal-<g+1> receives writes only after every write to journal-<g> has
 *    been fsynced, so only the very last non-empty journal can be torn.
 * Hence the state is: chosen snapshot + journals base..max in order.
 */
import { mkdir, open, readdir, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import type { DeserializeOptions, Document } from 'bson';
import { FrameReader, JournalCorruptError } from './journal-format.js';
import { fsyncDir, journalName, parseName, readSnapshot, snapshotName, TMP_SUFFIX } from './journal-files.js';

/** What recovery found, and where appending resumes. */
export interface Recovered {
  snapshot: Document[] | null;
  /** Generation of the snapshot started from (0 when there is none). */
  baseGen: number;
  records: Document[];
  /** Generation whose journal new appends continue. */
  currentGen: number;
  /** Valid length of that journal (after any torn tail was cut off). */
  currentSize: number;
  /** Journal bytes replayed on top of the snapshot. */
  journalBytes: number;
}

interface Options {
  warn: (msg: string) => void;
  bsonOptions?: DeserializeOptions;
}

/** Recover the state stored in `dir`, creating an empty store if the directory is new or empty. */
export async function recover(dir: string, opts: Options): Promise<Recovered> {
  const made = await mkdir(dir, { recursive: true });
  // Make every directory just created durable: fsync each parent, deepest first.
  if (made) for (let d = dir; d !== path.dirname(made); d = path.dirname(d)) await fsyncDir(path.dirname(d));

  const journals = new Set<number>();
  const snapshots: number[] = [];
  for (const name of await readdir(dir)) {
    if (name.endsWith(TMP_SUFFIX) && parseName(name.slice(0, -TMP_SUFFIX.length))) {
      await unlink(path.join(dir, name)); // an interrupted snapshot write; never renamed, never relied on
      continue;
    }
    const p = parseName(name);
    if (p?.kind === 'journal') journals.add(p.gen);
    else if (p?.kind === 'snapshot') snapshots.push(p.gen);
  }

  if (journals.size === 0 && snapshots.length === 0) {
    const fh = await open(path.join(dir, journalName(0)), 'wx');
    await fh.close();
    await fsyncDir(dir);
    return { snapshot: null, baseGen: 0, records: [], currentGen: 0, currentSize: 0, journalBytes: 0 };
  }

  const maxJournal = journals.size ? Math.max(...journals) : -1;
  /** First journal generation missing from the chain gen..max, or null if the chain is whole. */
  const missingFrom = (gen: number): number | null => {
    if (gen > maxJournal) return gen;
    for (let g = gen; g <= maxJournal; g++) if (!journals.has(g)) return g;
    return null;
  };

  // Newest snapshot first; "no snapshot" (generation 0 from empty) is the last resort.
  const candidates: Array<number | null> = [...snapshots.sort((a, b) => b - a), null];
  let damage: JournalCorruptError | null = null;
  let chosen: { gen: number; chunks: Document[] | null } | null = null;
  for (const [i, cand] of candidates.entries()) {
    const gen = cand ?? 0;
    const missing = missingFrom(gen);
    if (missing !== null) {
      // Only the newest candidate must have a full chain; an older one
      // without it is a leftover from an interrupted clean-up.
      if (i === 0) {
        throw new JournalCorruptError(
          path.join(dir, journalName(missing)),
          -1,
          cand === null
            ? 'journal file missing and there is no snapshot to start from; refusing to start with lost data'
            : `journal file missing for snapshot ${snapshotName(gen)}; refusing to start with lost data`,
        );
      }
      continue;
    }
    if (cand === null) {
      chosen = { gen, chunks: null };
      break;
    }
    try {
      chosen = { gen, chunks: await readSnapshot(path.join(dir, snapshotName(gen)), gen, opts.bsonOptions) };
      break;
    } catch (e) {
      if (!(e instanceof JournalCorruptError)) throw e;
      damage ??= e;
      opts.warn(`${e.message}; trying an older snapshot with its journals`);
    }
  }
  if (!chosen) throw damage ?? new JournalCorruptError(dir, -1, 'no usable snapshot');
  if (damage) opts.warn(`recovered from ${chosen.chunks ? snapshotName(chosen.gen) : 'an empty state'} plus journals after a damaged newer snapshot`);

  const records: Document[] = [];
  let journalBytes = 0;
  let currentSize = 0;
  let torn: { file: string; offset: number } | null = null;
  for (let g = chosen.gen; g <= maxJournal; g++) {
    const file = path.join(dir, journalName(g));
    const fh = await open(file, 'r+');
    try {
      const reader = new FrameReader(fh, (await fh.stat()).size, opts.bsonOptions);
      for (let f = await reader.next(); f; f = await reader.next()) {
        if (torn) {
          // Writes reach journal g+1 only after journal g is fully synced, so a
          // torn journal followed by records in a later one is damage.
          throw new JournalCorruptError(torn.file, torn.offset, 'damaged record followed by valid data in a later journal; refusing to drop acknowledged writes');
        }
        for (const d of f.docs) records.push(d);
      }
      const bad = reader.bad;
      if (bad?.followedBy) {
        throw new JournalCorruptError(file, bad.offset, `damaged journal record (${bad.reason}) followed by ${bad.followedBy}; refusing to drop acknowledged writes`);
      }
      if (bad) {
        // A crash mid-write leaves a prefix of the last batch (or zeros): nothing
        // in it was acknowledged, so cutting it off loses no acknowledged write.
        await fh.truncate(bad.offset);
        await fh.sync();
        torn = { file, offset: bad.offset };
        opts.warn(`dropped a torn final record at offset ${bad.offset} in ${file} (${bad.reason}; ${reader.size - bad.offset} bytes removed)`);
      }
      journalBytes += reader.offset;
      currentSize = reader.offset;
    } finally {
      await fh.close();
    }
  }

  // Files older than the chosen base are fully contained in it.
  const stale = [
    ...[...journals].filter((g) => g < chosen.gen).map(journalName),
    ...snapshots.filter((g) => g < chosen.gen).map(snapshotName),
  ];
  for (const name of stale) await unlink(path.join(dir, name));
  if (stale.length) await fsyncDir(dir);

  return { snapshot: chosen.chunks, baseGen: chosen.gen, records, currentGen: maxJournal, currentSize, journalBytes };
}
