import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeNative } from '../../src/protocol/native';
import { pickleDialect } from '../../src/protocol/pickle/dialect';
import { writePickle } from '../../src/protocol/pickle/writer';
import { encodeTextReply, encodeTextRequest } from '../../src/protocol/text';
import { datagramRecord, logged, summarizeDatagram } from '../../src/transport/logging';
import type { Logger } from '../../src/util/log';
import { MemoryTransport } from '../helpers/memory-transport';

/** A logger that keeps every record, optionally with pino's level check. */
function recorder(debug = true) {
  const records: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void records.push({ level, obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) });
  const logger: Logger & { isLevelEnabled(l: string): boolean } = {
    debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'),
    child: () => logger,
    isLevelEnabled: (l) => debug || l !== 'debug',
  };
  return { logger, records };
}

const peer = { host: '127.0.0.1', port: 4000 };

describe('summarizeDatagram', () => {
  it('reads type, rq and name in every dialect, requests and replies', () => {
    expect(summarizeDatagram(encodeNative({ type: 'PUBLISH', rq: 7, name: 'ann', subject: 's', text: 'hi' }, { cid: 'abc', ctr: 1 })))
      .toEqual({ dialect: 'native', type: 'PUBLISH', rq: 7, name: 'ann' });
    expect(summarizeDatagram(encodeNative({ type: 'MESSAGE', seq: 12, from: 'bob', subject: 's', text: 't', at: 1, to: 'ann' })))
      .toEqual({ dialect: 'native', type: 'MESSAGE', name: 'bob', seq: 12 });
    expect(summarizeDatagram(encodeTextRequest({ type: 'REGISTER', rq: 3, name: 'cat', host: '127.0.0.1', port: 5 })))
      .toEqual({ dialect: 'text', type: 'REGISTER', rq: 3, name: 'cat' });
    const [registered] = encodeTextReply({ type: 'REGISTERED', rq: 3, name: 'cat' });
    expect(summarizeDatagram(registered!)).toMatchObject({ dialect: 'text', type: 'REGISTERED', rq: 3 });
    expect(summarizeDatagram(writePickle({ TYPE: 'REGISTER', 'RQ#': 9, NAME: 'dan', IP: '127.0.0.1', PORT: 5 })))
      .toEqual({ dialect: 'pickle', type: 'REGISTER', rq: 9, name: 'dan' });
    const [pickled] = pickleDialect.encode({ type: 'REGISTERED', rq: 9, name: 'dan' });
    expect(summarizeDatagram(pickled!)).toMatchObject({ dialect: 'pickle', type: 'REGISTER-SUCCESS', rq: 9 });
  });

  it('reports garbage as undecodable instead of throwing', () => {
    expect(summarizeDatagram(Buffer.alloc(0))).toEqual({ undecodable: 'unknown first byte 0x00' });
    expect(summarizeDatagram(Buffer.from([0x01, 0x02]))).toEqual({ undecodable: 'unknown first byte 0x01' });
    expect(summarizeDatagram(Buffer.from([0xa7, 1, 0, 0x7b]))).toMatchObject({ dialect: 'native', undecodable: expect.any(String) });
    expect(summarizeDatagram(Buffer.from([0x80, 2, 0xff]))).toMatchObject({ dialect: 'pickle', undecodable: expect.any(String) });
    expect(summarizeDatagram(Buffer.from('FROBNICATE 1 2 3'))).toMatchObject({ dialect: 'text', type: 'FROBNICATE', undecodable: expect.any(String) });
  });

  it('keeps hostile fields short', () => {
    const s = summarizeDatagram(Buffer.from(`${'X'.repeat(500)} 1`));
    expect(s.type!.length).toBeLessThanOrEqual(65);
    expect(s.undecodable!.length).toBeLessThanOrEqual(65);
  });

  it('never throws on any bytes (property)', () => {
    const firstBytes = fc.constantFrom(0x80, 0xa7, 0x41, 0x52, 0x00, 0xff);
    fc.assert(
      fc.property(firstBytes, fc.uint8Array({ maxLength: 300 }), (first, rest) => {
        const bytes = Buffer.concat([Buffer.from([first]), rest]);
        const r = datagramRecord('in', bytes, peer);
        expect(r.bytes).toBe(bytes.length);
        expect(r.peer).toBe('127.0.0.1:4000');
      }),
      { numRuns: 500 },
    );
  });
});

describe('logged', () => {
  it('logs every datagram both ways at debug and passes it on unchanged', () => {
    const inner = new MemoryTransport();
    const { logger, records } = recorder();
    const t = logged(inner, logger);
    const got: Buffer[] = [];
    t.onDatagram((b) => got.push(b));
    const out = encodeNative({ type: 'STATUS', rq: 1 }, { cid: 'c1' });
    t.send(out, peer);
    const incoming = encodeTextRequest({ type: 'DE-REGISTER', rq: 2, name: 'eve' });
    inner.handler!(incoming, peer);
    const garbage = Buffer.from([0xa7, 1, 0]);
    inner.handler!(garbage, peer);

    expect(inner.sent).toEqual([{ bytes: out, to: peer }]);
    expect(got).toEqual([incoming, garbage]);
    expect(records.map((r) => [r.level, r.msg])).toEqual([
      ['debug', 'datagram sent'], ['debug', 'datagram received'], ['debug', 'datagram received'],
    ]);
    expect(records[0]!.obj).toEqual({ dir: 'out', peer: '127.0.0.1:4000', bytes: out.length, dialect: 'native', type: 'STATUS', rq: 1 });
    expect(records[1]!.obj).toEqual({ dir: 'in', peer: '127.0.0.1:4000', bytes: incoming.length, dialect: 'text', type: 'DE-REGISTER', rq: 2, name: 'eve' });
    expect(records[2]!.obj).toMatchObject({ dir: 'in', dialect: 'native', undecodable: expect.any(String) });
  });

  it('decodes nothing when debug is off', () => {
    const inner = new MemoryTransport();
    const { logger, records } = recorder(false);
    const t = logged(inner, logger);
    t.onDatagram(() => {});
    t.send(Buffer.from('REGISTER 1 a 1.2.3.4 5'), peer);
    inner.handler!(Buffer.from('x'), peer);
    expect(records).toEqual([]);
    expect(inner.sent).toHaveLength(1);
  });

  it('a logger that throws loses no datagram', () => {
    const inner = new MemoryTransport();
    const boom = () => {
      throw new Error('disk full');
    };
    const logger: Logger = { debug: boom, info: boom, warn: boom, error: boom, child: () => logger };
    const t = logged(inner, logger);
    const got: Buffer[] = [];
    t.onDatagram((b) => got.push(b));
    t.send(Buffer.from('A'), peer);
    inner.handler!(Buffer.from('B'), peer);
    expect(inner.sent).toHaveLength(1);
    expect(got).toHaveLength(1);
  });

  it('delegates address and close', async () => {
    const inner = new MemoryTransport();
    const t = logged(inner, recorder().logger);
    expect(t.address()).toEqual({ host: '127.0.0.1', port: 1 });
    await t.close();
    expect(inner.closed).toBe(1);
  });
});
