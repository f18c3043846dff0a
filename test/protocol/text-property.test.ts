/**
 * Property tests of the canonical text dialect (≈20,000 cases): round trips
 * of generated messages, and robustness against random and mutated bytes —
 * a decoder may only return a message or throw ProtocolError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import {
  decodeTextMessage, decodeTextReplies, encodeTextRequest, textDialect, textProjection,
} from '../../src/protocol/text.js';
import { TEXT_REQUEST_TYPES } from '../../src/protocol/text-request.js';
import { mutations, replyOrPush, request } from '../fixtures/text/arbitraries.js';

/** Decode, allowing only success or a ProtocolError; returns the message or undefined. */
function tolerant<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    expect(['RSS_MALFORMED', 'RSS_TOO_LARGE', 'RSS_UNKNOWN_TYPE']).toContain(e.code);
    if (e.partial) {
      expect(TEXT_REQUEST_TYPES).toContain(e.partial.type);
      expect(Number.isInteger(e.partial.rq)).toBe(true);
    }
    return undefined;
  }
}

describe('text dialect properties', () => {
  it('decodeRequest(encodeTextRequest(m)) equals m', () => {
    fc.assert(fc.property(request, (m) => {
      expect(textDialect.decodeRequest(encodeTextRequest(m))).toEqual(m);
    }), { numRuns: 3000 });
  });

  it('encode → decodeTextReplies gives the text projection; lines are clean', () => {
    fc.assert(fc.property(replyOrPush, (m) => {
      const datagrams = textDialect.encode(m);
      for (const d of datagrams) {
        expect(d.includes(0)).toBe(false);
        // Only a pushed text is free-form; every other line is single-spaced tokens and a one-line reason.
        if (!d.toString().startsWith('MESSAGE ')) expect(d.toString()).toMatch(/^[^\r\n]*[^ \r\n]$/);
      }
      const p = textProjection(m);
      expect(decodeTextReplies(datagrams)).toEqual(p ? [p] : []);
      if (m.type === 'SUBJECTS-UPDATED') expect(datagrams[0]!.toString().split(' ').length).toBeGreaterThanOrEqual(4);
      if (m.type === 'PUBLISH-DENIED') expect(datagrams[0]!.toString().split(' ').length).toBeGreaterThanOrEqual(3);
    }), { numRuns: 3000 });
  });

  it('random bytes decode or throw ProtocolError, in both directions', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      // Printable-ish lines starting with a request word reach deeper than pure noise.
      fc.tuple(fc.constantFrom(...TEXT_REQUEST_TYPES, 'MESSAGE', 'RETRIEVED'), fc.uint8Array({ maxLength: 48 }))
        .map(([w, tail]) => Buffer.concat([Buffer.from(`${w} `), tail])),
    );
    fc.assert(fc.property(bytes, (b) => {
      tolerant(() => textDialect.decodeRequest(b));
      tolerant(() => decodeTextMessage(b));
    }), { numRuns: 5000 });
  });

  it('mutated requests decode or throw ProtocolError; what decodes is stable under re-encoding', () => {
    fc.assert(fc.property(request, mutations, (m, mutate) => {
      const decoded = tolerant(() => textDialect.decodeRequest(mutate(encodeTextRequest(m))));
      if (decoded) expect(textDialect.decodeRequest(encodeTextRequest(decoded))).toEqual(decoded);
    }), { numRuns: 6000 });
  });

  it('mutated server lines decode or throw ProtocolError', () => {
    fc.assert(fc.property(replyOrPush, mutations, (m, mutate) => {
      for (const d of textDialect.encode(m)) tolerant(() => decodeTextMessage(mutate(d)));
    }), { numRuns: 3000 });
  });
});
