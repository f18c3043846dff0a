/** Fixture tables of the canonical text dialect: decode, encode and round trip, then the malformed table. */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { detectDialect } from '../../src/protocol/dialect.js';
import {
  decodeTextMessage, decodeTextReplies, encodeTextRequest, textDialect, textProjection,
} from '../../src/protocol/text.js';
import { MALFORMED_FIXTURES } from '../fixtures/text/malformed.js';
import { REPLY_FIXTURES } from '../fixtures/text/replies.js';
import { REQUEST_FIXTURES } from '../fixtures/text/requests.js';

const bytesOf = (s: string | Uint8Array): Uint8Array => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s);

/** Run `fn` and return the ProtocolError it throws (fails the test otherwise). */
function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return e as ProtocolError;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

describe('text requests (user → server)', () => {
  describe.each(REQUEST_FIXTURES)('$name', (f) => {
    it('decodes', () => {
      expect(textDialect.decodeRequest(bytesOf(f.bytes))).toEqual(f.message);
    });
    it('encodes', () => {
      expect(encodeTextRequest(f.message).toString('utf8')).toBe(f.canonical ?? f.bytes);
    });
    it('round-trips', () => {
      expect(textDialect.decodeRequest(encodeTextRequest(f.message))).toEqual(f.message);
    });
    it('is detected as text', () => {
      expect(detectDialect(bytesOf(f.bytes))).toBe('text');
    });
  });

  it('ignores invalid UTF-8 after the first NUL', () => {
    const bytes = Buffer.concat([Buffer.from('DE-REGISTER 1 alice\0'), Buffer.from([0xff, 0xfe, 0x80])]);
    expect(textDialect.decodeRequest(bytes)).toEqual({ type: 'DE-REGISTER', rq: 1, name: 'alice' });
  });

  it('accepts a datagram of exactly 4096 bytes', () => {
    const head = 'DE-REGISTER 1 alice';
    const bytes = Buffer.from(head + ' '.repeat(4096 - head.length));
    expect(bytes.length).toBe(4096);
    expect(textDialect.decodeRequest(bytes)).toEqual({ type: 'DE-REGISTER', rq: 1, name: 'alice' });
  });

  it('decodes from a view into a larger buffer (byteOffset is honoured)', () => {
    const big = Buffer.from('xxxxDE-REGISTER 2 bobyyyy');
    expect(textDialect.decodeRequest(big.subarray(4, big.length - 4))).toEqual({ type: 'DE-REGISTER', rq: 2, name: 'bob' });
  });

  // Regression: trailing-space trimming by /[\r\n ]+$/ was quadratic on a long inner run of spaces
  // (~12 ms per 4 KB datagram), a cheap way for one client to stall the server.
  it('decodes a hostile run of 4000 inner spaces in linear time', () => {
    const bytes = Buffer.from(`PUBLISH 1 alice news x${' '.repeat(4000)}y`);
    const start = performance.now();
    for (let i = 0; i < 200; i++) expect(() => textDialect.decodeRequest(bytes)).toThrow(/Text of 4002 bytes/);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('refuses to encode a request the text dialect does not have', () => {
    expect(protocolError(() => encodeTextRequest({ type: 'WHO', rq: 1, name: 'a' })).code).toBe('RSS_UNKNOWN_TYPE');
  });
});

describe('text requests: malformed', () => {
  it.each(MALFORMED_FIXTURES)('$name → $code', (f) => {
    const err = protocolError(() => textDialect.decodeRequest(bytesOf(f.bytes)));
    expect(err.code).toBe(f.code);
    expect(err.message).toContain(f.message);
    expect(err.partial).toEqual(f.partial);
  });

  it('cuts client data quoted in messages to 40 characters', () => {
    const err = protocolError(() => textDialect.decodeRequest(Buffer.from(`X${'Y'.repeat(500)} 1`)));
    expect(err.message.length).toBeLessThan(80);
  });
});

describe('text replies and pushes (server → user)', () => {
  describe.each(REPLY_FIXTURES)('$name', (f) => {
    it('encodes', () => {
      expect(textDialect.encode(f.message).map((b) => b.toString('utf8'))).toEqual(f.bytes);
    });
    it('decodes', () => {
      expect(decodeTextReplies(f.bytes.map((s) => Buffer.from(s)))).toEqual(f.decoded);
    });
    it('round-trips to the text projection', () => {
      const projected = textProjection(f.message);
      expect(decodeTextReplies(textDialect.encode(f.message))).toEqual(projected ? [projected] : []);
    });
  });

  it('SUBJECTS-UPDATED always has at least 4 tokens and PUBLISH-DENIED at least 3', () => {
    const tokens = (b: Buffer) => b.toString().split(' ').length;
    const [u] = textDialect.encode({ type: 'SUBJECTS-UPDATED', rq: 1, name: '', subjects: [] });
    const [d] = textDialect.encode({ type: 'PUBLISH-DENIED', rq: 1, name: '', subject: '', text: '', reason: '' });
    expect(tokens(u!)).toBe(4);
    expect(tokens(d!)).toBe(3);
  });

  it('keeps token fields single tokens even when the server hands over odd values', () => {
    const out = textDialect.encode({ type: 'UPDATE-CONFIRMED', rq: 1, name: 'a b\r\n', host: '', port: 9 });
    expect(out.map(String)).toEqual(['UPDATE-CONFIRMED 1 a_b__ - 9']);
  });

  it('replaces NUL inside a pushed text (a text client would stop reading there)', () => {
    const [m] = textDialect.encode({ type: 'MESSAGE', seq: 1, from: 'a', subject: 's', text: 'x\0y', at: 0 });
    expect(m!.includes(0)).toBe(false);
    expect(decodeTextMessage(m!)).toMatchObject({ text: 'x\ufffdy' });
  });

  it('decodeTextMessage reads RETRIEVED alone with texts [] (the MESSAGEs are separate datagrams)', () => {
    expect(decodeTextMessage(Buffer.from('RETRIEVED 3 bob 2'))).toEqual({ type: 'RETRIEVED', rq: 3, name: 'bob', texts: [], more: false });
  });

  it('decodeTextReplies folds only the MESSAGEs right before RETRIEVED, at most N', () => {
    const lines = ['MESSAGE a s push', 'REGISTERED 1', 'MESSAGE b s one', 'MESSAGE c s two', 'MESSAGE d s three', 'RETRIEVED 2 bob 2'];
    const out = decodeTextReplies(lines.map((l) => Buffer.from(l)));
    expect(out.map((m) => m.type)).toEqual(['MESSAGE', 'REGISTERED', 'MESSAGE', 'RETRIEVED']);
    expect(out[3]).toMatchObject({ texts: [{ from: 'c', text: 'two' }, { from: 'd', text: 'three' }] });
  });

  it('decodeTextReplies takes what arrived when MESSAGE datagrams were lost', () => {
    const out = decodeTextReplies(['REGISTERED 1', 'MESSAGE b s one', 'RETRIEVED 2 bob 3'].map((l) => Buffer.from(l)));
    expect(out[1]).toMatchObject({ type: 'RETRIEVED', texts: [{ from: 'b' }] });
  });

  it('fitRetrieved lets every text through (each has its own datagram)', () => {
    const texts = Array.from({ length: 50 }, (_, i) => ({ seq: i, from: 'a', subject: 's', text: 'x'.repeat(900), at: 0 }));
    expect(textDialect.fitRetrieved({ type: 'RETRIEVED', rq: 1, name: 'b', texts, more: false })).toBe(50);
    expect(textDialect.encode({ type: 'RETRIEVED', rq: 1, name: 'b', texts, more: false })).toHaveLength(51);
  });

  it('is named text', () => {
    expect(textDialect.name).toBe('text');
  });
});

describe('text client side: malformed server lines', () => {
  it.each([
    ['', 'RSS_MALFORMED', 'empty datagram'],
    ['HELLO 1', 'RSS_UNKNOWN_TYPE', 'unknown message type "HELLO"'],
    ['REGISTERED', 'RSS_MALFORMED', 'REGISTERED: missing RQ#'],
    ['REGISTERED x', 'RSS_MALFORMED', 'bad RQ#'],
    ['REGISTERED 1 extra', 'RSS_MALFORMED', 'unexpected token'],
    ['UPDATE-CONFIRMED 1 a 1.2.3.4', 'RSS_MALFORMED', 'missing Port'],
    ['RETRIEVED 1 bob', 'RSS_MALFORMED', 'missing N'],
    ['RETRIEVED 1 bob many', 'RSS_MALFORMED', 'bad N'],
    ['MESSAGE alice', 'RSS_MALFORMED', 'missing Subject'],
    ['CHANGE-SERVER 1.2.3.4 0', 'RSS_MALFORMED', 'bad Port'],
    ['REGISTER-DENIED 1 ' + 'r'.repeat(201), 'RSS_TOO_LARGE', 'Reason of 201 bytes'],
  ])('%s → %s', (line, code, message) => {
    const err = protocolError(() => decodeTextMessage(Buffer.from(line)));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });
});
