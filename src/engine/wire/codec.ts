/**
 * Pure codecs for the messages the engine exchanges: OP_QUERY in (legacy
 * handshake), OP_REPLY out, OP_MSG both ways and OP_COMPRESSED both ways.
 * Decoders check every length against the buffer and throw only
 * EngineError('ProtocolError'); no I/O happens here.
 */
import { BSON, type Document } from 'bson';
import { inflateSync, deflateSync } from 'node:zlib';
import { DESERIALIZE } from '../bson-form.js';
import { EngineError } from '../errors.js';
import { compactNumbers } from '../query/normalize.js';
import { CompressorId, Limits, MsgFlags, OpCode } from './constants.js';

/** A decoded OP_MSG: body with kind-1 sequences merged in under their identifiers. */
export interface MsgRequest {
  kind: 'msg';
  requestId: number;
  flags: number;
  body: Document;
}

/** A decoded legacy OP_QUERY (only used for the first handshake). */
export interface QueryRequest {
  kind: 'query';
  requestId: number;
  flags: number;
  collection: string;
  body: Document;
}

/** Any request the engine understands; `compressor` is set when it came in OP_COMPRESSED. */
export type Request = (MsgRequest | QueryRequest) & { compressor?: number };

function protocolError(msg: string): EngineError {
  return new EngineError('ProtocolError', msg);
}

function readDoc(buf: Buffer, offset: number, end: number): [Document, number] {
  if (offset + 5 > end) throw protocolError('truncated BSON document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > end) throw protocolError(`invalid BSON document length ${size}`);
  try {
    return [BSON.deserialize(buf.subarray(offset, offset + size), DESERIALIZE), offset + size];
  } catch (err) {
    throw new EngineError('ProtocolError', `invalid BSON document: ${(err as Error).message}`, {}, { cause: err });
  }
}

function readCString(buf: Buffer, offset: number, end: number): [string, number] {
  const zero = buf.indexOf(0, offset);
  if (zero < 0 || zero >= end) throw protocolError('unterminated cstring');
  return [buf.toString('utf8', offset, zero), zero + 1];
}

function decodeMsg(buf: Buffer, requestId: number): MsgRequest {
  const flags = buf.readUInt32LE(16);
  let end = buf.length;
  if (flags & MsgFlags.checksumPresent) end -= 4;
  let off = 20;
  let body: Document | undefined;
  const seqs: [string, Document[]][] = [];
  while (off < end) {
    const kind = buf[off++];
    if (kind === 0) {
      if (body) throw protocolError('OP_MSG with two kind-0 sections');
      [body, off] = readDoc(buf, off, end);
    } else if (kind === 1) {
      if (off + 4 > end) throw protocolError('truncated document sequence');
      const size = buf.readInt32LE(off);
      const seqEnd = off + size;
      if (size < 5 || seqEnd > end) throw protocolError('invalid document sequence length');
      let p: number;
      let id: string;
      [id, p] = readCString(buf, off + 4, seqEnd);
      const docs: Document[] = [];
      while (p < seqEnd) {
        let d: Document;
        [d, p] = readDoc(buf, p, seqEnd);
        docs.push(d);
      }
      seqs.push([id, docs]);
      off = seqEnd;
    } else {
      throw protocolError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw protocolError('OP_MSG without a body section');
  for (const [id, docs] of seqs) body[id] = docs;
  compactNumbers(body);
  return { kind: 'msg', requestId, flags, body };
}

function decodeQuery(buf: Buffer, requestId: number): QueryRequest {
  if (buf.length < 21) throw protocolError('truncated OP_QUERY');
  const flags = buf.readInt32LE(16);
  const [collection, off] = readCString(buf, 20, buf.length);
  if (off + 8 > buf.length) throw protocolError('truncated OP_QUERY');
  const [body] = readDoc(buf, off + 8, buf.length);
  compactNumbers(body);
  return { kind: 'query', requestId, flags, collection, body };
}

/** Decodes one complete message (header included). */
export function decodeMessage(buf: Buffer): Request {
  if (buf.length < Limits.headerSize) throw protocolError('message shorter than its header');
  const length = buf.readInt32LE(0);
  if (length !== buf.length) throw protocolError(`message length ${length} does not match ${buf.length} bytes`);
  const requestId = buf.readInt32LE(4);
  const opCode = buf.readInt32LE(12);
  switch (opCode) {
    case OpCode.MSG:
      if (buf.length < 21) throw protocolError('truncated OP_MSG');
      return decodeMsg(buf, requestId);
    case OpCode.QUERY:
      return decodeQuery(buf, requestId);
    case OpCode.COMPRESSED:
      return decodeCompressed(buf, requestId);
    default:
      throw protocolError(`unsupported opcode ${opCode}`);
  }
}

function decodeCompressed(buf: Buffer, requestId: number): Request {
  if (buf.length < 25) throw protocolError('truncated OP_COMPRESSED');
  const originalOpcode = buf.readInt32LE(16);
  const size = buf.readInt32LE(20);
  const compressor = buf[24];
  if (size < 0 || size > Limits.maxMessageSizeBytes) throw protocolError('invalid uncompressed size');
  let payload: Buffer;
  if (compressor === CompressorId.zlib) {
    try {
      payload = inflateSync(buf.subarray(25), { maxOutputLength: Limits.maxMessageSizeBytes });
    } catch (err) {
      throw new EngineError('ProtocolError', `invalid zlib payload: ${(err as Error).message}`, {}, { cause: err });
    }
  }
  else if (compressor === CompressorId.noop) payload = buf.subarray(25);
  else throw protocolError(`unsupported compressor id ${compressor}`);
  if (payload.length !== size) throw protocolError('uncompressed size mismatch');
  if (originalOpcode === OpCode.COMPRESSED) throw protocolError('nested OP_COMPRESSED');
  const header = Buffer.alloc(Limits.headerSize);
  header.writeInt32LE(Limits.headerSize + size, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(originalOpcode, 12);
  const inner = decodeMessage(Buffer.concat([header, payload]));
  inner.compressor = compressor;
  return inner;
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.allocUnsafe(Limits.headerSize);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/** Encodes an OP_MSG reply with a single kind-0 body. */
export function encodeMsg(requestId: number, responseTo: number, doc: Document): Buffer {
  const bson = BSON.serialize(doc);
  const out = Buffer.allocUnsafe(21 + bson.length);
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(OpCode.MSG, 12);
  out.writeUInt32LE(0, 16);
  out[20] = 0;
  out.set(bson, 21);
  return out;
}

/** Encodes an OP_REPLY carrying one document (the answer to a legacy OP_QUERY). */
export function encodeReply(requestId: number, responseTo: number, doc: Document): Buffer {
  const bson = BSON.serialize(doc);
  const out = Buffer.alloc(36 + bson.length);
  header(out.length, requestId, responseTo, OpCode.REPLY).copy(out, 0);
  out.writeInt32LE(8, 16); // AwaitCapable, as mongod sets it
  // cursorID (8 bytes) and startingFrom stay zero
  out.writeInt32LE(1, 32);
  out.set(bson, 36);
  return out;
}

/** Wraps an encoded message in OP_COMPRESSED using the given compressor. */
export function compressMessage(msg: Buffer, compressor: number): Buffer {
  const payload = msg.subarray(Limits.headerSize);
  const body = compressor === CompressorId.zlib ? deflateSync(payload) : payload;
  const out = Buffer.allocUnsafe(25 + body.length);
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(msg.readInt32LE(4), 4);
  out.writeInt32LE(msg.readInt32LE(8), 8);
  out.writeInt32LE(OpCode.COMPRESSED, 12);
  out.writeInt32LE(msg.readInt32LE(12), 16);
  out.writeInt32LE(payload.length, 20);
  out[24] = compressor;
  out.set(body, 25);
  return out;
}
