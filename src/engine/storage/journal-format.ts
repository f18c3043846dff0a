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
const FRAME_HEADER_BYTES = 8;
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
  /**
   * Null when nothing valid follows (a torn write); otherwise why this is real
   * damage, e.g. "a valid frame at offset 123".
   */
  followedBy: string | null;
}

const READ_BLOCK = 1 << 20;
/** Window while hunting for valid frames after a bad one: large, so the hunt's jumps rarely leave memory. */
const SCAN_BLOCK = 64 << 20;

/** Can this byte start a BSON element (a type code), as in a document's first element? */
function isBsonType(b: number): boolean {
  return (b >= 0x01 && b <= 0x13) || b === 0x7f || b === 0xff;
}

/**
 * Reads a file front to back through a sliding window, so files far larger
 * than memory-friendly buffers can be replayed.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;
  private readBlock = READ_BLOCK;
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
    const want = Math.min(Math.max(n, this.readBlock), this.size - pos);
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
    this.bad = { offset: at, reason, followedBy: await this.validFrameAfter(at) };
    return null;
  }

  /**
   * Is there any well-formed frame starting after `from`? A torn write leaves
   * only a prefix of one batch (or zeros) behind, so finding a complete frame
   * later means the bad bytes are damage in the middle of the log.
   *
   * Every byte offset is a candidate, so the filters run cheapest first: the
   * header length must fit the file, the BSON length prefixes inside must tile
   * the body exactly (a walk over prefixes, not bytes), and only then is the
   * CRC computed. A work budget keeps adversarial contents from making this
   * quadratic; running out of it counts as damage, the safe side.
   */
  private async validFrameAfter(from: number): Promise<string | null> {
    let budget = Math.max(64 << 20, 16 * (this.size - from));
    this.readBlock = SCAN_BLOCK;
    const probe = FRAME_HEADER_BYTES + MIN_DOC_BYTES; // header + first doc's length and type byte
    for (let k = from + 1; k + probe <= this.size; k++) {
      if (!this.inWindow(k, probe) && !(await this.ensure(k, probe))) return null;
      k = this.nextCandidate(k, probe);
      if (!this.inWindow(k, probe)) {
        k--; // window exhausted without a candidate: the loop's k++ resumes exactly here
        continue;
      }
      const len = this.buf.readUInt32LE(k - this.bufStart);
      if (k + FRAME_HEADER_BYTES + len > this.size) continue;
      const body = k + FRAME_HEADER_BYTES;
      let tiled = true;
      for (let at = body; at < body + len; ) {
        if (--budget < 0) return `unexamined data (gave up looking for valid frames at offset ${k})`;
        const dl = body + len - at >= MIN_DOC_BYTES ? await this.int32At(at) : -1;
        if (dl < MIN_DOC_BYTES || at + dl > body + len || (await this.byteAt(at + dl - 1)) !== 0) {
          tiled = false;
          break;
        }
        at += dl;
      }
      if (!tiled) continue;
      budget -= len;
      if (typeof (await this.check(k)) !== 'string') return `a valid frame at offset ${k}`;
    }
    return null;
  }

  /**
   * First offset >= k within the window whose bytes could start a frame, or
   * the first offset whose probe leaves the window. Synchronous and
   * allocation-free: this is the per-byte loop of the damage scan.
   */
  private nextCandidate(k: number, probe: number): number {
    const b = this.buf;
    const base = this.bufStart;
    const last = base + b.length - probe;
    for (; k <= last; k++) {
      const r = k - base;
      const first = b[r + 8]! | (b[r + 9]! << 8) | (b[r + 10]! << 16) | (b[r + 11]! << 24);
      if (first < MIN_DOC_BYTES) continue;
      // The first document's byte after its length is a type code (or its terminator, if empty).
      const type = b[r + 12]!;
      if (first === MIN_DOC_BYTES ? type !== 0 : !isBsonType(type)) continue;
      const len = (b[r]! | (b[r + 1]! << 8) | (b[r + 2]! << 16) | (b[r + 3]! << 24)) >>> 0;
      if (first <= len) return k;
    }
    return k;
  }

  private readonly scratch = Buffer.alloc(4);

  /** Random-access read that uses the window when it can and never moves it. */
  private async peek(pos: number, n: 1 | 4): Promise<Buffer | null> {
    if (this.inWindow(pos, n)) return this.view(pos, n);
    const { bytesRead } = await this.fh.read(this.scratch, 0, n, pos);
    return bytesRead === n ? this.scratch : null;
  }

  private async int32At(pos: number): Promise<number> {
    return (await this.peek(pos, 4))?.readInt32LE(0) ?? -1;
  }

  private async byteAt(pos: number): Promise<number> {
    return (await this.peek(pos, 1))?.[0] ?? -1;
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
