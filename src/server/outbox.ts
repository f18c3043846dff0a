/**
 * Everything a server sends goes through here: replies and pushes are
 * encoded in the peer's dialect (native ones MACed with the user's key and
 * carrying the ctr of the request they answer), and every datagram is
 * charged to its address's anti-amplification budget (send-budgets.ts) except a
 * native user's own pushes and answers at the address it proved.
 */
import type { Dialect } from '../protocol/dialect';
import type { DialectName, Push, Reply, StoredText } from '../protocol/messages';
import { encodeNative, openBody, sealLastField } from '../protocol/native';
import type { UserDoc } from '../store/documents';
import type { Address, Transport } from '../transport/types';
import type { ServerCounters } from './context';
import type { Guard } from './guard';

/** How a native reply is sealed: the request's ctr echoed, and the user key when the request proved it. */
export interface Seal {
  ctr?: number;
  key?: Uint8Array;
  /** The reply goes back uncharged (the user's own MACed request from its proven address): it says so (`pv`), and the client stops padding that user's requests. */
  proven?: boolean;
}

/** A native user's address that answered its CHALLENGE (at either server): sent to without a budget. Legacy ones never are. */
function proven(user: UserDoc): boolean {
  return user.dialect === 'native' && user.addrOk === true;
}

/** The pushes that go only to a user's own address (native: proven by a CHALLENGE; legacy: it spoke itself). */
const NEEDS_VALID_ADDRESS = new Set<Push['type']>(['MESSAGE', 'CHANGE-SERVER', 'UPDATE-SERVER']);

export class Outbox {
  /** The MESSAGE datagram of a text up to its `to`, encoded once for all its native recipients (each adds `to` and its MAC). */
  private readonly messageBodies = new WeakMap<StoredText, Buffer>();

  constructor(
    private readonly transport: Transport,
    private readonly guard: Guard,
    private readonly dialects: Partial<Record<'text' | 'pickle', Dialect>>,
    private readonly counters: ServerCounters,
    /** The lease epoch served under, stamped on native replies (undefined when not serving). */
    private readonly epoch: () => number | undefined = () => undefined,
  ) {}

  /** The datagrams of `replies` in `dialect` (native: sealed). */
  encodeReplies(replies: Reply[], dialect: DialectName, seal: Seal = {}): Buffer[] {
    if (dialect === 'native') {
      const env = { ctr: seal.ctr, ep: this.epoch(), pv: seal.proven && seal.key ? (1 as const) : undefined };
      return replies.map((r) => encodeNative(r, env, seal.key));
    }
    const codec = this.dialects[dialect];
    return codec ? replies.flatMap((r) => codec.encode(r)) : [];
  }

  /**
   * Send datagrams to a request's source, within the address's budget
   * (unless `charge` is false: an answer whose bytes were reserved, or a
   * native user's own answer at its proven address),
   * starting at `from` and wrapping around; returns the index of the first
   * one the budget stopped (datagrams.length when all went out), so a
   * repeated answer can start there and every part gets through in the end.
   */
  sendTo(datagrams: Buffer[], to: Address, from = 0, charge = true): number {
    for (let k = 0; k < datagrams.length; k++) {
      const i = (from + k) % datagrams.length;
      const b = datagrams[i]!;
      if (charge && !this.guard.sendBudgets.allow(to, b.length)) return i;
      this.transport.send(b, to);
      this.counters.replies++;
    }
    return datagrams.length;
  }

  /** Send a legacy user's answer to its own address (not the request's source), within that address's budget. */
  sendToUser(user: UserDoc, datagrams: Buffer[]): void {
    this.sendTo(datagrams, { host: user.host, port: user.port });
  }

  /**
   * Push `msg` to a legacy client at `at` (an announced or recently active
   * address, registered or not), in its dialect, within the address's
   * budget. False when nothing was sent.
   */
  pushToAddress(at: Address, dialect: 'text' | 'pickle', msg: Push): boolean {
    const encoded = this.dialects[dialect]?.encode(msg) ?? [];
    if (encoded.length === 0) return false;
    for (const b of encoded) {
      if (!this.guard.sendBudgets.allow(at, b.length)) return false;
      this.transport.send(b, at);
    }
    return true;
  }

  /** Push a stored text as a MESSAGE to `user` (see push()). */
  pushText(user: UserDoc, text: StoredText, key: Buffer | undefined): boolean {
    if (!proven(user) || !key) return this.push(user, { type: 'MESSAGE', ...text, to: user._id }, key);
    let body = this.messageBodies.get(text);
    if (body === undefined) this.messageBodies.set(text, (body = openBody(JSON.stringify({ type: 'MESSAGE', ...text }), 'to')));
    this.transport.send(sealLastField(body, user._id, key), { host: user.host, port: user.port });
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
      if (!proven(user) && !this.guard.sendBudgets.allow(at, b.length)) return false;
      this.transport.send(b, at);
    }
    return true;
  }
}
