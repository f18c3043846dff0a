/**
 * Writes JS values as pickle protocol 2, the way CPython's pickle.dumps lays
 * them out (minus the memo, which pickle.loads does not need): a pickle
 * client reads replies with pickle.loads and accepts protocols 0, 2 and 4.
 * Protocol 2 has no FRAME header, so short replies stay short.
 *
 * `pickledSize` computes the exact length without writing, so the dialect can
 * fit replies into a pickle client's recvfrom(1024) before encoding. Pure: no I/O.
 */
import { ProtocolError } from '../../errors';
import { OP } from './opcodes';

/** What the writer accepts: objects (string keys), arrays, strings, safe integers, booleans, null. */
export type PickleInput =
  | null
  | boolean
  | number
  | string
  | readonly PickleInput[]
  | { readonly [key: string]: PickleInput };

/** Python batches SETITEMS/APPENDS by 1000 items (pickle._BATCHSIZE); so does rss. */
const BATCH = 1000;
/** Same bound as the reader: deeper values are a bug (or a cycle) in the caller. */
const MAX_DEPTH = 16;

function unencodable(message: string): never {
  throw new ProtocolError('RSS_MALFORMED', `pickle writer: ${message}`);
}

/** Bytes of an int opcode plus argument, choosing the opcode as CPython does. */
function intSize(n: number): number {
  if (!Number.isSafeInteger(n)) unencodable(`${n} is not a safe integer`);
  if (n >= 0 && n <= 0xff) return 2; // BININT1
  if (n >= 0 && n <= 0xffff) return 3; // BININT2
  if (n >= -0x80000000 && n <= 0x7fffffff) return 5; // BININT
  return 2 + long1Bytes(n).length; // LONG1
}

/** Minimal little-endian two's complement of `n` (as pickle.encode_long). */
function long1Bytes(n: number): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0xffn);
    out.push(byte);
    v >>= 8n;
    // Stop once the remaining value is pure sign extension of the last byte.
    if ((v === 0n && (byte & 0x80) === 0) || (v === -1n && (byte & 0x80) !== 0)) return out;
  }
}

/** Bytes added by filling a container with `n` entries: SETITEM/APPEND for one, else MARK ... SETITEMS/APPENDS per batch. */
function batchOverhead(n: number): number {
  if (n <= 1) return n;
  return 2 * Math.ceil(n / BATCH);
}

function entriesOf(obj: { readonly [key: string]: PickleInput }): [string, PickleInput][] {
  return Object.entries(obj);
}

function valueSize(v: PickleInput, depth: number): number {
  if (v === null || typeof v === 'boolean') return 1;
  if (typeof v === 'number') return intSize(v);
  if (typeof v === 'string') return 5 + Buffer.byteLength(v, 'utf8');
  if (typeof v !== 'object') unencodable(`cannot pickle a ${typeof v}`);
  if (depth >= MAX_DEPTH) unencodable(`nesting deeper than ${MAX_DEPTH}`);
  const proto = Object.getPrototypeOf(v) as unknown;
  if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) unencodable('only plain objects become dicts');
  if (Array.isArray(v)) {
    const list = v as readonly PickleInput[];
    let size = 1 + batchOverhead(list.length);
    for (const item of list) size += valueSize(item, depth + 1);
    return size;
  }
  const entries = entriesOf(v as { readonly [key: string]: PickleInput });
  let size = 1 + batchOverhead(entries.length);
  for (const [k, item] of entries) size += 5 + Buffer.byteLength(k, 'utf8') + valueSize(item, depth + 1);
  return size;
}

/** Exact length of writePickle(value), without writing it. */
export function pickledSize(value: PickleInput): number {
  return 2 + valueSize(value, 0) + 1; // PROTO 2 ... STOP
}

class Writer {
  private pos = 0;
  constructor(readonly buf: Buffer) {}

  op(code: number): void {
    this.buf[this.pos++] = code;
  }

  value(v: PickleInput): void {
    if (v === null) return this.op(OP.NONE);
    if (v === true) return this.op(OP.NEWTRUE);
    if (v === false) return this.op(OP.NEWFALSE);
    if (typeof v === 'number') return this.int(v);
    if (typeof v === 'string') return this.str(v);
    if (Array.isArray(v)) {
      this.op(OP.EMPTY_LIST);
      const list = v as readonly PickleInput[];
      return this.batched(list.length, OP.APPEND, OP.APPENDS, (i) => this.value(list[i]!));
    }
    const entries = entriesOf(v as { readonly [key: string]: PickleInput });
    this.op(OP.EMPTY_DICT);
    this.batched(entries.length, OP.SETITEM, OP.SETITEMS, (i) => {
      const [k, item] = entries[i]!;
      this.str(k);
      this.value(item);
    });
  }

  /** As CPython's C pickler (batch_list_exact, batch_dict_exact): one entry → single op; else MARK ... multi op per 1000. */
  private batched(n: number, single: number, multi: number, each: (i: number) => void): void {
    if (n === 1) {
      each(0);
      return this.op(single);
    }
    for (let start = 0; start < n; start += BATCH) {
      this.op(OP.MARK);
      for (let i = start; i < Math.min(n, start + BATCH); i++) each(i);
      this.op(multi);
    }
  }

  private int(n: number): void {
    if (n >= 0 && n <= 0xff) {
      this.op(OP.BININT1);
      this.op(n);
    } else if (n >= 0 && n <= 0xffff) {
      this.op(OP.BININT2);
      this.pos = this.buf.writeUInt16LE(n, this.pos);
    } else if (n >= -0x80000000 && n <= 0x7fffffff) {
      this.op(OP.BININT);
      this.pos = this.buf.writeInt32LE(n, this.pos);
    } else {
      const bytes = long1Bytes(n);
      this.op(OP.LONG1);
      this.op(bytes.length);
      for (const b of bytes) this.op(b);
    }
  }

  private str(s: string): void {
    // Buffer writes a lone surrogate as U+FFFD (3 bytes, as byteLength counts): Python then reads U+FFFD.
    this.op(OP.BINUNICODE);
    const len = Buffer.byteLength(s, 'utf8');
    this.pos = this.buf.writeUInt32LE(len, this.pos);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  finish(): Buffer {
    if (this.pos !== this.buf.length) throw new Error(`pickle writer: wrote ${this.pos} of ${this.buf.length} bytes`);
    return this.buf;
  }
}

/** Pickle `value` at protocol 2 (PROTO 2 ... STOP). Throws ProtocolError for values pickle cannot carry here. */
export function writePickle(value: PickleInput): Buffer {
  const size = pickledSize(value); // validates every value first
  const w = new Writer(Buffer.alloc(size));
  w.op(OP.PROTO);
  w.op(2);
  w.value(value);
  w.op(OP.STOP);
  return w.finish();
}
