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
import { decodeNative, encodeNative, encodeNativePadded, type NativeFrame } from '../../src/protocol/native';

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
