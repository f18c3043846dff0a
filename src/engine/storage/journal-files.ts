/**
 * File naming, directory fsync, and the snapshot file writer/reader.
 *
 * Snapshot file `snapshot-<gen>.snap` uses the same frames as the journal
 * (see journal-format.ts), one BSON document per frame:
 *
 *     frame 0        { rssSnapshot: 1, gen: <int>, createdAt: <Date> }   header
 *     frame 1..n     the caller's chunk documents, in order, untouched
 *     frame n+1      { rssSnapshotEnd: true, chunks: <n> }               trailer
 *
 * The trailer proves the file is complete; it is written to a temp name and
 * renamed into place only after fsync, so a snapshot under its final name
 * that fails to read is damage, never an interrupted write.
 */
import { open, rename, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import type { DeserializeOptions, Document } from 'bson';
import { checkBsonBytes, encodeFrame, FrameReader, JournalCorruptError, toBson } from './journal-format.js';

/** Journal file name of a generation. */
export const journalName = (gen: number): string => `journal-${gen}.log`;
/** Snapshot file name of a generation. */
export const snapshotName = (gen: number): string => `snapshot-${gen}.snap`;
/** Suffix of files being written; any found at open belong to an interrupted compaction. */
export const TMP_SUFFIX = '.tmp';

/** Parse a directory entry into its kind and generation, or null if it is not ours. */
export function parseName(name: string): { kind: 'journal' | 'snapshot'; gen: number } | null {
  const m = /^(journal|snapshot)-(\d{1,15})\.(log|snap)$/.exec(name);
  if (!m) return null;
  if ((m[1] === 'journal') !== (m[3] === 'log')) return null;
  return { kind: m[1] as 'journal' | 'snapshot', gen: Number(m[2]) };
}

/**
 * fsync a directory so created, renamed and removed entries survive a crash.
 * Windows cannot open directories for sync; there rename durability is the
 * filesystem's business, so the failure is ignored on that platform only.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    if (process.platform !== 'win32') throw e;
  } finally {
    await fh?.close();
  }
}

/** One snapshot chunk: a document, or one already serialized to BSON (taken as is). */
export type SnapshotChunk = Document | Uint8Array;
/** Chunks a snapshot is made of; an async source lets the engine produce them lazily. */
export type SnapshotChunks = Iterable<SnapshotChunk> | AsyncIterable<SnapshotChunk>;

const WRITE_BUFFER_BYTES = 1 << 20;

function serializeChunk(chunk: SnapshotChunk, index: number): Uint8Array {
  try {
    if (chunk instanceof Uint8Array) {
      checkBsonBytes(chunk);
      return chunk;
    }
    return toBson(chunk);
  } catch (e) {
    // Say which chunk, so the engine can tell an oversized chunk from a bad value.
    throw new Error(`snapshot chunk ${index} cannot be serialized: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Write `snapshot-<gen>.snap` atomically: temp file, fsync, rename, fsync dir.
 * Returns the file size.
 */
export async function writeSnapshot(dir: string, gen: number, chunks: SnapshotChunks): Promise<number> {
  const final = path.join(dir, snapshotName(gen));
  const tmp = final + TMP_SUFFIX;
  const fh = await open(tmp, 'w');
  let size = 0;
  try {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      const all = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      for (let at = 0; at < all.length; ) at += (await fh.write(all, at, all.length - at)).bytesWritten;
      size += all.length;
    };
    const push = async (frame: Buffer): Promise<void> => {
      pending.push(frame);
      pendingBytes += frame.length;
      if (pendingBytes >= WRITE_BUFFER_BYTES) await flush();
    };
    await push(encodeFrame([toBson({ rssSnapshot: 1, gen, createdAt: new Date() })]));
    let n = 0;
    for await (const chunk of chunks) {
      await push(encodeFrame([serializeChunk(chunk, n)]));
      n++;
    }
    await push(encodeFrame([toBson({ rssSnapshotEnd: true, chunks: n })]));
    await flush();
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  await rename(tmp, final);
  await fsyncDir(dir);
  return size;
}

/**
 * Read and fully verify a snapshot file, returning its chunk documents.
 * Throws JournalCorruptError on any defect (there is no torn tail to forgive).
 */
export async function readSnapshot(file: string, gen: number, bsonOptions?: DeserializeOptions): Promise<Document[]> {
  const fh = await open(file, 'r');
  try {
    const reader = new FrameReader(fh, (await fh.stat()).size, bsonOptions);
    const fail = (offset: number, why: string): never => {
      throw new JournalCorruptError(file, offset, `snapshot is damaged: ${why}`);
    };
    // The trailer is recognised by position (the last frame), so a chunk that
    // happens to look like a trailer is still just a chunk.
    const chunks: Document[] = [];
    let sawHeader = false;
    let last: Document | null = null;
    for (let f = await reader.next(); f; f = await reader.next()) {
      if (f.docs.length !== 1) fail(f.offset, 'a frame holds more than one document');
      const doc = f.docs[0]!;
      if (!sawHeader) {
        if (Number(doc.rssSnapshot) !== 1 || Number(doc.gen) !== gen) fail(f.offset, 'missing or mismatched header');
        sawHeader = true;
        continue;
      }
      if (last) chunks.push(last);
      last = doc;
    }
    if (reader.bad) fail(reader.bad.offset, reader.bad.reason);
    if (!sawHeader) fail(0, 'empty file');
    if (!last || last.rssSnapshotEnd !== true || Number(last.chunks) !== chunks.length) {
      fail(reader.offset, 'missing trailer (incomplete file)');
    }
    return chunks;
  } finally {
    await fh.close();
  }
}
