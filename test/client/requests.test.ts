/**
 * The rules by which Exchanges.accept takes a reply (src/client/requests.ts),
 * one test each, on a FakeClock: which pending request it answers, its
 * authentication, a stale counter's reseal, what a checked MAC teaches, and
 * answers in several parts.
 */
import { describe, expect, it } from 'vitest';
import { DeniedError } from '../../src/errors';
import { deriveUserKey, newAgreementKeys } from '../../src/protocol/auth';
import { LIMITS } from '../../src/protocol/limits';
import { DENIAL_REASONS, type Message, type Request } from '../../src/protocol/messages';
import { decodeNative, encodeNative, type NativeEnvelope } from '../../src/protocol/native';
import { exchangesOnFakeClock } from './exchanges';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);

/** An Exchanges table whose client holds bob's key, and the request it sent last, decoded. */
function world(more: Parameters<typeof exchangesOnFakeClock>[2] = {}) {
  const w = exchangesOnFakeClock(undefined, undefined, more);
  w.keys.set('bob', KEY);
  const last = () => {
    const frame = decodeNative(w.sent.at(-1)!.bytes);
    return { frame, msg: frame.message as Request & { rq: number }, ctr: frame.envelope.ctr! };
  };
  /** A reply as the server would send it: the request's ctr echoed, MACed with `key` when given. */
  const reply = (message: Message, envelope: NativeEnvelope, key?: Buffer) => decodeNative(encodeNative(message, envelope, key));
  return { ...w, last, reply };
}

/** Whether the call has settled, and how. */
function watch(call: Promise<unknown>) {
  const state: { settled: boolean; value?: unknown; error?: unknown } = { settled: false };
  call.then((value) => Object.assign(state, { settled: true, value }), (error: unknown) => Object.assign(state, { settled: true, error }));
  return state;
}

describe('Exchanges.accept: which request a reply answers', () => {
  it('DENIED answers any request type; another RQ# or a type that answers something else is dropped, not counted as forged', async () => {
    const { ex, last, reply } = world();
    const call = ex.request({ type: 'WHO', name: 'bob' });
    const { msg, ctr } = last();
    expect(ex.accept(reply({ type: 'PUBLISHED', rq: msg.rq, name: 'bob', subject: 's', text: 't', seq: 1 }, { ctr }, KEY))).toBe(false);
    expect(ex.accept(reply({ type: 'WHO-LIST', rq: msg.rq + 1, name: 'bob', users: [] }, { ctr }, KEY))).toBe(false);
    expect(ex.forgedReplies).toBe(0);
    expect(ex.accept(reply({ type: 'DENIED', rq: msg.rq, reason: 'rate limit exceeded' }, { ctr }, KEY))).toBe(true);
    await expect(call).rejects.toBeInstanceOf(DeniedError);
  });
});

describe('Exchanges.accept: authentication', () => {
  it('a REGISTER with a key agreement: the REGISTERED MACed with the derived key gives the user key', async () => {
    const { ex, keys, last, reply } = world();
    const call = ex.request({ type: 'REGISTER', name: 'carol', host: '127.0.0.1', port: 2000 });
    const { msg, ctr } = last();
    const clientPub = (msg as { pub: string }).pub;
    const server = newAgreementKeys();
    const key = deriveUserKey(server, clientPub, clientPub, server.pub, 'carol')!;
    expect(ex.accept(reply({ type: 'REGISTERED', rq: msg.rq, name: 'carol', pub: server.pub }, { ctr }, key))).toBe(true);
    await expect(call).resolves.toMatchObject({ type: 'REGISTERED', name: 'carol' });
    expect(keys.get('carol')).toEqual(key);
  });

  it('a REGISTERED without a usable server key, or for another name, is forged: no key kept, the call waits', () => {
    const { ex, keys, last, reply } = world();
    const call = watch(ex.request({ type: 'REGISTER', name: 'carol', host: '127.0.0.1', port: 2000 }));
    const { msg, ctr } = last();
    const clientPub = (msg as { pub: string }).pub;
    const server = newAgreementKeys();
    const key = deriveUserKey(server, clientPub, clientPub, server.pub, 'dave')!;
    expect(ex.accept(reply({ type: 'REGISTERED', rq: msg.rq, name: 'carol' }, { ctr }, key))).toBe(false);
    expect(ex.accept(reply({ type: 'REGISTERED', rq: msg.rq, name: 'dave', pub: server.pub }, { ctr }, key))).toBe(false);
    expect(ex.forgedReplies).toBe(2);
    expect(keys.names()).toEqual(['bob']);
    expect(call.settled).toBe(false);
    ex.close();
  });

  it('a MACed request: a reply echoing another ctr is forged', () => {
    const { ex, last, reply } = world();
    const call = watch(ex.request({ type: 'WHO', name: 'bob' }));
    const { msg, ctr } = last();
    expect(ex.accept(reply({ type: 'WHO-LIST', rq: msg.rq, name: 'bob', users: [] }, { ctr: ctr - 1 }, KEY))).toBe(false);
    expect(ex.forgedReplies).toBe(1);
    expect(call.settled).toBe(false);
    ex.close();
  });

  it('a MACed request: a success reply with a bad MAC or none is forged; a denial without a MAC is believed', async () => {
    const { ex, last, reply } = world();
    const call = ex.request({ type: 'WHO', name: 'bob' });
    const { msg, ctr } = last();
    expect(ex.accept(reply({ type: 'WHO-LIST', rq: msg.rq, name: 'bob', users: [] }, { ctr }, OTHER_KEY))).toBe(false);
    expect(ex.accept(reply({ type: 'WHO-LIST', rq: msg.rq, name: 'bob', users: [] }, { ctr }))).toBe(false);
    // A denial with a MAC must carry the right one.
    expect(ex.accept(reply({ type: 'WHO-DENIED', rq: msg.rq, name: 'bob', reason: 'x' }, { ctr }, OTHER_KEY))).toBe(false);
    expect(ex.forgedReplies).toBe(3);
    expect(ex.accept(reply({ type: 'WHO-DENIED', rq: msg.rq, name: 'bob', reason: DENIAL_REASONS.auth }, { ctr }))).toBe(true);
    await expect(call).rejects.toMatchObject({ reply: { reason: DENIAL_REASONS.auth } });
  });
});

describe('Exchanges.accept: stale counter', () => {
  it('is sealed afresh and sent again (a new ctr), up to three times; the fourth denial fails the call', async () => {
    const { ex, sent, last, reply } = world();
    const call = ex.request({ type: 'WHO', name: 'bob' });
    const ctrs = [last().ctr];
    for (let i = 0; i < 3; i++) {
      const { msg, ctr } = last();
      const before = sent.length;
      expect(ex.accept(reply({ type: 'DENIED', rq: msg.rq, reason: DENIAL_REASONS.staleCounter }, { ctr }))).toBe(true);
      expect(sent.length).toBeGreaterThan(before);
      expect(last().msg).toEqual(msg);
      ctrs.push(last().ctr);
    }
    expect(new Set(ctrs).size).toBe(4);
    expect(ctrs).toEqual([...ctrs].sort((x, y) => x - y));
    const { msg, ctr } = last();
    expect(ex.accept(reply({ type: 'DENIED', rq: msg.rq, reason: DENIAL_REASONS.staleCounter }, { ctr }))).toBe(true);
    await expect(call).rejects.toMatchObject({ reply: { reason: DENIAL_REASONS.staleCounter } });
  });
});

describe('Exchanges.accept: what a checked MAC teaches', () => {
  it('the epoch only from a MACed reply', async () => {
    const epochs: number[] = [];
    const { ex, last, reply } = world({ epochSeen: (ep) => void epochs.push(ep) });
    const denied = ex.request({ type: 'WHO', name: 'bob' });
    let { msg, ctr } = last();
    ex.accept(reply({ type: 'WHO-DENIED', rq: msg.rq, name: 'bob', reason: 'x' }, { ctr, ep: 99 }));
    await expect(denied).rejects.toBeInstanceOf(DeniedError);
    expect(epochs).toEqual([]);
    const answered = ex.request({ type: 'WHO', name: 'bob' });
    ({ msg, ctr } = last());
    ex.accept(reply({ type: 'WHO-LIST', rq: msg.rq, name: 'bob', users: [] }, { ctr, ep: 7 }, KEY));
    await answered;
    expect(epochs).toEqual([7]);
  });

  it('pv: the user asks from its proven address, so its next requests go unpadded, until a retransmission', async () => {
    const { ex, clock, sent, last, reply } = world();
    const first = ex.request({ type: 'WHO', name: 'bob' });
    expect(sent.at(-1)!.bytes.length).toBeGreaterThanOrEqual(LIMITS.minNativeRequest);
    let { msg, ctr } = last();
    ex.accept(reply({ type: 'WHO-LIST', rq: msg.rq, name: 'bob', users: [] }, { ctr, pv: 1 }, KEY));
    await first;
    expect(ex.provenUsers.has('bob')).toBe(true);
    const second = watch(ex.request({ type: 'WHO', name: 'bob' }));
    expect(sent.at(-1)!.bytes.length).toBeLessThan(LIMITS.minNativeRequest);
    // No answer: the retransmission forgets the proof, and the request after it is padded again.
    clock.advance(300);
    expect(ex.provenUsers.has('bob')).toBe(false);
    ({ msg, ctr } = last());
    ex.accept(reply({ type: 'WHO-LIST', rq: msg.rq, name: 'bob', users: [] }, { ctr }, KEY));
    await Promise.resolve();
    expect(second.settled).toBe(true);
    void ex.request({ type: 'WHO', name: 'bob' }).catch(() => {});
    expect(sent.at(-1)!.bytes.length).toBeGreaterThanOrEqual(LIMITS.minNativeRequest);
    ex.close();
  });
});

describe('Exchanges.accept: answers in several parts', () => {
  it('a part numbered beyond its parts is forged; the parts settle the call only once all are in', async () => {
    const { ex, last, reply } = world();
    const call = watch(ex.request({ type: 'RETRIEVE-TEXTS', name: 'bob', parts: 16 }));
    const { msg, ctr } = last();
    const text = (seq: number) => ({ seq, from: 'alice', subject: 'news', text: `t${seq}`, at: seq });
    const part = (n: number, parts: number) => reply({ type: 'RETRIEVED', rq: msg.rq, name: 'bob', texts: [text(n + 1)], more: false, part: n, parts, answer: 1 }, { ctr }, KEY);
    expect(ex.accept(part(2, 2))).toBe(false);
    expect(ex.forgedReplies).toBe(1);
    expect(ex.accept(part(1, 2))).toBe(true);
    await Promise.resolve();
    expect(call.settled).toBe(false);
    expect(ex.accept(part(0, 2))).toBe(true);
    await Promise.resolve();
    expect(call.value).toMatchObject({ type: 'RETRIEVED', texts: [text(1), text(2)] });
  });
});
