/**
 * A hand-driven fake rss server for client tests: a real loopback socket that
 * records every datagram and answers only when the test tells it to.
 */
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

export class FakeServer {
  readonly received: Received[] = [];
  private waiters: { pred: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  /** Called for every datagram; answer by hand or leave it silent. */
  onMessage: ((r: Received) => void) | undefined;

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

  send(message: Message, to: Address): void {
    this.socket.send(encodeNative(message), to);
  }

  /** Answer a request with `reply` (its rq filled in). */
  answer(r: Received, reply: Record<string, unknown>): void {
    this.send({ rq: r.message.rq, ...reply } as unknown as Message, r.from);
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
    if (r.message.type === 'ACK') return;
    server.answer(r, override(r) ?? successFor(r));
  };
}

export const text = (seq: number, subject = 'news', from = 'alice') => ({ seq, from, subject, text: `text ${seq}`, at: 1_700_000_000_000 + seq });
