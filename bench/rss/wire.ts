/**
 * How the load generator speaks the native dialect: the one place that
 * builds request datagrams and reads replies. Requests carry the client id
 * (`cid`) that owns the generator's users and a strictly increasing `ctr`,
 * as RssClient does. When the native dialect gains HMAC authentication, the
 * key goes into `NativeWire` (encodeNative already takes one) and nothing
 * else in bench/ changes.
 */
import { randomBytes } from 'node:crypto';
import type { Message, Request } from '../../src/protocol/messages';
import { decodeNative, encodeNative } from '../../src/protocol/native';

type Distribute<T> = T extends unknown ? Omit<T, 'rq'> : never;
/** A request that carries an RQ#, before the RQ# is assigned. */
export type Body = Distribute<Extract<Request, { rq: number }>>;

/** One client identity of the generator (several users may share it). */
export class NativeWire {
  readonly cid: string;
  private ctr: number;
  private rq = 0;

  constructor(cid = randomBytes(16).toString('base64url'), private readonly key?: Uint8Array) {
    this.cid = cid;
    // Above any counter an earlier run with this cid used (µs of wall clock), then +1 each.
    this.ctr = Date.now() * 1000;
  }

  /** The next RQ# (unique among this wire's requests for 2^32 requests). */
  nextRq(): number {
    this.rq = (this.rq + 1) >>> 0;
    return this.rq;
  }

  /** Encode `body` under RQ# `rq`. */
  request(body: Body, rq: number): Buffer {
    return encodeNative({ ...body, rq } as Request, { cid: this.cid, ctr: ++this.ctr }, this.key);
  }

  /** The acknowledgement of a pushed MESSAGE. */
  ack(name: string, seq: number): Buffer {
    return encodeNative({ type: 'ACK', name, seq }, { cid: this.cid, ctr: ++this.ctr }, this.key);
  }
}

/** Decode a datagram from a server; undefined when it is not a native message. */
export function readMessage(bytes: Buffer): Message | undefined {
  try {
    return decodeNative(bytes).message;
  } catch {
    return undefined;
  }
}
