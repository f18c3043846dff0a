/**
 * A strict reader of the pickles that pickle-dialect clients send:
 * `pickle.dumps(dict)` at protocol 2 to 4 (and the PROTO 5
 * header Python 3.14 writes by default, with the same opcodes). It is a
 * small stack machine over the opcodes in opcodes.ts and nothing else — no
 * globals, no object construction, so no code can ever run. Every length,
 * index and bound is checked before use; the only error it throws is
 * ProtocolError (RSS_MALFORMED or RSS_TOO_LARGE). Pure: no I/O.
 *
 * Results are trees: a container in the memo may be stored but never fetched
 * again (BINGET), so there are no shared or cyclic values and no expansion
 * attacks. Pickle requests are flat dicts of str and int, so this costs
 * nothing real.
 */
import { ProtocolError } from '../../errors';
import { LIMITS } from '../limits';
import { OP, REFUSED_NAMES } from './opcodes';

/** What a pickle decodes to: dict → plain object with string keys, list → array. */
export type PickleValue = null | boolean | number | string | PickleValue[] | PickleDict;
/** A decoded dict. */
export interface PickleDict {
  [key: string]: PickleValue;
}

/** Bounds of one read; the defaults fit any request a pickle client can send. */
export interface PickleReadLimits {
  /** Largest input accepted (a datagram). */
  maxBytes: number;
  /** Deepest container nesting (the top-level dict counts 1). */
  maxDepth: number;
  /** Most values pushed in total (every string, int, container ...). */
  maxItems: number;
}

/** Default read bounds. */
const PICKLE_READ_LIMITS: PickleReadLimits = {
  maxBytes: LIMITS.maxDatagram,
  maxDepth: 16,
  maxItems: 2048,
};

type Container = PickleValue[] | PickleDict;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function malformed(message: string): never {
  throw new ProtocolError('RSS_MALFORMED', `pickle: ${message}`);
}

function tooLarge(message: string): never {
  throw new ProtocolError('RSS_TOO_LARGE', `pickle: ${message}`);
}

function isContainer(v: PickleValue | undefined): v is Container {
  return typeof v === 'object' && v !== null;
}

function isDict(v: PickleValue | undefined): v is PickleDict {
  return isContainer(v) && !Array.isArray(v);
}

class Reader {
  private pos = 0;
  /** End of the current FRAME, or -1 outside frames. */
  private frameEnd = -1;
  private proto = 0;
  private readonly stack: PickleValue[] = [];
  /** Stack heights at each open MARK. */
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  /** Height of each container (1 = holds no container); exact because results are trees. */
  private readonly heights = new WeakMap<Container, number>();
  private items = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly limits: PickleReadLimits,
  ) {}

  read(): PickleValue {
    if (this.buf.length > this.limits.maxBytes) {
      tooLarge(`${this.buf.length} bytes exceed ${this.limits.maxBytes}`);
    }
    // Pickle clients always start with PROTO (protocol 2+); protocol 0/1 text forms are not read.
    if (this.buf[0] !== OP.PROTO) malformed('does not start with PROTO');
    for (;;) {
      if (this.pos === this.frameEnd) this.frameEnd = -1;
      const at = this.pos;
      const op = this.u8();
      if (op === OP.STOP) return this.stop();
      this.step(op, at);
    }
  }

  private step(op: number, at: number): void {
    switch (op) {
      case OP.PROTO: {
        const v = this.u8();
        if (at !== 0) malformed('PROTO after the first opcode');
        // Pickle clients send protocol 4 (Python 3.8-3.13 default); Python 3.14's default is 5, which
        // pickles dicts of str/int with the very same opcodes. Protocol 5's own opcodes stay refused.
        if (v < 2 || v > 5) malformed(`protocol ${v} is not read (rss reads 2 to 5)`);
        this.proto = v;
        return;
      }
      case OP.FRAME: return this.frame();
      case OP.EMPTY_DICT: return this.push({});
      case OP.EMPTY_LIST: return this.push([]);
      case OP.MEMOIZE:
        this.needProto4(op);
        return this.put(this.memo.size);
      case OP.BINPUT: return this.put(this.u8());
      case OP.LONG_BINPUT: return this.put(this.u32());
      case OP.BINGET: return this.get(this.u8());
      case OP.LONG_BINGET: return this.get(this.u32());
      case OP.MARK:
        // Each open MARK fills one container, so open marks never outnumber nesting levels.
        if (this.marks.length >= this.limits.maxDepth) tooLarge('too many open MARKs');
        this.marks.push(this.stack.length);
        return;
      case OP.SETITEM: {
        this.need(3, 'SETITEM');
        const value = this.stack.pop()!;
        const key = this.stack.pop()!;
        return this.setItem(this.top('SETITEM'), key, value);
      }
      case OP.SETITEMS: {
        const items = this.popMark('SETITEMS');
        if (items.length % 2 !== 0) malformed('SETITEMS with an odd number of items');
        const dict = this.top('SETITEMS');
        for (let i = 0; i < items.length; i += 2) this.setItem(dict, items[i]!, items[i + 1]!);
        return;
      }
      case OP.APPEND: {
        this.need(2, 'APPEND');
        const value = this.stack.pop()!;
        return this.append(this.top('APPEND'), [value]);
      }
      case OP.APPENDS: {
        const items = this.popMark('APPENDS');
        return this.append(this.top('APPENDS'), items);
      }
      case OP.SHORT_BINUNICODE:
        this.needProto4(op);
        return this.push(this.str(this.u8()));
      case OP.BINUNICODE: return this.push(this.str(this.u32()));
      case OP.BININT: {
        const at4 = this.take(4);
        return this.push(new DataView(this.buf.buffer, this.buf.byteOffset + at4, 4).getInt32(0, true));
      }
      case OP.BININT1: return this.push(this.u8());
      case OP.BININT2: {
        const at2 = this.take(2);
        return this.push(this.buf[at2]! | (this.buf[at2 + 1]! << 8));
      }
      case OP.LONG1: return this.push(this.long1());
      case OP.NEWTRUE: return this.push(true);
      case OP.NEWFALSE: return this.push(false);
      case OP.NONE: return this.push(null);
      default: {
        const name = REFUSED_NAMES[op];
        malformed(`opcode 0x${op.toString(16).padStart(2, '0')}${name ? ` (${name})` : ''} at offset ${at} is not accepted`);
      }
    }
  }

  /** STOP: exactly one value, no open MARK, nothing after it (pickle.dumps never leaves any). */
  private stop(): PickleValue {
    if (this.marks.length !== 0) malformed('STOP with an open MARK');
    if (this.stack.length !== 1) malformed(`STOP with ${this.stack.length} values on the stack`);
    if (this.pos !== this.buf.length) malformed(`${this.buf.length - this.pos} bytes after STOP`);
    return this.stack[0]!;
  }

  /** FRAME (protocol 4+): an 8-byte length that must fit the input; no FRAME inside a frame. */
  private frame(): void {
    this.needProto4(OP.FRAME);
    if (this.frameEnd !== -1) malformed('FRAME inside an unfinished frame');
    const at = this.take(8);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + at, 8);
    const high = view.getUint32(4, true);
    const len = view.getUint32(0, true);
    if (high !== 0 || len > this.buf.length - this.pos) malformed('FRAME longer than the input');
    this.frameEnd = this.pos + len;
  }

  private needProto4(op: number): void {
    // pickle.dumps at protocol 2 or 3 never emits FRAME, MEMOIZE or SHORT_BINUNICODE.
    if (this.proto < 4) malformed(`opcode 0x${op.toString(16)} needs protocol 4`);
  }

  /** Reserve `n` argument bytes and return their offset; they must be in the input and the current frame. */
  private take(n: number): number {
    const at = this.pos;
    if (n > this.buf.length - at) malformed(`truncated at offset ${at}`);
    if (this.frameEnd !== -1 && at + n > this.frameEnd) malformed(`opcode crosses the end of its frame at offset ${at}`);
    this.pos = at + n;
    return at;
  }

  private u8(): number {
    return this.buf[this.take(1)]!;
  }

  private u32(): number {
    const at = this.take(4);
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, 4).getUint32(0, true);
  }

  private str(len: number): string {
    const at = this.take(len); // checks the length against the input before anything is allocated
    try {
      return utf8.decode(this.buf.subarray(at, at + len));
    } catch {
      // Python writes lone surrogates with 'surrogatepass'; rss refuses them like any invalid UTF-8.
      malformed(`invalid UTF-8 in the string at offset ${at}`);
    }
  }

  /** LONG1: little-endian two's complement; rss accepts only safe integers (at most 8 bytes). */
  private long1(): number {
    const n = this.u8();
    if (n > 8) malformed(`LONG1 of ${n} bytes is outside the safe integer range`);
    const at = this.take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.buf[at + i]!);
    if (n > 0 && (this.buf[at + n - 1]! & 0x80) !== 0) v -= 1n << BigInt(8 * n);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      malformed('integer outside the safe range');
    }
    return Number(v);
  }

  private push(v: PickleValue): void {
    if (++this.items > this.limits.maxItems) tooLarge(`more than ${this.limits.maxItems} values`);
    if (isContainer(v)) this.heights.set(v, 1);
    this.stack.push(v);
  }

  private fence(): number {
    return this.marks.length === 0 ? 0 : this.marks[this.marks.length - 1]!;
  }

  /** At least `n` values above the innermost MARK. */
  private need(n: number, what: string): void {
    if (this.stack.length - this.fence() < n) malformed(`${what}: stack underflow`);
  }

  private top(what: string): PickleValue {
    this.need(1, what);
    return this.stack[this.stack.length - 1]!;
  }

  private popMark(what: string): PickleValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) malformed(`${what} without MARK`);
    return this.stack.splice(mark);
  }

  private put(index: number): void {
    // A pickle of maxBytes bytes cannot define more memo entries than it has bytes.
    if (index >= this.limits.maxBytes) malformed(`memo index ${index} out of range`);
    this.memo.set(index, this.top('memo put'));
  }

  private get(index: number): void {
    const v = this.memo.get(index);
    if (v === undefined) malformed(`memo index ${index} is not defined`);
    if (isContainer(v)) malformed('a shared or recursive container is not accepted');
    this.push(v);
  }

  /** Record that `child` now sits inside `parent`; refuses nesting beyond maxDepth. */
  private adopt(parent: Container, child: PickleValue): void {
    if (!isContainer(child)) return;
    const h = this.heights.get(child)! + 1;
    if (h > this.limits.maxDepth) tooLarge(`nesting deeper than ${this.limits.maxDepth}`);
    if (h > this.heights.get(parent)!) this.heights.set(parent, h);
  }

  private setItem(dict: PickleValue, key: PickleValue, value: PickleValue): void {
    if (!isDict(dict)) malformed('SETITEM(S) on something that is not a dict');
    if (typeof key !== 'string') malformed('dict key is not a string');
    this.adopt(dict, value);
    // defineProperty, not assignment: a key "__proto__" stays a plain own property.
    Object.defineProperty(dict, key, { value, enumerable: true, writable: true, configurable: true });
  }

  private append(list: PickleValue, values: PickleValue[]): void {
    if (!Array.isArray(list)) malformed('APPEND(S) on something that is not a list');
    for (const v of values) {
      this.adopt(list, v);
      list.push(v);
    }
  }
}

/**
 * Read one pickle (protocol 2 to 5 header, protocol 4 opcodes at most) made only of dicts with string keys,
 * lists, str, int, bool and None. Throws ProtocolError on anything else.
 */
export function readPickle(bytes: Uint8Array, limits: Partial<PickleReadLimits> = {}): PickleValue {
  return new Reader(bytes, { ...PICKLE_READ_LIMITS, ...limits }).read();
}
