/**
 * Hostile input: whatever bytes arrive, the pickle decoder either returns a
 * Request or throws ProtocolError — never a TypeError, RangeError, hang or
 * stack overflow. 24,000 cases in all.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { ProtocolError } from '../../src/errors';
import { pickleDialect } from '../../src/protocol/pickle/dialect';
import { readPickle } from '../../src/protocol/pickle/reader';
import requests from '../fixtures/pickle/requests.json';

const fixtures = requests.map((r) => Buffer.from(r.hex, 'hex'));

/** True when decoding either succeeds or fails the one allowed way. */
function decodesOrRefuses(bytes: Uint8Array): boolean {
  try {
    pickleDialect.decodeRequest(bytes);
    return true;
  } catch (err) {
    if (err instanceof ProtocolError) return true;
    throw err; // fast-check reports the input that produced it
  }
}

/** One edit of a datagram: overwrite, insert or delete a byte, or cut the tail. */
const edit = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), byte: fc.constant(0) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), byte: fc.constant(0) }),
);

function mutate(src: Buffer, edits: { kind: string; at: number; byte: number }[]): Buffer {
  let b = Buffer.from(src);
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % (b.length + 1);
    if (e.kind === 'set' && at < b.length) b[at] = e.byte;
    else if (e.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from([e.byte]), b.subarray(at)]);
    else if (e.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    else if (e.kind === 'cut') b = b.subarray(0, at);
  }
  return b;
}

/** Bytes drawn mostly from the accepted opcodes, so runs get deep into the stack machine. */
const opcodeSoup = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(0x7d, 0x5d, 0x94, 0x28, 0x73, 0x75, 0x61, 0x65, 0x4e, 0x88, 0x89, 0x68, 0x71, 0x2e) },
    { weight: 2, arbitrary: fc.constantFrom(0x4b, 0x4d, 0x4a, 0x8a, 0x8c, 0x58, 0x95, 0x6a, 0x72) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
  ),
  { maxLength: 120 },
).map((ops) => Buffer.from([0x80, 4, ...ops]));

describe('pickle decoder under hostile input', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), decodesOrRefuses), { numRuns: 6000 });
  });

  it('random bytes after a valid PROTO header', () => {
    const header = fc.constantFrom(2, 3, 4, 5).chain((p) =>
      fc.uint8Array({ maxLength: 200 }).map((rest) => Buffer.from([0x80, p, ...rest])));
    fc.assert(fc.property(header, decodesOrRefuses), { numRuns: 6000 });
  });

  it('opcode soup (the reader alone, any value it builds)', () => {
    fc.assert(fc.property(opcodeSoup, (b) => {
      try {
        readPickle(b);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
      }
      return decodesOrRefuses(b);
    }), { numRuns: 6000 });
  });

  it('mutated CPython fixtures', () => {
    const mutated = fc.tuple(fc.constantFrom(...fixtures), fc.array(edit, { minLength: 1, maxLength: 4 }))
      .map(([src, edits]) => mutate(src, edits));
    fc.assert(fc.property(mutated, decodesOrRefuses), { numRuns: 6000 });
  });
});
