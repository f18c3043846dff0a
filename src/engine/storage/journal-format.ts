/**
 * On-disk framing shared by journal and snapshot files, and a sequential
 * reader that tells a torn tail apart from real damage.
 *
 * A file is a plain sequence of frames, no file header:
 *
 *     u32 LE  bodyLength      number of body bytes that follow the 8-byte header
 *     u32 LE  crc32(body)     IEEE CRC-32 of the body
 *     body                    one or more complete BSON documents, back to back
 *
 * A body holding several documents is how appendMany() is atomic: the CRC
 * covers all of them, so after a crash either the whole group is there or the
 * frame is torn and none of it is. Because every BSON document starts with its
 * own int32 length, a frame header can be cross-checked against the body, which
 * also lets the damage scan below find real frames cheaply.
 */
import * as zlib from 'node:zlib';
import type { FileHandle } from 'node:fs/promises';
import { calculateObjectSize, deserialize, serialize, type DeserializeOptions, type Document, type SerializeOptions } from 'bson';

/** Bytes of the frame header (length + CRC). */
export const FRAME_HEADER_BYTES = 8;
/** Smallest possible BSON document: int32 length + terminating NUL. */
const MIN_DOC_BYTES = 5;

const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Portable CRC-32 for Node releases before zlib.crc32 existed (20.15). */
export function crc32Portable(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// zlib.crc32 is native and far faster; typed as always present, so probe it.
const nativeCrc = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;

/** IEEE CRC-32 (same polynomial as zip/zlib). */
export function crc32(data: Uint8Array): number {
  return nativeCrc ? nativeCrc(data) >>> 0 : crc32Portable(data);
}

/**
 * bson.serialize with a guard: bson@7 serializes into a fixed 17 MiB scratch
 * buffer and, past it, silently truncates strings instead of throwing. Only
 * an output at least 16 MiB long can have hit that, so only those pay for an
 * exact size computation; a mismatch is refused rather than journaled.
 */
export function toBson(doc: Document, options?: SerializeOptions): Uint8Array {
  const out = serialize(doc, options);
  if (out.length >= 16 << 20) {
    const size = calculateObjectSize(doc, options);
    if (size !== out.length) throw new RangeError(`document of ${size} bytes is larger than bson can serialize (about 17 MiB)`);
  }
  return out;
}

/** Check that bytes handed over as BSON at least frame as one document. */
export function checkBsonBytes(bytes: Uint8Array): void {
  const len = bytes.length >= 4 ? Buffer.from(bytes.buffer, bytes.byteOffset, 4).readInt32LE(0) : -1;
  if (len !== bytes.length || len < MIN_DOC_BYTES || bytes[len - 1] !== 0) throw new RangeError('bytes are not one BSON document');
}

/** Wrap already-serialized BSON documents into one frame. */
export function encodeFrame(docs: readonly Uint8Array[]): Buffer {
  let bodyLen = 0;
  for (const d of docs) bodyLen += d.length;
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyLen);
  let at = FRAME_HEADER_BYTES;
  for (const d of docs) {
    out.set(d, at);
    at += d.length;
  }
  const body = out.subarray(FRAME_HEADER_BYTES);
  out.writeUInt32LE(bodyLen, 0);
  out.writeUInt32LE(crc32(body), 4);
  return out;
}

/**
 * Split a frame body into its documents' byte ranges, or return null if the
 * BSON length prefixes do not tile the body exactly (a sign of damage even
 * when the CRC happens to match).
 */
function splitBody(body: Buffer): Buffer[] | null {
  const docs: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < MIN_DOC_BYTES) return null;
    const len = body.readInt32LE(at);
    if (len < MIN_DOC_BYTES || at + len > body.length || body[at + len - 1] !== 0) return null;
    docs.push(body.subarray(at, at + len));
    at += len;
  }
  return docs.length > 0 ? docs : null;
}

/** One frame as found in a file. */
export interface Frame {
  offset: number;
  /** Total bytes the frame occupies (header + body). */
  size: number;
  docs: Document[];
}

/** Where reading stopped and why, when it did not reach a clean end of file. */
export interface BadFrame {
  offset: number;
  reason: string;
  /** True when valid frames exist after the bad one, i.e. real damage, not a torn write. */
  followedByValidData: boolean;
}

const READ_BLOCK = 1 << 20;

/**
 * Reads a file front to back through a sliding window, so files far larger
 * than memory-friendly buffers can be replayed.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;
  /** Set once next() meets a frame it cannot accept; reading stops there. */
  bad: BadFrame | null = null;
  private pos = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly bsonOptions: DeserializeOptions = {},
  ) {}

  /** Offset just past the last good frame returned. */
  get offset(): number {
    return this.pos;
  }

  /** Make bytes [pos, pos+n) available; false if the file is shorter. */
  private inWindow(pos: number, n: number): boolean {
    return pos >= this.bufStart && pos + n <= this.bufStart + this.buf.length;
  }

  private async ensure(pos: number, n: number): Promise<boolean> {
    if (pos + n > this.size) return false;
    if (this.inWindow(pos, n)) return true;
    const want = Math.min(Math.max(n, READ_BLOCK), this.size - pos);
    const next = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(next, got, want - got, pos + got);
      if (bytesRead === 0) break; // file shrank under us; treat as short
      got += bytesRead;
    }
    this.buf = next.subarray(0, got);
    this.bufStart = pos;
    return got >= n;
  }

  private view(pos: number, n: number): Buffer {
    return this.buf.subarray(pos - this.bufStart, pos - this.bufStart + n);
  }

  /**
   * Validate the frame at pos. Returns the split documents, or a reason string.
   * Deserialization is left to the caller of next() so the damage scan stays cheap.
   */
  private async check(pos: number): Promise<{ size: number; raw: Buffer[] } | string> {
    if (!(await this.ensure(pos, FRAME_HEADER_BYTES))) return 'short frame header';
    const head = this.view(pos, FRAME_HEADER_BYTES);
    const len = head.readUInt32LE(0);
    const crc = head.readUInt32LE(4);
    if (len < MIN_DOC_BYTES) return `impossible body length ${len}`;
    if (!(await this.ensure(pos, FRAME_HEADER_BYTES + len))) return 'short frame body';
    const body = this.view(pos + FRAME_HEADER_BYTES, len);
    if (crc32(body) !== crc) return 'checksum mismatch';
    const raw = splitBody(body);
    if (!raw) return 'malformed BSON framing';
    return { size: FRAME_HEADER_BYTES + len, raw };
  }

  /** Next good frame, or null at end of file or at the first bad frame (see `bad`). */
  async next(): Promise<Frame | null> {
    if (this.bad || this.pos >= this.size) return null;
    const at = this.pos;
    const res = await this.check(at);
    let docs: Document[] | null = null;
    let reason = typeof res === 'string' ? res : '';
    if (typeof res !== 'string') {
      try {
        docs = res.raw.map((r) => deserialize(r, this.bsonOptions));
      } catch (e) {
        reason = `undecodable BSON (${(e as Error).message})`;
      }
    }
    if (docs && typeof res !== 'string') {
      this.pos = at + res.size;
      return { offset: at, size: res.size, docs };
    }
    this.bad = { offset: at, reason, followedByValidData: await this.validFrameAfter(at) };
    return null;
  }

  /**
   * Is there any well-formed frame starting after `from`? A torn write leaves
   * only a prefix of one batch (or zeros) behind, so finding a complete frame
   * later means the bad bytes are damage in the middle of the log. The
   * header's length must equal its first document's own length prefix (or
   * exceed it), which rejects almost every offset before the CRC is computed.
   */
  private async validFrameAfter(from: number): Promise<boolean> {
    for (let k = from + 1; k + FRAME_HEADER_BYTES + MIN_DOC_BYTES <= this.size; k++) {
      // Synchronous fast path: this loop visits every byte offset of the rest of the file.
      if (!this.inWindow(k, FRAME_HEADER_BYTES + 4) && !(await this.ensure(k, FRAME_HEADER_BYTES + 4))) return false;
      const v = this.view(k, FRAME_HEADER_BYTES + 4);
      const len = v.readUInt32LE(0);
      const first = v.readInt32LE(FRAME_HEADER_BYTES);
      if (len < MIN_DOC_BYTES || first < MIN_DOC_BYTES || first > len) continue;
      if (k + FRAME_HEADER_BYTES + len > this.size) continue;
      if (typeof (await this.check(k)) !== 'string') return true;
    }
    return false;
  }
}

/**
 * A journal or snapshot file holds damage that recovery must not paper over.
 * Opening stops with this error rather than start without acknowledged data.
 */
export class JournalCorruptError extends Error {
  readonly code = 'JOURNAL_CORRUPT';
  constructor(
    /** Absolute path of the damaged (or missing) file. */
    readonly file: string,
    /** Byte offset of the first bad frame, or -1 when the whole file is at fault (e.g. missing). */
    readonly offset: number,
    message: string,
  ) {
    super(`${message} (file ${file}${offset >= 0 ? `, offset ${offset}` : ''})`);
    this.name = 'JournalCorruptError';
  }
}
