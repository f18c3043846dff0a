/**
 * Issue "Fuzzing of every decoder and handler": more than 100,000 random and
 * mutated datagrams (mutations of valid canonical text, pickle and
 * MACed native requests, and of a MACed TAKEOVER) go through the decoders
 * and through a real RssServer core fed by a fake transport (no sockets, an
 * in-memory store, so it runs in seconds). Properties: no exception escapes;
 * a datagram that is invalid (does not decode, or fails its MAC) changes
 * nothing in the store or the directory; every map keyed by what senders
 * chose stays within its bound; the server still answers afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors';
import { deriveServerKey, deriveUserKey, newAgreementKeys } from '../../src/protocol/auth';
import { detectDialect } from '../../src/protocol/dialect';
import { legacyDialects } from '../../src/protocol/dialects';
import type { Message } from '../../src/protocol/messages';
import { decodeNative, encodeNative, encodeNativePadded } from '../../src/protocol/native';
import { writePickle } from '../../src/protocol/pickle/writer';
import { RssServer } from '../../src/server/server';
import type { KeyedQueue } from '../../src/server/keyed-queue';
import type { ReplyCache } from '../../src/server/reply-cache';
import type { Address, DatagramHandler, Transport } from '../../src/transport/types';
import type { Logger } from '../../src/util/log';
import { MemoryStore } from './memory-store';

const SELF = { host: '10.0.0.1', port: 5001 };
const PEER = { host: '10.0.0.9', port: 5002 };
const NAT = { host: '10.0.0.5', port: 6000 };
const MAX_TRACKED = 300;
/** Datagrams fed through the server (two phases) and through the decoders. */
const BATCH = 250;
const SERVER_RUNS = 200;
const DECODER_RUNS = 45_000;

let store: MemoryStore;
let server: RssServer;
let deliver: DatagramHandler;
let fed = 0;
const out: { bytes: Buffer; to: Address }[] = [];
const corpus: Buffer[] = [];
/** Warnings and errors the server logged: the server swallows exceptions to survive, so the test reads them here. */
const problems: { level: string; obj: object; msg?: string }[] = [];
const recorder: Logger = {
  debug: () => {},
  info: () => {},
  warn: (obj, msg) => void problems.push({ level: 'warn', obj, ...(msg ? { msg } : {}) }),
  error: (obj, msg) => void problems.push({ level: 'error', obj, ...(msg ? { msg } : {}) }),
  child: () => recorder,
};

const ctrNow = (() => {
  let last = 0;
  return () => (last = Math.max(last + 1, Date.now() * 1000));
})();

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await (server as unknown as { queue: KeyedQueue }).queue.drain();
    await new Promise((r) => setImmediate(r));
  }
}

async function feed(bytes: Uint8Array, from: Address): Promise<void> {
  deliver(Buffer.from(bytes), from);
  fed++;
  await settle();
}

const taken = () => out.splice(0).map((o) => ({ ...o, msg: safeNative(o.bytes) }));
function safeNative(b: Buffer): Message | undefined {
  try {
    return decodeNative(b).message;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  store = new MemoryStore();
  let handler: DatagramHandler = () => {};
  const transport: Transport = {
    send: (bytes, to) => void (out.length < 10_000 && out.push({ bytes: Buffer.from(bytes), to })),
    onDatagram: (h) => void (handler = h),
    address: () => SELF,
    close: async () => {},
  };
  server = new RssServer({
    tag: 'A', transport, peer: PEER, self: SELF, store, period: 3_600_000, dialects: legacyDialects,
    security: { maxTracked: MAX_TRACKED }, logger: recorder,
  });
  deliver = (b, from) => handler(b, from);
  const serving = new Promise((r) => server.once('serving', r));
  server.start();
  await serving;

  // A native user with a key and a validated address, a text user, a pickle user, and texts.
  const ours = newAgreementKeys();
  await feed(encodeNative({ type: 'REGISTER', rq: 1, name: 'nat', host: '0.0.0.0', port: NAT.port, pub: ours.pub }, { cid: 'nat', ctr: ctrNow() }), NAT);
  const replies = taken();
  const registered = replies.find((r) => r.msg?.type === 'REGISTERED')!.msg as Extract<Message, { type: 'REGISTERED' }>;
  const challenge = replies.find((r) => r.msg?.type === 'CHALLENGE')!.msg as Extract<Message, { type: 'CHALLENGE' }>;
  const k = deriveUserKey(ours, registered.pub!, ours.pub, registered.pub!, 'nat')!;
  const seal = (m: Message) => encodeNative(m, { cid: 'nat', ctr: ctrNow() }, k);
  await feed(seal({ type: 'CHALLENGE-RESPONSE', name: 'nat', nonce: challenge.nonce }), NAT);
  await feed(seal({ type: 'SUBJECTS', rq: 2, name: 'nat', subjects: ['news', 'sport'] }), NAT);
  const TIM = { host: '10.0.0.2', port: 4000 };
  await feed(Buffer.from('REGISTER 3 tim 10.0.0.2 4000'), TIM);
  await feed(Buffer.from('SUBJECTS 4 tim news'), TIM);
  await feed(writePickle({ TYPE: 'REGISTER', 'RQ#': 5, NAME: 'pam', IP: '10.0.0.3', PORT: 4000 }), { host: '10.0.0.3', port: 4000 });
  await feed(seal({ type: 'PUBLISH', rq: 6, name: 'nat', subject: 'news', text: 'hello' }), NAT);
  await feed(Buffer.from('PUBLISH 7 tim news from tim'), TIM);
  taken();
  expect(store.users.get('nat')?.addrOk).toBe(true);
  expect(store.texts.size).toBe(2);

  corpus.push(
    ...['REGISTER 8 tom 10.0.0.4 4000', 'UPDATE 9 tim 10.0.0.2 4001', 'SUBJECTS 10 tim news sport', 'PUBLISH 11 tim news hi there',
      'RETRIEVE-TEXTS 12 tim', 'DE-REGISTER 13 tim', 'UPDATE 14 nat 10.0.0.7 1', 'PUBLISH 15 nat news forged'].map((t) => Buffer.from(t)),
    writePickle({ TYPE: 'INITIALIZATION', MESSAGE: 'New Client!' }),
    writePickle({ TYPE: 'REGISTER', 'RQ#': 16, NAME: 'pia', IP: '10.0.0.3', PORT: 4001 }),
    writePickle({ TYPE: 'SUBJECTS', 'RQ#': 17, NAME: 'pam', 'SUBJECT-LIST': 'news,sport' }),
    writePickle({ TYPE: 'PUBLISH', 'RQ#': 18, NAME: 'pam', SUBJECT: 'news', TEXT: 'pickled' }),
    writePickle({ TYPE: 'RETRIEVE-TEXTS', 'RQ#': 19, NAME: 'pam' }),
    writePickle({ TYPE: 'UPDATE-SOCKET', 'RQ#': 20, NAME: 'nat', IP: '10.0.0.3', PORT: 4000 }),
    seal({ type: 'SUBJECTS', rq: 21, name: 'nat', subjects: ['sport'] }),
    seal({ type: 'PUBLISH', rq: 22, name: 'nat', subject: 'news', text: 'a MACed text' }),
    seal({ type: 'UPDATE', rq: 23, name: 'nat', host: '10.0.0.8', port: 7000 }),
    seal({ type: 'RETRIEVE-TEXTS', rq: 24, name: 'nat' }),
    seal({ type: 'WHO', rq: 25, name: 'nat' }),
    seal({ type: 'DE-REGISTER', rq: 26, name: 'nat' }),
    seal({ type: 'ACK', name: 'nat', seq: 1 }),
    seal({ type: 'REGISTER', rq: 27, name: 'nat', host: '0.0.0.0', port: 1 }),
    encodeNative({ type: 'STATUS', rq: 28 }, { cid: 'ops', ctr: ctrNow() }),
    encodeNative({ type: 'REGISTER', rq: 29, name: 'neo', host: '0.0.0.0', port: 9, pub: newAgreementKeys().pub }, { cid: 'neo', ctr: ctrNow() }),
    encodeNative({ type: 'TAKEOVER', from: 'B', epoch: 2 }, { ctr: ctrNow() }, deriveServerKey(await store.peerSecret(), 'rss peer mac')),
  );
}, 30_000);

afterAll(async () => {
  await server.close();
});

/** One edit of a datagram: flip a bit, overwrite, insert or delete a byte, truncate, or splice in another datagram's tail. */
const edit = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('splice' as const), at: fc.nat(), other: fc.nat() }),
);
type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

function mutate(base: Buffer, edits: Edit[]): Buffer {
  let b = Buffer.from(base);
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % b.length;
    if (e.op === 'flip' && b.length > 0) b[at] = b[at]! ^ (1 << e.bit);
    else if (e.op === 'set' && b.length > 0) b[at] = e.byte;
    else if (e.op === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from([e.byte]), b.subarray(at)]);
    else if (e.op === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    else if (e.op === 'truncate') b = b.subarray(0, at);
    else if (e.op === 'splice') {
      const o = corpus[e.other % corpus.length]!;
      b = Buffer.concat([b.subarray(0, at), o.subarray(e.at % (o.length || 1))]);
    }
  }
  return b;
}

const mutated = () => fc.tuple(fc.nat(), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([i, edits]) => mutate(corpus[i % corpus.length]!, edits));
const randomBytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.uint8Array({ maxLength: 1400 }).map((a) => Buffer.from(a)),
  // Random bodies behind each dialect's first byte, so they get past detection.
  fc.tuple(fc.constantFrom(0x80, 0xa7, 0x50, 0x52), fc.uint8Array({ maxLength: 300 })).map(([h, a]) => Buffer.from([h, ...a])),
  fc.tuple(fc.constantFrom(1, 0), fc.uint8Array({ maxLength: 300 })).map(([f, a]) => Buffer.concat([Buffer.from([0xa7, 1, f]), Buffer.from(a)])),
);
const datagram = () => fc.oneof({ weight: 3, arbitrary: mutated() }, { weight: 1, arbitrary: randomBytes });
const source = (pool: number) => fc.nat(pool - 1).map((n) => ({ host: `192.0.2.${n % 250}`, port: 1024 + Math.floor(n / 250) }));

/** Invalid: no dialect reads it, or a native datagram whose MAC cannot verify (changed bytes), about a user with a key. */
function invalid(b: Buffer): boolean {
  const d = detectDialect(b);
  if (!d) return true;
  try {
    if (d === 'native') {
      const f = decodeNative(b);
      const name = (f.message as { name?: string }).name;
      return f.mac !== undefined && !corpus.some((c) => c.equals(b)) && name !== undefined && store.users.get(name)?.key !== undefined;
    }
    legacyDialects[d].decodeRequest(b);
    return false;
  } catch {
    return true;
  }
}

function expectBounded(): void {
  for (const [map, size] of Object.entries(server.guard.sizes())) expect(size, map).toBeLessThanOrEqual(MAX_TRACKED);
  expect((server as unknown as { replies: ReplyCache }).replies.size).toBeLessThanOrEqual(200_000);
  expect((server as unknown as { queue: KeyedQueue }).queue.active).toBe(0);
  // The only exception the core raises on input on purpose: a native request without a client id.
  const unexpected = problems.filter((p) => !String((p.obj as { err?: string }).err).includes('native request without a client id'));
  expect(unexpected).toEqual([]);
}

describe('fuzzing the server core and the decoders', () => {
  it('invalid datagrams change nothing, from any of a thousand sources', async () => {
    // What users received before is written now, not by the 200 ms flush in the middle of the comparison.
    await server.cursors.flush();
    const before = store.snapshot();
    const directory = JSON.stringify([...server.directory.all()]);
    const lease = { ...store.lease };
    let invalidFed = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(datagram(), source(1000)), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        for (const [b, from] of batch) {
          if (!invalid(b)) continue;
          deliver(b, from);
          fed++;
          invalidFed++;
        }
        await settle();
        out.length = 0;
        expect(store.snapshot()).toEqual(before);
      }),
      { numRuns: SERVER_RUNS },
    );
    expect(JSON.stringify([...server.directory.all()])).toBe(directory);
    expect(store.lease).toMatchObject({ holder: lease.holder, epoch: lease.epoch });
    expect(server.serving).toBe(true);
    expect(invalidFed).toBeGreaterThan(SERVER_RUNS * BATCH * 0.6);
    expectBounded();
  }, 60_000);

  it('any datagram, valid or not, from any of five thousand sources: no exception escapes, memory stays bounded, the server still answers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.oneof(datagram(), fc.constantFrom(...corpus)), source(5000)), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        for (const [b, from] of batch) {
          deliver(b, from);
          fed++;
        }
        await settle();
        out.length = 0;
        expectBounded();
      }),
      { numRuns: SERVER_RUNS },
    );
    expect(server.serving).toBe(true);
    // Padded as the client pads it: the reply is larger than three times an unpadded request (anti-amplification).
    // From loopback: with no peer secret configured, only loopback operators may ask for STATUS.
    await feed(encodeNativePadded({ type: 'STATUS', rq: 99 }, { cid: 'ops', ctr: ctrNow() }), { host: '127.0.0.1', port: 9 });
    expect(taken().map((o) => o.msg?.type)).toEqual(['STATUS-REPORT']);
  }, 60_000);

  it('every decoder returns a message or throws ProtocolError, never anything else', () => {
    fc.assert(
      fc.property(datagram(), (b) => {
        fed++;
        for (const decode of [decodeNative, legacyDialects.text.decodeRequest, legacyDialects.pickle.decodeRequest]) {
          try {
            decode(b);
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError);
          }
        }
      }),
      { numRuns: DECODER_RUNS },
    );
    // The issue asks for at least 100,000 datagrams in the CI run.
    expect(fed).toBeGreaterThanOrEqual(100_000);
    console.info(`fuzz: ${fed} datagrams`);
  }, 60_000);
});
