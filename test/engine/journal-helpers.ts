/** Shared helpers for the journal tests: temp directories and small readers. */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Journal, type JournalOptions, type OpenedJournal } from '../../src/engine/storage/journal.js';

const made: string[] = [];

/** A fresh temp directory, removed by cleanupDirs(). */
export async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'rss-journal-'));
  made.push(d);
  return d;
}

/** Remove every directory tempDir() made (call from afterEach/afterAll). */
export async function cleanupDirs(): Promise<void> {
  for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
}

/** Open collecting warnings. */
export async function openCollect(dir: string, opts: JournalOptions = {}): Promise<OpenedJournal & { warnings: string[] }> {
  const warnings: string[] = [];
  const o = await Journal.open(dir, { ...opts, onWarning: (m) => warnings.push(m) });
  return { ...o, warnings };
}

/** Names and total size of the files in a directory. */
export async function dirUsage(dir: string): Promise<{ names: string[]; bytes: number }> {
  const names = (await readdir(dir)).sort();
  let bytes = 0;
  for (const n of names) bytes += (await stat(path.join(dir, n))).size;
  return { names, bytes };
}
