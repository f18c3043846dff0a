/**
 * A hand-driven fake rss server for client tests: a real loopback socket that
 * records every datagram and answers only when the test tells it to. Like
 * the real pair, the fake servers share the user keys (agreed when they
 * answer a REGISTER), MAC what they send about a user with its key and echo
 * the request's ctr, so the client believes them.
 */
import { deriveUserKey, newAgreementKeys } from '../../src/protocol/auth';
import type { Message } from '../../src/protocol/messages';
import { decodeNative, encodeNative, type NativeEnvelope } from '../../src/protocol/native';
import type { Address } from '../../src/transport/types';
import { openUdp, type UdpTransport } from '../../src/transport/udp';

export interface Received {
  message: Message & { rq?: number; name?: string };
  envelope: NativeEnvelope;
  bytes: Buffer;
  from: Address;
}

/** User keys of the fake pair (the real pair shares them through its store). */
export const fakeKeys = new Map<string, Buffer>();
/** The user registered last: the one a push that names no user is for. */
let lastRegistered: string | undefined;

const PUSHES = new Set(['MESSAGE', 'CHANGE-SERVER', 'UPDATE-SERVER', 'CHALLENGE']);

export interface SendOptions {
  /** MAC with this key; null sends it unMACed (a forgery); default: the key of the user it names. */
  key?: Buffer | null;
  /** The ctr to echo in the envelope. */
  ctr?: number;
}

export class FakeServer {
  readonly received: Received[] = [];
  private waiters: { pred: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  /** Called for every datagram; answer by hand or leave it silent. */
  onMessage: ((r: Received) => void) | undefined;
  /** The lease epoch its replies carry (a client believes CHANGE-SERVER only from that epoch on). */
  epoch = 1;

  private constructor(readonly socket: UdpTransport) {
    socket.onDatagram((bytes, from) => {
      const frame = decodeNative(bytes);
      const r: Received = { message: frame.message as Received['message'], envelope: frame.envelope, bytes, from };
      this.received.push(r);
      this.onMessage?.(r);
      this.waiters = this.waiters.filter((w) => (w.pred(r) ? (w.resolve(r), false) : true));
    });
  }

  static async open(): Promise<FakeServer> {
    return new FakeServer(await openUdp({ host: '127.0.0.1', port: 0 }));
  }

  get address(): Address {
    return this.socket.address();
  }

  /** The next datagram matching `pred` (already received ones count, from index `since`). */
  next(pred: (r: Received) => boolean = () => true, since = 0): Promise<Received> {
    const seen = this.received.slice(since).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  /** The next datagram of `type`. */
  nextOf(type: string, since = 0): Promise<Received> {
    return this.next((r) => r.message.type === type, since);
  }

  send(message: Message, to: Address, opts: SendOptions = {}): void {
    let m = message as Message & { to?: string; name?: string };
    // A push names its user; when the test did not, the only user with a key is meant.
    if (PUSHES.has(m.type) && m.to === undefined && lastRegistered !== undefined) m = { ...m, to: lastRegistered };
    const user = m.to ?? m.name;
    const key = opts.key === null ? undefined : opts.key ?? (user === undefined ? undefined : fakeKeys.get(user));
    this.socket.send(encodeNative(m, opts.ctr !== undefined ? { ctr: opts.ctr } : {}, key), to);
  }

  /** Answer a request with `reply` (its rq filled in); a REGISTER with a public key agrees a user key first. */
  answer(r: Received, reply: Record<string, unknown>): void {
    this.socket.send(this.replyBytes(r, reply), r.from);
  }

  /** The datagram answering `r` with `reply`, as the real server would seal it. */
  replyBytes(r: Received, reply: Record<string, unknown>): Buffer {
    const req = r.message as { type: string; name?: string; pub?: string };
    let extra = {};
    if (req.type === 'REGISTER' && req.pub && reply.type === 'REGISTERED') {
      const ours = newAgreementKeys();
      fakeKeys.set(req.name!, deriveUserKey(ours, req.pub, req.pub, ours.pub, req.name!)!);
      lastRegistered = req.name!;
      extra = { pub: ours.pub };
    }
    const m = { rq: r.message.rq, ...reply, ...extra } as unknown as Message & { name?: string };
    const key = m.name === undefined ? undefined : fakeKeys.get(m.name);
    return encodeNative(m, { ctr: r.envelope.ctr, ep: this.epoch }, key);
  }

  of(type: string): Received[] {
    return this.received.filter((r) => r.message.type === type);
  }

  close(): Promise<void> {
    return this.socket.close();
  }
}

/** The obvious success reply to each request (what the real server would say). */
export function successFor(r: Received): Record<string, unknown> {
  const m = r.message as Record<string, unknown>;
  switch (m.type) {
    case 'REGISTER': return { type: 'REGISTERED', name: m.name };
    case 'CHALLENGE-RESPONSE': return undefined as never;
    case 'DE-REGISTER': return { type: 'DE-REGISTERED', name: m.name };
    case 'UPDATE': return { type: 'UPDATE-CONFIRMED', name: m.name, host: m.host === '0.0.0.0' ? r.from.host : m.host, port: m.port };
    case 'SUBJECTS': return { type: 'SUBJECTS-UPDATED', name: m.name, subjects: m.subjects };
    case 'PUBLISH': return { type: 'PUBLISHED', name: m.name, subject: m.subject, text: m.text, seq: 1 };
    case 'RETRIEVE-TEXTS': return { type: 'RETRIEVED', name: m.name, texts: [], more: false };
    case 'WHO': return { type: 'WHO-LIST', name: m.name, users: [] };
    case 'STATUS': return { type: 'STATUS-REPORT', status: { serving: true } };
    default: throw new Error(`no success reply for ${String(m.type)}`);
  }
}

/** Answer every request with its success reply (ACKs are just recorded). */
export function autoAnswer(server: FakeServer, override: (r: Received) => Record<string, unknown> | undefined = () => undefined): void {
  server.onMessage = (r) => {
    if (r.message.type === 'ACK' || r.message.type === 'CHALLENGE-RESPONSE') return;
    server.answer(r, override(r) ?? successFor(r));
  };
}

export const text = (seq: number, subject = 'news', from = 'alice') => ({ seq, from, subject, text: `text ${seq}`, at: 1_700_000_000_000 + seq });
