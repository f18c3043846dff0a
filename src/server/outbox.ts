/**
 * Everything a server sends goes through here: replies and pushes are
 * encoded in the peer's dialect (native ones MACed with the user's key and
 * carrying the ctr of the request they answer), and every datagram to an
 * address that has not proved it receives is charged to that address's
 * anti-amplification budget (paths.ts).
 */
import type { Dialect } from '../protocol/dialect';
import type { DialectName, Push, Reply, StoredText } from '../protocol/messages';
import { encodeNative, sealNativeBody, withFields } from '../protocol/native';
import type { UserDoc } from '../store/documents';
import type { Address, Transport } from '../transport/types';
import type { ServerCounters } from './context';
import type { Guard } from './guard';

/** How a native reply is sealed: the request's ctr echoed, and the user key when the request proved it. */
export interface Seal {
  ctr?: number;
  key?: Uint8Array;
}

/** The pushes that go only to a validated address (a CHALLENGE is what validates it). */
const NEEDS_VALID_ADDRESS = new Set<Push['type']>(['MESSAGE', 'CHANGE-SERVER', 'UPDATE-SERVER']);

export class Outbox {
  /** The MESSAGE body of a text, encoded once for all its native recipients (each datagram adds `to` and its MAC). */
  private readonly messageBodies = new WeakMap<StoredText, string>();

  constructor(
    private readonly transport: Transport,
    private readonly guard: Guard,
    private readonly dialects: Partial<Record<'text' | 'pickle', Dialect>>,
    private readonly counters: ServerCounters,
  ) {}

  /** The datagrams of `replies` in `dialect` (native: sealed). */
  encodeReplies(replies: Reply[], dialect: DialectName, seal: Seal = {}): Buffer[] {
    if (dialect === 'native') {
      const env = seal.ctr !== undefined ? { ctr: seal.ctr } : {};
      return replies.map((r) => encodeNative(r, env, seal.key));
    }
    const codec = this.dialects[dialect];
    return codec ? replies.flatMap((r) => codec.encode(r)) : [];
  }

  /**
   * Send datagrams to a request's source, within the address's budget,
   * starting at `from` and wrapping around; returns the index of the first
   * one the budget stopped (datagrams.length when all went out), so a
   * repeated answer can start there and every part gets through in the end.
   */
  sendTo(datagrams: Buffer[], to: Address, from = 0): number {
    for (let k = 0; k < datagrams.length; k++) {
      const i = (from + k) % datagrams.length;
      const b = datagrams[i]!;
      if (!this.guard.paths.allow(to, b.length)) return i;
      this.transport.send(b, to);
      this.counters.replies++;
    }
    return datagrams.length;
  }

  /** Push a stored text as a MESSAGE to `user` (see push()). */
  pushText(user: UserDoc, text: StoredText, key: Buffer | undefined): boolean {
    if (user.dialect !== 'native' || !key || !user.addrOk) return this.push(user, { type: 'MESSAGE', ...text, to: user._id }, key);
    let body = this.messageBodies.get(text);
    if (body === undefined) this.messageBodies.set(text, (body = JSON.stringify({ type: 'MESSAGE', ...text })));
    this.transport.send(sealNativeBody(withFields(body, { to: user._id }), key), { host: user.host, port: user.port });
    return true;
  }

  /**
   * Push `msg` to `user` in its dialect; native pushes name the user (`to`)
   * and are MACed with its key. Returns false when nothing was sent (no
   * such message in the dialect, address not validated, or over budget).
   */
  push(user: UserDoc, msg: Push, key: Buffer | undefined): boolean {
    // Checked before encoding: a broadcast must not pay a MAC for every user it will not reach.
    if (NEEDS_VALID_ADDRESS.has(msg.type) && !user.addrOk) return false;
    const at = { host: user.host, port: user.port };
    let encoded: Buffer[];
    if (user.dialect === 'native') {
      // A native user without a key (registered by an older server) gets nothing it could not verify.
      if (!key) return false;
      encoded = [encodeNative(msg.type === 'MESSAGE' || msg.type === 'CHALLENGE' ? msg : { ...msg, to: user._id }, {}, key)];
    } else {
      encoded = this.dialects[user.dialect]?.encode(msg) ?? [];
    }
    if (encoded.length === 0) return false;
    for (const b of encoded) {
      if (user.addrOk !== true && !this.guard.paths.allow(at, b.length)) return false;
      this.transport.send(b, at);
    }
    return true;
  }
}
