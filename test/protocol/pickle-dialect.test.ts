import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors';
import { LIMITS } from '../../src/protocol/limits';
import type { Push, Reply, Request, RetrievedReply, StoredText } from '../../src/protocol/messages';
import { pickleDialect } from '../../src/protocol/pickle/dialect';
import { TRUNCATION_MARK } from '../../src/protocol/pickle/fit';
import { readPickle } from '../../src/protocol/pickle/reader';
import { type PickleInput, writePickle } from '../../src/protocol/pickle/writer';
import rejected from '../fixtures/pickle/rejected.json';
import requests from '../fixtures/pickle/requests.json';
import { hasPython, python } from '../fixtures/pickle/python';

const hex = (s: string) => Buffer.from(s, 'hex');

function caught(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

const text = (i: number, body: string, from = 'bob', subject = 'news'): StoredText =>
  ({ seq: i, from, subject, text: body, at: 1_700_000_000_000 + i });

/** Every reply and push, with the dict a pickle client must see (null: nothing is sent). */
const REPLIES: [Reply | Push, Record<string, unknown> | null][] = [
  [{ type: 'REGISTERED', rq: 7, name: 'alice' }, { TYPE: 'REGISTER-SUCCESS', 'RQ#': 7 }],
  [{ type: 'REGISTER-DENIED', rq: 4294967295, name: 'alice', reason: 'USERNAME ALREADY EXISTS' },
    { TYPE: 'REGISTER-DENIED', 'RQ#': 4294967295, REASON: 'USERNAME ALREADY EXISTS' }],
  [{ type: 'DE-REGISTERED', rq: 8, name: 'alice' }, { TYPE: 'DE-REGISTER-SUCCESS', 'RQ#': 8 }],
  [{ type: 'DE-REGISTER-DENIED', rq: 9, name: 'alice', reason: 'unknown' }, { TYPE: 'DE-REGISTER-DENIED', 'RQ#': 9 }],
  [{ type: 'UPDATE-CONFIRMED', rq: 10, name: 'alice', host: '10.0.0.7', port: 6000 },
    { TYPE: 'UPDATE-SOCKET-SUCCESS', 'RQ#': 10, NAME: 'alice', IP: '10.0.0.7', PORT: 6000 }],
  [{ type: 'UPDATE-DENIED', rq: 11, name: 'alice', reason: 'unknown', host: '10.0.0.7', port: 6000 },
    { TYPE: 'UPDATE-SOCKET-DENIED', 'RQ#': 11, NAME: 'alice', IP: '10.0.0.7', PORT: 6000 }],
  [{ type: 'UPDATE-DENIED', rq: 12, name: 'alice', reason: 'bad port' },
    { TYPE: 'UPDATE-SOCKET-DENIED', 'RQ#': 12, NAME: 'alice', IP: '', PORT: 0 }],
  [{ type: 'SUBJECTS-UPDATED', rq: 13, name: 'alice', subjects: ['a', 'b'] },
    { TYPE: 'UPDATE-SUBJECTS-SUCCESS', 'RQ#': 13, NAME: 'alice', 'SUBJECT-LIST': 'a,b' }],
  [{ type: 'SUBJECTS-REJECTED', rq: 14, name: 'alice', subjects: ['a', 'b c'], reason: 'invalid' },
    { TYPE: 'UPDATE-SUBJECTS-DENIED', 'RQ#': 14, NAME: 'alice', 'SUBJECT-LIST': 'a,b c' }],
  [{ type: 'PUBLISHED', rq: 15, name: 'alice', subject: 'news', text: 'héllo 🎉', seq: 3 },
    { TYPE: 'PUBLISH-SUCCESS', 'RQ#': 15, NAME: 'alice', SUBJECT: 'news', TEXT: 'héllo 🎉' }],
  [{ type: 'PUBLISH-DENIED', rq: 16, name: 'alice', subject: 'x', text: 't', reason: 'not your subject' },
    { TYPE: 'PUBLISH-DENIED', 'RQ#': 16, NAME: 'alice', SUBJECT: 'x', TEXT: 't' }],
  [{ type: 'RETRIEVED', rq: 17, name: 'alice', texts: [text(1, 'one'), text(2, 'two', 'carol', 'café')], more: false },
    { TYPE: 'RETRIEVE-SUCCESS', 'RQ#': 17, NAME: 'alice', POSTS: [
      { NAME: 'bob', SUBJECT: 'news', TEXT: 'one' }, { NAME: 'carol', SUBJECT: 'café', TEXT: 'two' }] }],
  [{ type: 'RETRIEVED', rq: 18, name: 'alice', texts: [], more: false },
    { TYPE: 'RETRIEVE-SUCCESS', 'RQ#': 18, NAME: 'alice', POSTS: [] }],
  [{ type: 'RETRIEVE-DENIED', rq: 19, name: 'alice', reason: 'unknown' }, { TYPE: 'RETRIEVE-DENIED', 'RQ#': 19 }],
  [{ type: 'INITIALIZATION-SUCCESS', tag: 'B' }, { TYPE: 'INITIALIZATION-SUCCESS', 'SERVER-TAG': 'B' }],
  [{ type: 'CHANGE-SERVER', host: '127.0.0.1', port: 7001, tag: 'A', epoch: 4 },
    { TYPE: 'CHANGE-SERVER', IP: '127.0.0.1', PORT: 7001 }],
  [{ type: 'UPDATE-SERVER', host: '10.0.0.2', port: 7002, tag: 'B' },
    { TYPE: 'UPDATE-SERVER', IP: '10.0.0.2', PORT: 7002, 'SERVER-TAG': 'B' }],
  // The pickle dialect has no push and no generic denial: nothing is sent.
  [{ type: 'MESSAGE', seq: 1, from: 'bob', subject: 'news', text: 'hi', at: 0 }, null],
  [{ type: 'DENIED', rq: 20, reason: 'rate limited' }, null],
  [{ type: 'END-CONNECTION-OK', rq: 21 }, null],
  [{ type: 'WHO-LIST', rq: 22, name: 'alice', users: [] }, null],
  [{ type: 'WHO-DENIED', rq: 23, name: 'alice', reason: 'x' }, null],
  [{ type: 'STATUS-REPORT', rq: 24, status: {} }, null],
];

describe('pickleDialect.decodeRequest: CPython fixtures', () => {
  it.each(requests.map((r) => [r.name, r] as const))('%s', (_name, r) => {
    expect(pickleDialect.decodeRequest(hex(r.hex))).toEqual(r.expected);
  });

  it.each(rejected.map((r) => [r.name, r] as const))('refuses %s', (_name, r) => {
    const err = caught(() => pickleDialect.decodeRequest(hex(r.hex)));
    expect(err.code).toBe(r.code);
    expect(err.partial).toEqual((r as { partial?: unknown }).partial);
  });

  it('attaches no NAME to partial when NAME is not a well-formed field', () => {
    const bytes = writePickle({ TYPE: 'PUBLISH', 'RQ#': 3, NAME: 'x'.repeat(65), SUBJECT: 's', TEXT: 't' });
    expect(caught(() => pickleDialect.decodeRequest(bytes)).partial).toEqual({ type: 'PUBLISH', rq: 3 });
  });
});

describe('pickleDialect.encode', () => {
  it.each(REPLIES.map(([m, d]) => [m.type, m, d] as const))('%s', (_t, msg, dict) => {
    const out = pickleDialect.encode(msg);
    if (dict === null) return expect(out).toEqual([]);
    expect(out).toHaveLength(1);
    expect(out[0]!.length).toBeLessThanOrEqual(LIMITS.maxPickleReply);
    expect(readPickle(out[0]!)).toEqual(dict); // round trip through rss's own reader
  });

  it.skipIf(!hasPython)('pickle.loads (python3) sees exactly the pickle dicts, keys in the order pickle clients write them', () => {
    const sent = REPLIES.filter(([, d]) => d !== null);
    const py = python({ loads: sent.map(([m]) => pickleDialect.encode(m)[0]!) });
    sent.forEach(([, dict], i) => {
      expect(py.loads[i]).toEqual(dict);
      expect(Object.keys(py.loads[i] as object)).toEqual(Object.keys(dict!));
    });
  });
});

/** The pickle dict a client would send for `req` (test-side inverse of decodeRequest). */
function seedRequest(req: Request): PickleInput {
  switch (req.type) {
    case 'REGISTER': return { TYPE: 'REGISTER', 'RQ#': req.rq, NAME: req.name, IP: req.host, PORT: req.port };
    case 'UPDATE': return { TYPE: 'UPDATE-SOCKET', 'RQ#': req.rq, NAME: req.name, IP: req.host, PORT: String(req.port) };
    case 'SUBJECTS': return { TYPE: 'SUBJECTS', 'RQ#': String(req.rq), NAME: req.name, 'SUBJECT-LIST': req.subjects.join(', ') };
    case 'PUBLISH': return { TYPE: 'PUBLISH', 'RQ#': req.rq, NAME: req.name, SUBJECT: req.subject, TEXT: req.text };
    default: throw new Error(`not generated: ${req.type}`);
  }
}

describe('pickleDialect round trips', () => {
  const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/);
  const rq = fc.integer({ min: 0, max: LIMITS.maxRq });
  const port = fc.integer({ min: 1, max: 65535 });
  const request: fc.Arbitrary<Request> = fc.oneof(
    fc.record({ type: fc.constant('REGISTER' as const), rq, name, host: fc.ipV4(), port }),
    fc.record({ type: fc.constant('UPDATE' as const), rq, name, host: fc.ipV4(), port }),
    fc.record({ type: fc.constant('SUBJECTS' as const), rq, name, subjects: fc.array(name, { maxLength: 8 }) }),
    fc.record({
      type: fc.constant('PUBLISH' as const), rq, name, subject: name,
      text: fc.string({ unit: 'binary', maxLength: 225 }),
    }),
  );

  it('decodeRequest(a pickled request dict) gives the request back', () => {
    fc.assert(fc.property(request, (req) => {
      expect(pickleDialect.decodeRequest(writePickle(seedRequest(req)))).toEqual(req);
    }), { numRuns: 1000 });
  });
});

describe('pickleDialect: fitting a pickle client\'s recvfrom(1024)', () => {
  const retrieved = (texts: StoredText[], name = 'alice', more = false): RetrievedReply =>
    ({ type: 'RETRIEVED', rq: 4294967295, name, texts, more });
  const posts = (buf: Buffer) => (readPickle(buf) as { POSTS: { TEXT: string }[] }).POSTS;

  it('fitRetrieved gives the longest prefix that encodes within 1024 bytes', () => {
    const longName = 'n'.repeat(32);
    const body = fc.string({ unit: 'binary', maxLength: 225 }); // up to 900 UTF-8 bytes
    const stored = fc.tuple(body, fc.constantFrom('bob', longName), fc.constantFrom('news', 's'.repeat(32)));
    fc.assert(fc.property(fc.array(stored, { minLength: 1, maxLength: 40 }), fc.constantFrom('alice', longName), (ts, who) => {
      const texts = ts.map(([b, from, subject], i) => text(i, b, from, subject));
      const k = pickleDialect.fitRetrieved(retrieved(texts, who));
      expect(k).toBeGreaterThanOrEqual(1);
      expect(k).toBeLessThanOrEqual(texts.length);
      // Sized for the MORE flag, which the answer carries when texts remain.
      const [buf] = pickleDialect.encode(retrieved(texts.slice(0, k), who, true));
      expect(buf!.length).toBeLessThanOrEqual(LIMITS.maxPickleReply);
      if (k < texts.length) {
        expect(() => pickleDialect.encode(retrieved(texts.slice(0, k + 1), who, true))).toThrow(ProtocolError);
      }
    }), { numRuns: 300 });
  });

  it('fits many short texts and stops one short of overflowing', () => {
    const texts = Array.from({ length: 100 }, (_, i) => text(i, `text number ${i}`));
    const k = pickleDialect.fitRetrieved(retrieved(texts));
    expect(k).toBeGreaterThan(5);
    expect(k).toBeLessThan(100);
    expect(pickleDialect.encode(retrieved(texts.slice(0, k), 'alice', true))[0]!.length).toBeLessThanOrEqual(1024);
    const err = caught(() => pickleDialect.encode(retrieved(texts.slice(0, k + 1), 'alice', true)));
    expect(err.code).toBe('RSS_TOO_LARGE');
    expect(pickleDialect.fitRetrieved(retrieved([]))).toBe(0);
  });

  it('sends a single text that cannot fit alone cut and marked, so the server always makes progress', () => {
    const long = 'é'.repeat(450); // 900 bytes: a text stored when the limit was higher
    const big = text(1, long, 'f'.repeat(32), 's'.repeat(32));
    expect(pickleDialect.fitRetrieved(retrieved([big, text(2, 'next')], 'a'.repeat(32)))).toBe(1);
    const [buf] = pickleDialect.encode(retrieved([big], 'a'.repeat(32)));
    expect(buf!.length).toBeLessThanOrEqual(1024);
    expect(buf!.length).toBeGreaterThan(1020); // no more was cut than needed
    const sent = posts(buf!)[0]!.TEXT;
    expect(sent.endsWith(TRUNCATION_MARK)).toBe(true);
    expect(long.startsWith(sent.slice(0, -TRUNCATION_MARK.length))).toBe(true);
  });

  it('cuts an echoed PUBLISH text and keeps whole subjects in a SUBJECT-LIST', () => {
    const long = '🎉'.repeat(225); // 900 bytes
    const [pub] = pickleDialect.encode({ type: 'PUBLISHED', rq: 1, name: 'a'.repeat(64), subject: 'b'.repeat(64), text: long, seq: 1 });
    expect(pub!.length).toBeLessThanOrEqual(1024);
    const echoed = (readPickle(pub!) as { TEXT: string }).TEXT;
    expect(echoed.endsWith(TRUNCATION_MARK) && long.startsWith(echoed.slice(0, -3))).toBe(true);

    const subjects = Array.from({ length: 32 }, (_, i) => `${i}`.padStart(32, 's'));
    const [sub] = pickleDialect.encode({ type: 'SUBJECTS-UPDATED', rq: 1, name: 'alice', subjects });
    expect(sub!.length).toBeLessThanOrEqual(1024);
    const list = (readPickle(sub!) as { 'SUBJECT-LIST': string })['SUBJECT-LIST'].split(',');
    expect(list).toEqual(subjects.slice(0, list.length));
    expect(list.length).toBeGreaterThan(20);
  });

  it.skipIf(!hasPython)('python3 reads the cut replies', () => {
    const big = text(1, 'ü'.repeat(450), 'f'.repeat(32), 's'.repeat(32));
    const [buf] = pickleDialect.encode(retrieved([big]));
    const [loaded] = python({ loads: [buf!] }).loads as { POSTS: { TEXT: string }[] }[];
    expect(loaded!.POSTS[0]!.TEXT).toBe(posts(buf!)[0]!.TEXT);
  });

  describe('a text a PUBLISH accepts reaches a pickle client whole', () => {
    const longest = { name: 'n'.repeat(32), subject: 's'.repeat(32), rq: 4294967295 };
    // Worst cases per byte: ASCII, and characters of 2, 3 and 4 UTF-8 bytes (pickle carries UTF-8 as is).
    const bodies = ['x', 'é', '€', '🎉'].map((ch) => ch.repeat(Math.floor(LIMITS.maxTextBytes / Buffer.byteLength(ch))));

    it('as the one post of a RETRIEVE-SUCCESS that says MORE, and echoed in PUBLISH-SUCCESS', () => {
      const sent: Buffer[] = [];
      for (const body of bodies) {
        const t = text(1, body, longest.name, longest.subject);
        const reply = retrieved([t, text(2, 'next')], longest.name, true);
        expect(pickleDialect.fitRetrieved(reply)).toBe(1);
        const [ret] = pickleDialect.encode({ ...reply, texts: [t] });
        const [pub] = pickleDialect.encode({ type: 'PUBLISHED', rq: longest.rq, name: longest.name, subject: longest.subject, text: body, seq: 1 });
        for (const b of [ret!, pub!]) expect(b.length).toBeLessThanOrEqual(LIMITS.maxPickleReply);
        expect(readPickle(ret!)).toEqual({ TYPE: 'RETRIEVE-SUCCESS', 'RQ#': longest.rq, NAME: longest.name, POSTS: [{ NAME: longest.name, SUBJECT: longest.subject, TEXT: body }], MORE: true });
        expect((readPickle(pub!) as { TEXT: string }).TEXT).toBe(body);
        sent.push(ret!, pub!);
      }
      if (!hasPython) return;
      const loaded = python({ loads: sent }).loads as { TEXT?: string; POSTS?: { TEXT: string }[] }[];
      expect(loaded.map((d) => d.TEXT ?? d.POSTS![0]!.TEXT)).toEqual(bodies.flatMap((b) => [b, b]));
    });

    it('a RETRIEVE-SUCCESS says MORE only when owed texts did not fit', () => {
      expect(readPickle(pickleDialect.encode(retrieved([text(1, 'a')], 'alice', false))[0]!)).not.toHaveProperty('MORE');
      expect(readPickle(pickleDialect.encode(retrieved([text(1, 'a')], 'alice', true))[0]!)).toHaveProperty('MORE', true);
    });
  });
});
