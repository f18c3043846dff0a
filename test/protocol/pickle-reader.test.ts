import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors';
import { LIMITS } from '../../src/protocol/limits';
import { readPickle } from '../../src/protocol/pickle/reader';
import requests from '../fixtures/pickle/requests.json';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Expect `fn` to throw a ProtocolError with `code`. */
function expectProtocolError(fn: () => unknown, code: 'RSS_MALFORMED' | 'RSS_TOO_LARGE'): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ProtocolError);
  expect((thrown as ProtocolError).code).toBe(code);
}

/** Hand-made pickle: PROTO 2, body, STOP. */
const p2 = (body: string) => hex(`8002 ${body} 2e`);
/** SHORT_BINUNICODE of an ASCII string, protocol 4. */
const s4 = (s: string) => `8c${s.length.toString(16).padStart(2, '0')}${Buffer.from(s).toString('hex')}`;
/** BINUNICODE of an ASCII string (shorter than 256 bytes). */
const s2 = (s: string) => `58${s.length.toString(16).padStart(2, '0')}000000${Buffer.from(s).toString('hex')}`;

describe('readPickle: CPython fixtures', () => {
  it.each(requests.map((r) => [r.name, r] as const))('%s', (_name, r) => {
    expect(readPickle(hex(r.hex))).toEqual(r.dict);
  });

  it('refuses every truncation of every fixture', () => {
    for (const r of requests) {
      const bytes = hex(r.hex);
      for (let n = 0; n < bytes.length; n++) expectProtocolError(() => readPickle(bytes.subarray(0, n)), 'RSS_MALFORMED');
    }
  });
});

describe('readPickle: values', () => {
  it('reads every int opcode, LONG1 included', () => {
    expect(readPickle(p2('4bff'))).toBe(255);
    expect(readPickle(p2('4dffff'))).toBe(65535);
    expect(readPickle(p2('4affffffff'))).toBe(-1);
    expect(readPickle(p2('8a00'))).toBe(0);
    expect(readPickle(p2('8a0500000000ff'))).toBe(-(2 ** 32));
    expect(readPickle(p2('8a07ffffffffffff1f'))).toBe(Number.MAX_SAFE_INTEGER);
    expect(readPickle(p2('8a07 010000000000e0'))).toBe(Number.MIN_SAFE_INTEGER);
  });

  it('reads bool and None', () => {
    expect(readPickle(p2('5d 28 88 89 4e 65'))).toEqual([true, false, null]);
  });

  it('keeps a UTF-8 BOM and "__proto__" keys as plain data', () => {
    expect(readPickle(p2('58 03000000 efbbbf'))).toBe('\ufeff');
    const d = readPickle(p2(`7d ${s2('__proto__')} 4b01 73`)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
    expect(Object.keys(d)).toEqual(['__proto__']);
  });

  it('takes the last value of a repeated key, as pickle.loads does', () => {
    expect(readPickle(p2(`7d 28 ${s2('A')} 4b01 ${s2('A')} 4b02 75`))).toEqual({ A: 2 });
  });

  it('accepts 16 levels of nesting and refuses 17', () => {
    const nest = (n: number) => '5d'.repeat(n) + '61'.repeat(n - 1);
    const sixteenDeep = Array.from({ length: 15 }).reduce<unknown[]>((inner) => [inner], []);
    expect(readPickle(p2(nest(16)))).toEqual(sixteenDeep);
    expectProtocolError(() => readPickle(p2(nest(17))), 'RSS_TOO_LARGE');
  });
});

describe('readPickle: refused inputs', () => {
  const MAL: [string, string, 'RSS_MALFORMED' | 'RSS_TOO_LARGE'][] = [
    ['empty input', '', 'RSS_MALFORMED'],
    ['no PROTO', '7d2e', 'RSS_MALFORMED'],
    ['protocol 0 text dict', '28647030 0a2e', 'RSS_MALFORMED'],
    ['PROTO 1', '80017d2e', 'RSS_MALFORMED'],
    ['PROTO 6', '80067d2e', 'RSS_MALFORMED'],
    ['second PROTO', '8002 8002 7d2e', 'RSS_MALFORMED'],
    ['GLOBAL os.system + REDUCE', `8002 63${Buffer.from('os\nsystem\n').toString('hex')} ${s2('echo pwned')} 85 52 2e`, 'RSS_MALFORMED'],
    ['STACK_GLOBAL', `8004 ${s4('os')} ${s4('system')} 93 2e`, 'RSS_MALFORMED'],
    ['BUILD', '8002 7d 7d 62 2e', 'RSS_MALFORMED'],
    ['INST', `8002 28 69${Buffer.from('os\nsystem\n').toString('hex')} 2e`, 'RSS_MALFORMED'],
    ['OBJ', '8002 28 4e 6f 2e', 'RSS_MALFORMED'],
    ['NEWOBJ', '8002 4e 29 81 2e', 'RSS_MALFORMED'],
    ['PERSID', `8002 50${Buffer.from('x\n').toString('hex')} 2e`, 'RSS_MALFORMED'],
    ['BINPERSID', '8002 4b01 51 2e', 'RSS_MALFORMED'],
    ['EXT1', '8002 8201 2e', 'RSS_MALFORMED'],
    ['protocol 5 NEXT_BUFFER', '8005 97 2e', 'RSS_MALFORMED'],
    ['protocol 5 READONLY_BUFFER', '8005 4e 98 2e', 'RSS_MALFORMED'],
    ['protocol 5 BYTEARRAY8', '8005 96 0100000000000000 41 2e', 'RSS_MALFORMED'],
    ['DUP (would share a container)', '8002 5d 32 61 2e', 'RSS_MALFORMED'],
    ['BINGET of an undefined memo index', '8002 7d 71 00 68 01 2e', 'RSS_MALFORMED'],
    ['LONG_BINGET far out of range', '8002 4b01 6a ffffffff 2e', 'RSS_MALFORMED'],
    ['LONG_BINPUT far out of range', '8002 4b01 72 ffffffff 2e', 'RSS_MALFORMED'],
    ['BINGET of a list (shared container)', '8002 5d 71 00 5d 68 00 61 2e', 'RSS_MALFORMED'],
    ['a list appended to itself', '8002 5d 71 00 68 00 61 2e', 'RSS_MALFORMED'],
    ['MEMOIZE at protocol 2', '8002 7d 94 2e', 'RSS_MALFORMED'],
    ['SHORT_BINUNICODE at protocol 3', '8003 8c 01 41 2e', 'RSS_MALFORMED'],
    ['MEMOIZE on an empty stack', '8004 94 2e', 'RSS_MALFORMED'],
    ['BINUNICODE length 0xffffffff', '8002 58 ffffffff 41 2e', 'RSS_MALFORMED'],
    ['SHORT_BINUNICODE longer than the input', '8004 8c ff 41 2e', 'RSS_MALFORMED'],
    ['FRAME longer than the input', '8004 95 ff00000000000000 7d 2e', 'RSS_MALFORMED'],
    ['FRAME length beyond 32 bits', '8004 95 0200000000000001 7d 2e', 'RSS_MALFORMED'],
    ['FRAME inside a frame', '8004 95 0b00000000000000 95 0100000000000000 7d 2e', 'RSS_MALFORMED'],
    ['opcode crossing the frame end', '8004 95 0200000000000000 4d 0100 2e', 'RSS_MALFORMED'],
    ['FRAME at protocol 2', '8002 95 0200000000000000 7d 2e', 'RSS_MALFORMED'],
    ['invalid UTF-8', '8002 58 01000000 ff 2e', 'RSS_MALFORMED'],
    ['lone surrogate (Python surrogatepass)', '8002 58 03000000 eda080 2e', 'RSS_MALFORMED'],
    ['LONG1 of 9 bytes', '8002 8a09 000000000000000001 2e', 'RSS_MALFORMED'],
    ['LONG1 beyond 2**53', '8002 8a07 00000000000020 2e', 'RSS_MALFORMED'],
    ['LONG4', '8002 8b 01000000 01 2e', 'RSS_MALFORMED'],
    ['BINFLOAT', '8002 47 3ff0000000000000 2e', 'RSS_MALFORMED'],
    ['SETITEM on a list', `8002 5d ${s2('a')} 4b01 73 2e`, 'RSS_MALFORMED'],
    ['APPEND on a dict', '8002 7d 4b01 61 2e', 'RSS_MALFORMED'],
    ['int dict key', '8002 7d 4b01 4b02 73 2e', 'RSS_MALFORMED'],
    ['None dict key', '8002 7d 28 4e 4b02 75 2e', 'RSS_MALFORMED'],
    ['SETITEM stack underflow', `8002 ${s2('a')} 4b01 73 2e`, 'RSS_MALFORMED'],
    ['SETITEM across a MARK', `8002 7d ${s2('a')} 28 4b01 73 2e`, 'RSS_MALFORMED'],
    ['SETITEMS without MARK', '8002 7d 75 2e', 'RSS_MALFORMED'],
    ['SETITEMS with an odd count', `8002 7d 28 ${s2('a')} 75 2e`, 'RSS_MALFORMED'],
    ['SETITEMS with nothing below the MARK', `8002 28 ${s2('a')} 4b01 75 2e`, 'RSS_MALFORMED'],
    ['APPENDS without MARK', '8002 5d 65 2e', 'RSS_MALFORMED'],
    ['APPEND stack underflow', '8002 5d 61 2e', 'RSS_MALFORMED'],
    ['MARK left open at STOP', '8002 7d 28 2e', 'RSS_MALFORMED'],
    ['two values at STOP', '8002 7d 7d 2e', 'RSS_MALFORMED'],
    ['nothing at STOP', '8002 2e', 'RSS_MALFORMED'],
    ['bytes after STOP', '8002 7d 2e 00', 'RSS_MALFORMED'],
    ['no STOP', '8002 7d', 'RSS_MALFORMED'],
    ['too many open MARKs', `8002 ${'28'.repeat(17)} 2e`, 'RSS_TOO_LARGE'],
    ['17 nested dicts', `8002 ${`7d ${s2('k')}`.repeat(16)} 7d ${'73'.repeat(16)} 2e`, 'RSS_TOO_LARGE'],
    ['more than 2048 values', `8002 5d 28 ${'4e'.repeat(2048)} 65 2e`, 'RSS_TOO_LARGE'],
  ];

  it.each(MAL)('%s', (_name, bytes, code) => {
    expectProtocolError(() => readPickle(hex(bytes)), code);
  });

  it('refuses input over LIMITS.maxDatagram before reading it', () => {
    const big = Buffer.alloc(LIMITS.maxDatagram + 1, 0x4e);
    big[0] = 0x80;
    big[1] = 2;
    expectProtocolError(() => readPickle(big), 'RSS_TOO_LARGE');
  });

  it('reads a pickle that sits inside a larger buffer (byteOffset)', () => {
    const outer = Buffer.concat([Buffer.from([1, 2, 3]), p2('4a 01000000')]);
    expect(readPickle(outer.subarray(3))).toBe(1);
  });
});
