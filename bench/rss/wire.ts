/**
 * How the load generator speaks the native dialect: the one place that
 * builds request datagrams and reads replies. Requests carry the client id
 * (`cid`) that owns the generator's users and a strictly increasing `ctr`,
 * as RssClient does, padded as RssClient pads them (until a reply says the
 * user asks from its proven address). Authentication as the
 * client does it (src/client/requests.ts, client.ts): a REGISTER carries a
 * fresh X25519 public key, the REGISTERED's `pub` yields the user key, and
 * from then on that user's requests, ACKs and CHALLENGE-RESPONSEs are MACed
 * with it. Replies are not MAC-checked (loopback, our own server: the
 * generator measures the server, not the client's checks).
 */
import { randomBytes } from 'node:crypto';
import { deriveUserKey, newAgreementKeys, type AgreementKeys } from '../../src/protocol/auth';
import type { Message, Request } from '../../src/protocol/messages';
import { hmacSha256Into } from '../../src/protocol/mac';
import { MAC_BYTES, NATIVE_MAGIC, decodeNative, encodeNative, encodeNativePadded, type NativeFrame } from '../../src/protocol/native';

type Distribute<T> = T extends unknown ? Omit<T, 'rq'> : never;
/** A request that carries an RQ#, before the RQ# is assigned. */
export type Body = Distribute<Extract<Request, { rq: number }>>;

/** One client identity of the generator (several users may share it, each with its own key). */
export class NativeWire {
  readonly cid: string;
  private ctr: number;
  private rq = 0;
  /** User keys agreed at REGISTER, by name. */
  private readonly keys = new Map<string, Buffer>();
  /** Key agreements of REGISTERs waiting for their REGISTERED, by RQ#. */
  private readonly agreements = new Map<number, AgreementKeys>();
  /** Users whose replies said they ask from their proven address (`pv`): their requests go unpadded, as RssClient sends them. */
  readonly proven = new Set<string>();
  private readonly ackTemplates = new Map<string, TwoNumberTemplate>();

  constructor(cid = randomBytes(16).toString('base64url')) {
    this.cid = cid;
    // Above any counter an earlier run with this cid used (µs of wall clock), then +1 each.
    this.ctr = Date.now() * 1000;
  }

  /** The next RQ# (unique among this wire's requests for 2^32 requests). */
  nextRq(): number {
    this.rq = (this.rq + 1) >>> 0;
    return this.rq;
  }

  /** Encode `body` under RQ# `rq` with a fresh ctr (also to re-seal a request refused for a stale counter). */
  request(body: Body, rq: number): Buffer {
    const name = 'name' in body ? body.name : undefined;
    const key = name === undefined ? undefined : this.keys.get(name);
    let msg = { ...body, rq } as Request;
    if (body.type === 'REGISTER' && !key) {
      const agreement = this.agreements.get(rq) ?? newAgreementKeys();
      this.agreements.set(rq, agreement);
      msg = { ...msg, pub: agreement.pub } as Request;
    }
    const envelope = { cid: this.cid, ctr: ++this.ctr };
    return key && name !== undefined && this.proven.has(name) ? encodeNative(msg, envelope, key) : encodeNativePadded(msg, envelope, key);
  }

  /**
   * A user's PUBLISH, built as `request` builds it for a proven user
   * (unpadded, MACed) but from pre-encoded bytes: only RQ# and ctr vary.
   * Undefined while the user has no key or is not proven (then `request`).
   */
  publisher(name: string, subject: string, text: string): ((rq: number) => Buffer) | undefined {
    const key = this.keys.get(name);
    if (!key || !this.proven.has(name)) return undefined;
    const t = new TwoNumberTemplate(JSON.stringify({ type: 'PUBLISH', name, subject, text }), 'rq', { cid: this.cid }, key);
    return (rq) => t.build(rq, ++this.ctr);
  }

  /** The acknowledgement of a pushed MESSAGE, as `ack` builds it, from pre-encoded bytes (one template per user). */
  fastAck(name: string, seq: number): Buffer {
    let t = this.ackTemplates.get(name);
    if (!t) {
      const key = this.keys.get(name);
      if (!key) return this.ack(name, seq);
      t = new TwoNumberTemplate(JSON.stringify({ type: 'ACK', name }), 'seq', { cid: this.cid }, key);
      this.ackTemplates.set(name, t);
    }
    return t.build(seq, ++this.ctr);
  }

  /** Learn from a reply: a REGISTERED to our REGISTER yields the user key. */
  learn(reply: Message): void {
    if (!('rq' in reply) || typeof reply.rq !== 'number') return;
    const agreement = this.agreements.get(reply.rq);
    if (!agreement) return;
    this.agreements.delete(reply.rq);
    if (reply.type !== 'REGISTERED' || reply.pub === undefined) return;
    const key = deriveUserKey(agreement, reply.pub, agreement.pub, reply.pub, reply.name);
    if (key) this.keys.set(reply.name, key);
  }

  /** The acknowledgement of a pushed MESSAGE. */
  ack(name: string, seq: number): Buffer {
    return encodeNative({ type: 'ACK', name, seq }, { cid: this.cid, ctr: ++this.ctr }, this.keys.get(name));
  }

  /** The answer to a CHALLENGE: proves that this socket receives `name`'s datagrams. */
  challengeResponse(name: string, nonce: string): Buffer {
    return encodeNative({ type: 'CHALLENGE-RESPONSE', name, nonce }, { cid: this.cid, ctr: ++this.ctr }, this.keys.get(name));
  }
}

/** Decode a datagram from a server; undefined when it is not a native message. */
export function readFrame(bytes: Buffer): NativeFrame | undefined {
  try {
    return decodeNative(bytes);
  } catch {
    return undefined;
  }
}

const HEADER = Buffer.from([NATIVE_MAGIC, 1, 1]);

/**
 * A MACed native datagram `{...fields, "<first>": a, "cid": ..., "ctr": b}`
 * whose only varying parts are two numbers: the bytes around them are
 * encoded once, so a datagram costs two number writes and the MAC (with
 * the key's pads prepared once, src/protocol/mac.ts). Byte for byte what
 * encodeNative gives for the same message and envelope.
 */
export class TwoNumberTemplate {
  private readonly head: Buffer;
  private readonly mid: Buffer;

  /** `json`: the message without its two numbers; `first`: the name of the message's number; `envelope`: fields between it and ctr. */
  constructor(json: string, first: string, envelope: Record<string, string>, private readonly key: Buffer) {
    let between = '';
    for (const [k, v] of Object.entries(envelope)) between += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
    this.head = Buffer.concat([HEADER, Buffer.from(`${json.slice(0, -1)},${JSON.stringify(first)}:`)]);
    this.mid = Buffer.from(`${between},"ctr":`);
  }

  build(a: number, ctr: number): Buffer {
    const sa = String(a);
    const sb = String(ctr);
    const len = this.head.length + sa.length + this.mid.length + sb.length + 1;
    const out = Buffer.allocUnsafe(len + MAC_BYTES);
    let o = this.head.copy(out, 0);
    o += out.write(sa, o, 'latin1');
    o += this.mid.copy(out, o);
    o += out.write(sb, o, 'latin1');
    out[o++] = 0x7d; // }
    hmacSha256Into(out.subarray(0, o), this.key, out, o);
    return out;
  }
}

/** What the generator's hot path needs of a pushed MESSAGE or a PUBLISHED reply. */
export type FastReply = { type: 'MESSAGE'; to: string; seq: number } | { type: 'PUBLISHED'; rq: number; pv: boolean };

const TYPE_AT = 3 + '{"type":"'.length;
const MESSAGE = Buffer.from('MESSAGE"');
const PUBLISHED = Buffer.from('PUBLISHED"');
const SEQ = Buffer.from('"seq":');
const RQ = Buffer.from('"rq":');
const TO = Buffer.from('"to":"');
const PV = Buffer.from('"pv":1');

function startsAt(bytes: Buffer, at: number, prefix: Buffer): boolean {
  if (bytes.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** The non-negative integer written at `at`, or -1. */
function intAt(bytes: Buffer, at: number): number {
  let n = 0;
  let i = at;
  for (; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
  }
  return i === at ? -1 : n;
}

/**
 * The two datagrams of every publish read without JSON.parse: a MESSAGE's
 * recipient and seq, a PUBLISHED's RQ# and proven-address flag. A quoted
 * key cannot occur inside a JSON string (its quotes would be escaped), so
 * searching for it is exact for these flat objects. Undefined for
 * anything else (or anything odd): the caller decodes it fully.
 */
export function readFast(bytes: Buffer): FastReply | undefined {
  if (bytes[0] !== NATIVE_MAGIC || bytes[1] !== 1) return undefined;
  if (startsAt(bytes, TYPE_AT, MESSAGE)) {
    const s = bytes.indexOf(SEQ, TYPE_AT);
    const t = bytes.indexOf(TO, TYPE_AT);
    if (s < 0 || t < 0) return undefined;
    const seq = intAt(bytes, s + SEQ.length);
    const end = bytes.indexOf(0x22, t + TO.length);
    if (seq < 0 || end < 0) return undefined;
    const to = bytes.toString('utf8', t + TO.length, end);
    if (to.includes('\\')) return undefined;
    return { type: 'MESSAGE', to, seq };
  }
  if (startsAt(bytes, TYPE_AT, PUBLISHED)) {
    const r = bytes.indexOf(RQ, TYPE_AT);
    const rq = r < 0 ? -1 : intAt(bytes, r + RQ.length);
    if (rq < 0) return undefined;
    return { type: 'PUBLISHED', rq, pv: bytes.indexOf(PV, TYPE_AT) >= 0 };
  }
  return undefined;
}
