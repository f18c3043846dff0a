/** Wire codecs as pure functions, plus raw-socket probes against a running engine. */
import { BSON, Double, Int32, Long } from 'bson';
import fc from 'fast-check';
import { connect } from 'node:net';
import { deflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/errors.js';
import { startEngine, type RunningEngine } from '../../src/engine/index.js';
import { compressMessage, decodeMessage, encodeMsg, encodeReply } from '../../src/engine/wire/codec.js';
import { OpCode } from '../../src/engine/wire/constants.js';
import { Framer } from '../../src/engine/wire/framer.js';

function header(len: number, requestId: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(len, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(opCode, 12);
  return h;
}

/** Hand-built OP_MSG with a kind-0 body and one kind-1 sequence. */
function opMsg(requestId: number, body: object, seq?: { id: string; docs: object[] }): Buffer {
  const parts: Buffer[] = [Buffer.from([0, 0, 0, 0]), Buffer.from([0]), Buffer.from(BSON.serialize(body))];
  if (seq) {
    const docs = Buffer.concat(seq.docs.map((d) => Buffer.from(BSON.serialize(d))));
    const id = Buffer.from(seq.id + '\0');
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + id.length + docs.length);
    parts.push(Buffer.from([1]), size, id, docs);
  }
  const payload = Buffer.concat(parts);
  return Buffer.concat([header(16 + payload.length, requestId, OpCode.MSG), payload]);
}

function opQuery(requestId: number, ns: string, query: object): Buffer {
  const payload = Buffer.concat([Buffer.alloc(4), Buffer.from(ns + '\0'), Buffer.alloc(4), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from(BSON.serialize(query))]);
  return Buffer.concat([header(16 + payload.length, requestId, OpCode.QUERY), payload]);
}

function protocolErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).codeName).toBe('ProtocolError');
    return (e as Error).message;
  }
  throw new Error('expected a protocol error');
}

describe('wire codec', () => {
  it('decodes OP_MSG with a document sequence merged into the body, keeping number types', () => {
    const m = decodeMessage(opMsg(7, { insert: 'c', $db: 'x', n: new Int32(1) }, { id: 'documents', docs: [{ a: 1.5 }, { a: Long.fromNumber(2) }, { a: new Double(2) }] }));
    expect(m.kind).toBe('msg');
    expect(m.requestId).toBe(7);
    expect(m.body.insert).toBe('c');
    // Int32 and fractional doubles become plain numbers (lossless); Long and integral Double keep wrappers.
    expect(m.body.n).toBe(1);
    expect(m.body.documents).toHaveLength(3);
    expect(m.body.documents[0].a).toBe(1.5);
    expect(m.body.documents[1].a).toBeInstanceOf(Long);
    expect(m.body.documents[2].a).toBeInstanceOf(Double);
  });

  it('decodes OP_QUERY and encodes OP_REPLY', () => {
    const q = decodeMessage(opQuery(3, 'admin.$cmd', { isMaster: 1 }));
    expect(q).toMatchObject({ kind: 'query', requestId: 3, collection: 'admin.$cmd' });
    const r = encodeReply(9, 3, { ok: 1 });
    expect(r.readInt32LE(0)).toBe(r.length);
    expect(r.readInt32LE(8)).toBe(3);
    expect(r.readInt32LE(12)).toBe(OpCode.REPLY);
    expect(r.readInt32LE(32)).toBe(1);
    expect(BSON.deserialize(r.subarray(36))).toEqual({ ok: 1 });
  });

  it('OP_COMPRESSED (zlib) round trip', () => {
    const plain = encodeMsg(5, 0, { ping: 1, $db: 'admin' });
    const z = compressMessage(plain, 2);
    expect(z.readInt32LE(12)).toBe(OpCode.COMPRESSED);
    const d = decodeMessage(z);
    expect(d).toMatchObject({ kind: 'msg', requestId: 5, compressor: 2 });
    expect(d.body.ping).toBe(1);
  });

  it('rejects malformed messages with ProtocolError', () => {
    const good = opMsg(1, { ping: 1 });
    expect(protocolErrorOf(() => decodeMessage(good.subarray(0, 10)))).toMatch(/shorter/);
    const badLen = Buffer.from(good);
    badLen.writeInt32LE(good.length + 1, 0);
    expect(protocolErrorOf(() => decodeMessage(badLen))).toMatch(/length/);
    const badKind = Buffer.from(good);
    badKind[20] = 7;
    expect(protocolErrorOf(() => decodeMessage(badKind))).toMatch(/section kind/);
    const badOp = Buffer.from(good);
    badOp.writeInt32LE(2001, 12);
    expect(protocolErrorOf(() => decodeMessage(badOp))).toMatch(/opcode/);
    const truncatedDoc = Buffer.concat([header(16 + 5 + 3, 1, OpCode.MSG), Buffer.from([0, 0, 0, 0, 0, 50, 0, 0])]);
    expect(protocolErrorOf(() => decodeMessage(truncatedDoc))).toMatch(/BSON/);
    const noBody = Buffer.concat([header(20, 1, OpCode.MSG), Buffer.alloc(4)]);
    expect(protocolErrorOf(() => decodeMessage(noBody))).toMatch(/truncated|body/);
    const zBad = Buffer.concat([header(25 + 3, 1, OpCode.COMPRESSED), Buffer.from([0xdd, 0x07, 0, 0, 10, 0, 0, 0, 9, 1, 2, 3])]);
    expect(protocolErrorOf(() => decodeMessage(zBad))).toMatch(/compressor/);
    const payload = deflateSync(Buffer.from([0, 0, 0, 0]));
    const sizeLie = Buffer.concat([header(25 + payload.length, 1, OpCode.COMPRESSED), Buffer.from([0xdd, 0x07, 0, 0, 99, 0, 0, 0, 2]), payload]);
    expect(protocolErrorOf(() => decodeMessage(sizeLie))).toMatch(/size/);
  });

  it('property: encodeMsg then decode gives the document back', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }).filter((k) => !k.includes('\0') && !k.startsWith('$')), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null))), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (doc, id) => {
        const d = decodeMessage(encodeMsg(id, 0, doc));
        expect(d.requestId).toBe(id);
        expect(BSON.serialize(d.body)).toEqual(BSON.serialize(doc));
      }),
    );
  });

  it('property: random bytes either decode or raise ProtocolError/BSON errors, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 96 }), fc.constantFrom(OpCode.MSG, OpCode.QUERY, OpCode.COMPRESSED), (bytes, op) => {
        const b = Buffer.from(bytes);
        b.writeInt32LE(b.length, 0);
        b.writeInt32LE(op, 12);
        try {
          decodeMessage(b);
        } catch (e) {
          expect(e).toBeInstanceOf(EngineError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('framer splits and joins arbitrary chunkings', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }), (cuts) => {
        const msgs = [encodeMsg(1, 0, { a: 1 }), encodeMsg(2, 0, { b: 'x'.repeat(50) }), encodeMsg(3, 0, {})];
        const all = Buffer.concat(msgs);
        const f = new Framer();
        const out: Buffer[] = [];
        let at = 0;
        for (const n of cuts) {
          out.push(...f.push(all.subarray(at, Math.min(all.length, at + n))));
          at = Math.min(all.length, at + n);
        }
        out.push(...f.push(all.subarray(at)));
        expect(out.map((m) => m.readInt32LE(4))).toEqual([1, 2, 3]);
      }),
    );
  });
});

describe('raw socket probes', () => {
  let engine: RunningEngine | undefined;
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  function exchange(port: number, bytes: Buffer): Promise<Buffer | 'closed'> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write(bytes));
      const f = new Framer();
      s.on('data', (chunk) => {
        const [m] = f.push(chunk);
        if (m) {
          s.destroy();
          resolve(m);
        }
      });
      s.on('close', () => resolve('closed'));
      s.on('error', reject);
    });
  }

  it('answers a legacy OP_QUERY isMaster with OP_REPLY', async () => {
    engine = await startEngine();
    const r = await exchange(engine.port, opQuery(11, 'admin.$cmd', { isMaster: 1 }));
    expect(r).not.toBe('closed');
    const reply = r as Buffer;
    expect(reply.readInt32LE(12)).toBe(OpCode.REPLY);
    expect(reply.readInt32LE(8)).toBe(11);
    const doc = BSON.deserialize(reply.subarray(36));
    expect(doc).toMatchObject({ ismaster: true, maxWireVersion: 21, ok: 1 });
  });

  it('answers a zlib OP_COMPRESSED command with a compressed reply', async () => {
    engine = await startEngine();
    const r = (await exchange(engine.port, compressMessage(opMsg(12, { ping: 1, $db: 'admin' }), 2))) as Buffer;
    expect(r.readInt32LE(12)).toBe(OpCode.COMPRESSED);
    const d = decodeMessage(r);
    expect(d.body).toEqual({ ok: 1 });
  });

  it('closes the connection on garbage, and keeps serving others', async () => {
    engine = await startEngine();
    expect(await exchange(engine.port, Buffer.from([1, 0, 0, 0, 9, 9, 9, 9]))).toBe('closed');
    const bad = opMsg(1, { ping: 1 });
    bad[20] = 9;
    expect(await exchange(engine.port, bad)).toBe('closed');
    const ok = (await exchange(engine.port, opMsg(13, { ping: 1, $db: 'admin' }))) as Buffer;
    expect(ok.readInt32LE(8)).toBe(13);
  });
});
