/**
 * The native dialect of rss's own client and of server-to-server messages.
 *
 *   byte 0      0xA7 (NATIVE_MAGIC: neither a pickle PROTO 0x80 nor text)
 *   byte 1      version (1)
 *   byte 2      flags: bit 0 = a 32-byte HMAC-SHA256 trailer follows the body
 *   bytes 3..   UTF-8 JSON object: the message fields plus the envelope
 *   last 32     HMAC-SHA256 over every byte before it (when flagged)
 *
 * The envelope adds what the legacy dialects lack: `cid` (a client's stable
 * id, so de-duplication survives address changes) and `ctr` (a per-client
 * counter that makes a replayed datagram detectable). Pure: no I/O.
 */
import { isAscii } from 'node:buffer';
import { timingSafeEqual } from 'node:crypto';
import { ProtocolError } from '../errors';
import { LIMITS } from './limits';
import { hmacSha256Into } from './mac';
import type { Message, RetrievedReply } from './messages';
import { toMessage } from './schema';

export const NATIVE_MAGIC = 0xa7;
const NATIVE_VERSION = 1;
const FLAG_MAC = 1;
/** Invalid UTF-8 is refused, not replaced: a datagram means exactly one thing. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const HEADER = 3;
export const MAC_BYTES = 32;

export interface NativeEnvelope {
  /** The sender's stable client id (base64url, at most 64 characters). */
  cid?: string;
  /**
   * Anti-replay counter of a request (µs-time based, increasing per identity);
   * in a server's reply, the ctr of the request it answers.
   */
  ctr?: number;
  /**
   * In a server's reply, the lease epoch it serves under: a client believes
   * a CHANGE-SERVER only for an epoch at least as recent as those of the
   * MACed replies it received, so an old captured one cannot move it.
   */
  ep?: number;
  /**
   * Padding (spaces), ignored on decode: requests are padded to
   * LIMITS.minNativeRequest bytes so that any reply fits in the 3× budget of an
   * address the server has not validated yet (as QUIC pads its Initial packets).
   */
  pad?: string;
  /**
   * In a server's MACed reply: 1 when the request came from the user's
   * proven address (where it answered its CHALLENGE), so the replies to that
   * user's MACed requests are not charged to a budget and the client may
   * stop padding them.
   */
  pv?: 1;
}

export interface NativeFrame {
  message: Message;
  envelope: NativeEnvelope;
  /** Present when the datagram carried a MAC; check it with verifyNativeMac. */
  mac?: Buffer;
  /** The bytes the MAC covers. */
  signed: Buffer;
}

/** True when the datagram claims to be native (cheap dialect detection). */
export function isNative(bytes: Uint8Array): boolean {
  return bytes.length >= HEADER && bytes[0] === NATIVE_MAGIC;
}

/** Encode a message; with `key`, append an HMAC-SHA256 over the whole datagram. */
export function encodeNative(message: Message, envelope: NativeEnvelope = {}, key?: Uint8Array): Buffer {
  return sealNativeBody(withFields(JSON.stringify(message), envelope), key);
}

/**
 * `json` (an object's JSON) with more fields appended, as `{...obj, ...more}`
 * would give when no key repeats (the envelope's keys are never message
 * fields); lets a body encoded once be completed per datagram.
 */
export function withFields(json: string, more: object): string {
  let tail = '';
  for (const k in more) {
    const v = (more as Record<string, unknown>)[k];
    if (v === undefined) continue;
    // The envelope's numbers are safe integers: written as JSON.stringify writes them, without its call.
    tail += `${keyPrefix(k)}${typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : JSON.stringify(v)}`;
  }
  if (tail === '') return json;
  return `${reopened(json, tail)}}`;
}

/** `json` (an object's JSON) without its closing brace, then `tail` (`,"key":value…`): the caller closes it. */
function reopened(json: string, tail: string): string {
  return json === '{}' ? `{${tail.slice(1)}` : `${json.slice(0, -1)}${tail}`;
}

/** `,"key":` of the keys withFields appends (a handful: the envelope's and `to`), quoted once. */
const keyPrefixes = new Map<string, string>();
function keyPrefix(k: string): string {
  let p = keyPrefixes.get(k);
  if (p === undefined) {
    p = `,${JSON.stringify(k)}:`;
    if (keyPrefixes.size < 64) keyPrefixes.set(k, p);
  }
  return p;
}

/** The header (flagged MACed or not) and `text`, in a buffer with `room` bytes more after them. */
function headed(text: string, macced: boolean, room: number): Buffer {
  const len = Buffer.byteLength(text);
  const out = Buffer.allocUnsafe(HEADER + len + room);
  out[0] = NATIVE_MAGIC;
  out[1] = NATIVE_VERSION;
  out[2] = macced ? FLAG_MAC : 0;
  out.write(text, HEADER, 'utf8');
  return out;
}

/** The datagram of a JSON body (see withFields): header, body and, with `key`, the MAC, in one allocation. */
export function sealNativeBody(json: string, key?: Uint8Array): Buffer {
  if (!key) return headed(json, false, 0);
  const out = headed(json, true, MAC_BYTES);
  const len = out.length - MAC_BYTES;
  hmacSha256Into(out.subarray(0, len), key, out, len);
  return out;
}

/**
 * The MACed datagram of `json` with one string field appended, cut where
 * the datagrams of one body differ (a push's `to`): header and body bytes
 * encoded once, so each datagram costs a copy, the field and its MAC
 * (sealLastField). Byte for byte sealNativeBody(withFields(json, {[field]: v}), key).
 */
export function openBody(json: string, field: string): Buffer {
  return headed(reopened(json, keyPrefix(field)), true, 0);
}

/** The datagram of an openBody completed with the string `value`, MACed with `key`. */
export function sealLastField(open: Buffer, value: string, key: Uint8Array): Buffer {
  const v = JSON.stringify(value);
  const len = open.length + Buffer.byteLength(v) + 1;
  const out = Buffer.allocUnsafe(len + MAC_BYTES);
  open.copy(out, 0);
  out.write(v, open.length, 'utf8');
  out[len - 1] = 0x7d; // }
  hmacSha256Into(out.subarray(0, len), key, out, len);
  return out;
}

/** Decode a native datagram. Throws ProtocolError on any defect; never checks the MAC (the caller knows the key). */
export function decodeNative(bytes: Uint8Array): NativeFrame {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length > LIMITS.maxNativeDatagram) {
    throw new ProtocolError('RSS_TOO_LARGE', `native datagram of ${buf.length} bytes exceeds ${LIMITS.maxNativeDatagram}`);
  }
  if (!isNative(buf)) throw new ProtocolError('RSS_MALFORMED', 'not a native datagram');
  if (buf[1] !== NATIVE_VERSION) throw new ProtocolError('RSS_MALFORMED', `unsupported native version ${buf[1]}`);
  const flags = buf[2]!;
  if ((flags & ~FLAG_MAC) !== 0) throw new ProtocolError('RSS_MALFORMED', 'unknown native flags');
  const hasMac = (flags & FLAG_MAC) !== 0;
  const end = hasMac ? buf.length - MAC_BYTES : buf.length;
  if (end <= HEADER) throw new ProtocolError('RSS_MALFORMED', 'native datagram has no body');
  // An ACK comes for every push: its one layout is read without JSON.parse (readAck), anything else in full.
  let obj: unknown = readAck(buf, end);
  if (obj === undefined) {
    try {
      const body = buf.subarray(HEADER, end);
      // Most bodies are ASCII (JSON of Latin names and subjects), which latin1 reads as it is, faster than a strict UTF-8 decoder.
      obj = JSON.parse(isAscii(body) ? buf.toString('latin1', HEADER, end) : strictUtf8.decode(body));
    } catch {
      throw new ProtocolError('RSS_MALFORMED', 'native body is not JSON (or not UTF-8)');
    }
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new ProtocolError('RSS_MALFORMED', 'native body is not an object');
  }
  const raw = obj as Record<string, unknown>;
  const envelope: NativeEnvelope = {};
  if (raw.cid !== undefined) {
    if (typeof raw.cid !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(raw.cid)) throw new ProtocolError('RSS_MALFORMED', 'field cid: invalid');
    envelope.cid = raw.cid;
  }
  // `pad` is not checked beyond being dropped: it only makes the datagram longer.
  if (raw.ctr !== undefined) {
    if (typeof raw.ctr !== 'number' || !Number.isSafeInteger(raw.ctr) || raw.ctr < 0) throw new ProtocolError('RSS_MALFORMED', 'field ctr: invalid');
    envelope.ctr = raw.ctr;
  }
  if (raw.ep !== undefined) {
    if (typeof raw.ep !== 'number' || !Number.isSafeInteger(raw.ep) || raw.ep < 0) throw new ProtocolError('RSS_MALFORMED', 'field ep: invalid');
    envelope.ep = raw.ep;
  }
  if (raw.pv !== undefined) {
    if (raw.pv !== 1) throw new ProtocolError('RSS_MALFORMED', 'field pv: invalid');
    envelope.pv = 1;
  }
  const frame: NativeFrame = { message: toMessage(raw), envelope, signed: buf.subarray(0, end) };
  if (hasMac) frame.mac = buf.subarray(end);
  return frame;
}

const ACK_OPEN = Buffer.from('{"type":"ACK","name":"');
const ACK_SEQ = Buffer.from('","seq":');
const ACK_CID = Buffer.from(',"cid":"');
const ACK_CTR = Buffer.from('","ctr":');

/**
 * The body of an ACK laid out exactly as the native client writes it,
 * `{"type":"ACK","name":"N","seq":S,"cid":"C","ctr":R}` with plain
 * printable ASCII strings (no escape) and plain non-negative integers, as
 * the object JSON.parse gives for it, read without JSON.parse; undefined
 * for anything else (then it is parsed in full). Its fields are checked
 * as any body's are, after.
 */
export function readAck(buf: Buffer, end: number): Record<string, unknown> | undefined {
  const at = { i: HEADER };
  const name = stringAfter(buf, at, ACK_OPEN, end);
  const seq = name === undefined ? undefined : intAfter(buf, at, ACK_SEQ, end);
  const cid = seq === undefined ? undefined : stringAfter(buf, at, ACK_CID, end);
  const ctr = cid === undefined ? undefined : intAfter(buf, at, ACK_CTR, end);
  if (ctr === undefined || at.i !== end - 1 || buf[at.i] !== 0x7d) return undefined;
  return { type: 'ACK', name, seq, cid, ctr };
}

/** The string or integer after the bytes `key` at `at.i` (moving `at.i` to where it ends), or undefined. */
function stringAfter(buf: Buffer, at: { i: number }, key: Buffer, end: number): string | undefined {
  const from = valueAfter(buf, at, key, end, plainStringEnd);
  return from < 0 ? undefined : buf.toString('latin1', from, at.i);
}

/** Above 2^53 JSON.parse rounds: such a number is left to it (intBetween gives undefined). */
function intAfter(buf: Buffer, at: { i: number }, key: Buffer, end: number): number | undefined {
  const from = valueAfter(buf, at, key, end, plainIntEnd);
  return from < 0 ? undefined : intBetween(buf, from, at.i);
}

/** Where the value after `key` at `at.i` starts (`at.i` moved to where `endOf` says it ends), or -1. */
function valueAfter(buf: Buffer, at: { i: number }, key: Buffer, end: number, endOf: (buf: Buffer, from: number, end: number) => number): number {
  if (!bytesAt(buf, at.i, key)) return -1;
  const from = at.i + key.length;
  const to = endOf(buf, from, end);
  if (to < 0) return -1;
  at.i = to;
  return from;
}

function bytesAt(buf: Buffer, at: number, want: Buffer): boolean {
  if (at + want.length > buf.length) return false;
  for (let k = 0; k < want.length; k++) if (buf[at + k] !== want[k]) return false;
  return true;
}

/** Where a string's closing quote is, when every byte before it from `at` is printable ASCII other than `"` and `\`; else -1. */
function plainStringEnd(buf: Buffer, at: number, end: number): number {
  for (let k = at; k < end; k++) {
    const c = buf[k]!;
    if (c === 0x22) return k;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return -1;
  }
  return -1;
}

/** Where the digits of a JSON integer without sign, fraction or exponent end (no leading zero but "0"); else -1. */
function plainIntEnd(buf: Buffer, at: number, end: number): number {
  let k = at;
  while (k < end && buf[k]! >= 0x30 && buf[k]! <= 0x39) k++;
  if (k === at || (buf[at] === 0x30 && k > at + 1)) return -1;
  const c = buf[k];
  return c === 0x2e || c === 0x65 || c === 0x45 ? -1 : k;
}

/** The integer of the digits in [from, to), when it is a safe integer (so exactly what JSON.parse reads). */
function intBetween(buf: Buffer, from: number, to: number): number | undefined {
  let n = 0;
  for (let k = from; k < to; k++) n = n * 10 + (buf[k]! - 0x30);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Encode a request padded to at least LIMITS.minNativeRequest bytes (see NativeEnvelope.pad). */
export function encodeNativePadded(message: Message, envelope: NativeEnvelope, key?: Uint8Array): Buffer {
  const plain = encodeNative(message, envelope, key);
  // `,"pad":""` costs 9 bytes before the spaces.
  const missing = LIMITS.minNativeRequest - plain.length - 9;
  return missing <= 0 ? plain : encodeNative(message, { ...envelope, pad: ' '.repeat(missing) }, key);
}

/**
 * Does a text fit the native dialect: the largest datagram it travels in
 * (the MACed MESSAGE push to a recipient with the longest name, or the
 * PUBLISH / PUBLISHED around it), JSON escaping included, within
 * LIMITS.maxNativeDatagram? Returns the worst size in bytes and whether it fits.
 */
export function nativeTextSize(name: string, subject: string, text: string): { bytes: number; fits: boolean } {
  // Each datagram is a fixed part plus the JSON of the three strings (JSON.stringify escapes the same way wherever a string sits).
  const strings = jsonBytes(name) + jsonBytes(subject) + jsonBytes(text);
  const bytes = Math.max(SIZES.push, SIZES.request) + strings + MAC_BYTES;
  return { bytes, fits: bytes <= LIMITS.maxNativeDatagram };
}

/** Bytes of a string's JSON (quotes and escapes included). */
const jsonBytes = (s: string) => Buffer.byteLength(JSON.stringify(s));

/**
 * The datagrams nativeTextSize measures with empty strings, less the empty
 * strings' quotes: the MESSAGE push to a recipient with the longest name,
 * and the PUBLISH (the PUBLISHED around it is smaller).
 */
const SIZES = (() => {
  const longName = 'n'.repeat(LIMITS.maxNameLength);
  const big = Number.MAX_SAFE_INTEGER;
  return {
    push: encodeNative({ type: 'MESSAGE', seq: big, from: '', subject: '', text: '', at: big, to: longName }, { ctr: big }).length - 6,
    request: encodeNative({ type: 'PUBLISH', rq: LIMITS.maxRq, name: '', subject: '', text: '' }, { cid: 'c'.repeat(64), ctr: big }).length - 6,
  };
})();

/**
 * How many of a RETRIEVED reply's texts fit one native datagram, as the
 * server sends it (the dialect's `fitRetrieved`, as the legacy dialects
 * have theirs): the reply's JSON plus the envelope the server adds and the MAC.
 */
export function nativeFitRetrieved(reply: RetrievedReply): number {
  // Room for the envelope (the echoed ctr and the epoch, `,"ctr":`/`,"ep":` and 16 digits each, `,"pv":1`) and the MAC on top of the JSON of the reply without texts.
  let size = encodeNative({ ...reply, texts: [] }).length + MAC_BYTES + 24 + 23 + 7;
  let fitting = 0;
  for (const t of reply.texts) {
    size += Buffer.byteLength(JSON.stringify(t)) + 1;
    if (size > LIMITS.maxNativeDatagram) break;
    fitting++;
  }
  return fitting;
}

/** The MAC a frame should carry, computed in place (one per process: verification is synchronous). */
const expected = Buffer.alloc(MAC_BYTES);

/** Constant-time check of a frame's MAC against `key`. */
export function verifyNativeMac(frame: NativeFrame, key: Uint8Array): boolean {
  if (frame.mac?.length !== MAC_BYTES) return false;
  hmacSha256Into(frame.signed, key, expected, 0);
  return timingSafeEqual(frame.mac, expected);
}
