import { afterEach, describe, expect, it } from 'vitest';
import { RssClient, type ReceivedText } from '../../src/client/client';
import { DeniedError, TimeoutError } from '../../src/errors';
import { LIMITS } from '../../src/protocol/limits';
import { DENIAL_REASONS } from '../../src/protocol/messages';
import { decodeNative } from '../../src/protocol/native';
import type { Transport } from '../../src/transport/types';
import { openUdp } from '../../src/transport/udp';
import { FakeClock } from '../../src/util/clock';
import { MemoryKeyRing } from '../../src/client/keys';
import { autoAnswer, FakeServer, fakeKeys, text, type Received } from './fake-server';

const FAST = { ackTimeoutMs: 50, maxWaitMs: 200, exchangeLifetimeMs: 3000 };
/** Distinct requests among received datagrams (a loaded machine may add retransmissions). */
const distinct = (rs: Received[]) => new Set(rs.map((r) => r.bytes.toString('hex'))).size;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((c) => c()));
});

async function world(policy: object = FAST) {
  const a = await FakeServer.open();
  const b = await FakeServer.open();
  const client = await RssClient.open({ servers: [a.address, b.address], bind: { host: '127.0.0.1', port: 0 }, policy });
  cleanup.push(() => client.close(), () => a.close(), () => b.close());
  return { a, b, client };
}

describe('RssClient requests', () => {
  it('sends its first request to both servers and adopts the one that answers', async () => {
    const { a, b, client } = await world();
    autoAnswer(b);
    const changes: string[] = [];
    client.on('server', (c) => changes.push(`${c.tag}:${c.reason}`));
    const reply = await client.register('bob');
    expect(reply).toMatchObject({ type: 'REGISTERED', name: 'bob' });
    expect(distinct(a.of('REGISTER'))).toBe(1);
    expect(distinct(b.of('REGISTER'))).toBe(1);
    expect(client.currentServer).toEqual(b.address);
    expect(changes).toEqual(['B:reply']);
    // Later requests go to the current server only.
    await client.subjects('bob', ['news']);
    expect(a.of('SUBJECTS')).toHaveLength(0);
    expect(distinct(b.of('SUBJECTS'))).toBe(1);
  });

  it('registers the wildcard 0.0.0.0 when bound to it, the socket address otherwise', async () => {
    const { b, client } = await world();
    autoAnswer(b);
    await client.register('bob');
    expect(b.of('REGISTER').find((r) => r.message.name === 'bob')!.message).toMatchObject({ host: '127.0.0.1', port: client.localAddress.port });
    const wild = await RssClient.open({ servers: [b.address, b.address], policy: FAST });
    cleanup.push(() => wild.close());
    await wild.register('carol');
    expect(b.of('REGISTER').find((r) => r.message.name === 'carol')!.message).toMatchObject({ host: '0.0.0.0', port: wild.localAddress.port });
  });

  it('retransmits the identical bytes (same rq and ctr) until answered', async () => {
    const { b, client } = await world();
    b.onMessage = (r) => {
      if (b.received.length === 3) b.answer(r, { type: 'WHO-LIST', name: 'bob', users: [{ name: 'al', online: true }] });
    };
    const reply = await client.who('bob');
    expect(reply.users).toEqual([{ name: 'al', online: true }]);
    const copies = b.of('WHO');
    expect(copies).toHaveLength(3);
    expect(new Set(copies.map((c) => c.bytes.toString('hex'))).size).toBe(1);
    expect(copies[0]!.envelope).toMatchObject({ cid: client.cid });
  });

  it('after two silent tries to the current server, retransmits to both', async () => {
    const { a, b, client } = await world();
    autoAnswer(a);
    await client.status();
    expect(client.currentServer).toEqual(a.address);
    // A hands over silently (its CHANGE-SERVER was lost); B serves now.
    a.onMessage = undefined;
    autoAnswer(b);
    const before = a.received.length;
    await client.who('bob');
    const toA = a.received.slice(before);
    expect(toA.length).toBeGreaterThanOrEqual(3); // two silent tries, then retransmissions to both
    expect(distinct(toA)).toBe(1);
    expect(b.of('WHO')[0]!.bytes).toEqual(toA[0]!.bytes);
    expect(client.currentServer).toEqual(b.address);
  });

  it('drops replies from strangers and replies to no pending rq', async () => {
    const { b, client } = await world();
    const stranger = await FakeServer.open();
    cleanup.push(() => stranger.close());
    b.onMessage = (r) => {
      if (r.message.type !== 'STATUS' || b.received.length > 1) return;
      const rq = r.message.rq!;
      stranger.send({ type: 'STATUS-REPORT', rq, status: { forged: true } }, r.from);
      b.send({ type: 'STATUS-REPORT', rq: rq + 7, status: { wrongRq: true } }, r.from);
      b.send({ type: 'REGISTERED', rq, name: 'x' }, r.from); // wrong type for this rq
      setTimeout(() => b.answer(r, { type: 'STATUS-REPORT', status: { real: true } }), 80);
    };
    const reply = await client.status();
    expect(reply.status).toEqual({ real: true });
  });

  it('rejects a denial with DeniedError carrying the reply', async () => {
    const { b, client } = await world();
    autoAnswer(b, (r) => ({ type: 'REGISTER-DENIED', name: r.message.name, reason: 'USERNAME ALREADY EXISTS' }));
    const err = await client.register('bob').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeniedError);
    expect((err as DeniedError).reply).toMatchObject({ type: 'REGISTER-DENIED', reason: 'USERNAME ALREADY EXISTS' });
    expect((err as DeniedError).message).toBe('USERNAME ALREADY EXISTS');
  });

  it('registers afresh when the servers forgot the name its key is for (their store started empty), and keeps the key on any other denial', async () => {
    const keys = new MemoryKeyRing();
    const stale = Buffer.alloc(32, 7);
    keys.set('bob', stale);
    keys.set('ann', stale);
    // The servers hold no key for either name (an earlier test's registration would MAC their denials).
    fakeKeys.delete('bob');
    fakeKeys.delete('ann');
    const a = await FakeServer.open();
    const client = await RssClient.open({ servers: [a.address], bind: { host: '127.0.0.1', port: 0 }, policy: FAST, keys });
    cleanup.push(() => client.close(), () => a.close());
    // Like the real server: a keyed REGISTER for a name it does not know is refused, a REGISTER with a public key is taken.
    autoAnswer(a, (r) => {
      const m = r.message as { name: string; pub?: string };
      if (m.name === 'ann') return { type: 'REGISTER-DENIED', name: m.name, reason: m.pub ? 'name already in use' : DENIAL_REASONS.needKey };
      return m.pub ? undefined : { type: 'REGISTER-DENIED', name: m.name, reason: DENIAL_REASONS.needKey };
    });
    await client.register('bob');
    expect(keys.get('bob')).toEqual(fakeKeys.get('bob'));
    expect(keys.get('bob')).not.toEqual(stale);
    // A refused fresh registration (the name is someone else's now) leaves the key held as it was.
    await expect(client.register('ann')).rejects.toThrow('name already in use');
    expect(keys.get('ann')).toEqual(stale);
    expect(a.of('REGISTER').map((r) => (r.message as { pub?: string }).pub !== undefined)).toEqual([false, true, false, true]);
  });

  it('rejects with TimeoutError when no server answers', async () => {
    const { client } = await world({ ackTimeoutMs: 10, maxWaitMs: 20, exchangeLifetimeMs: 200 });
    const started = Date.now();
    const err = await client.status().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe('RSS_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('retrieve asks until an answer is empty, each ask saying what the answers before it brought (seen)', async () => {
    const { b, client } = await world();
    const owed = [text(1), text(2), text(3)];
    autoAnswer(b, (r) => {
      if (r.message.type !== 'RETRIEVE-TEXTS') return undefined;
      if (r.message.last !== undefined) return { type: 'RETRIEVED', name: 'bob', texts: owed.slice(-r.message.last), more: false };
      const seen = r.message.seen ?? 0;
      const texts = owed.filter((t) => t.seq > seen).slice(0, 2);
      return { type: 'RETRIEVED', name: 'bob', texts, more: texts.length === 2 };
    });
    const reply = await client.retrieve('bob');
    expect(reply.texts.map((t) => t.seq)).toEqual([1, 2, 3]);
    expect(reply.more).toBe(false);
    expect(b.of('RETRIEVE-TEXTS').map((r) => (r.message as { seen?: number }).seen)).toEqual([0, 2, 3]);
    const last = await client.retrieve('bob', { last: 5 });
    expect(b.of('RETRIEVE-TEXTS').at(-1)!.message).toMatchObject({ last: 5 });
    expect(last.texts.map((t) => t.seq)).toEqual([1, 2, 3]);
  });

  it('retrieve: a later ask that fails returns what came so far (the server counts it shown), more: true', async () => {
    const { b, client } = await world({ ackTimeoutMs: 10, maxWaitMs: 20, exchangeLifetimeMs: 300 });
    b.onMessage = (r) => {
      // The first ask is answered; the one that says those texts were shown never is.
      if (r.message.type === 'RETRIEVE-TEXTS' && !r.message.seen) b.answer(r, { type: 'RETRIEVED', name: 'bob', texts: [text(1), text(2)], more: false });
    };
    const reply = await client.retrieve('bob');
    expect(reply.texts.map((t) => t.seq)).toEqual([1, 2]);
    expect(reply.more).toBe(true);
    expect(client.lastShown('bob')).toBe(2);
  });

  it('asks for a reply in several parts and assembles them in part order, a lost part recovered by retransmission', async () => {
    const { b, client } = await world();
    let answered = 0;
    b.onMessage = (r) => {
      if (r.message.type !== 'RETRIEVE-TEXTS') return;
      // The ask that says all five were shown: nothing more.
      if (r.message.seen === 5) return b.answer(r, { type: 'RETRIEVED', name: 'bob', texts: [], more: false });
      answered++;
      const part = (n: number, texts: ReturnType<typeof text>[]) =>
        b.answer(r, { type: 'RETRIEVED', name: 'bob', texts, more: false, part: n, parts: 3 });
      // First transmission: parts 2 and 0 only (part 1 is lost); the retransmission gets all three.
      part(2, [text(5)]);
      if (answered > 1) part(1, [text(3), text(4)]);
      part(0, [text(1), text(2)]);
    };
    const reply = await client.retrieve('bob');
    expect((b.of('RETRIEVE-TEXTS')[0]!.message as { parts?: number }).parts).toBe(LIMITS.maxRetrieveParts);
    expect(reply.texts.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(answered).toBeGreaterThanOrEqual(2);
    expect(reply).not.toHaveProperty('parts');
  });

  it('never mixes parts of two executions of one request: a part of another answer starts the assembly again', async () => {
    const { b, client } = await world();
    let answered = 0;
    b.onMessage = (r) => {
      if (r.message.type !== 'RETRIEVE-TEXTS') return;
      if (r.message.seen === 5) return b.answer(r, { type: 'RETRIEVED', name: 'bob', texts: [], more: false });
      answered++;
      const part = (answer: number, n: number, texts: ReturnType<typeof text>[]) =>
        b.answer(r, { type: 'RETRIEVED', name: 'bob', texts, more: false, part: n, parts: 2, answer });
      // The first execution's part 1 is lost (its server died); the request ran again and answered differently.
      if (answered === 1) part(7, 0, [text(1), text(2)]);
      else {
        part(8, 1, [text(5)]);
        part(8, 0, [text(3), text(4)]);
      }
    };
    const reply = await client.retrieve('bob');
    expect(reply.texts.map((t) => t.seq)).toEqual([3, 4, 5]);
  });

  it('close() rejects pending calls and releases the socket', async () => {
    const { client } = await world();
    const port = client.localAddress.port;
    const pending = client.status();
    await client.close();
    await expect(pending).rejects.toMatchObject({ code: 'RSS_CLOSED' });
    const again = await openUdp({ host: '127.0.0.1', port });
    await again.close();
  });
});

describe('RssClient pushes', () => {
  async function registered() {
    const w = await world();
    autoAnswer(w.b);
    await w.client.register('bob');
    const shown: ReceivedText[] = [];
    w.client.on('message', (t) => shown.push(t));
    return { ...w, shown };
  }

  it('acknowledges every MESSAGE, shows each seq once and in order', async () => {
    const { b, client, shown } = await registered();
    const to = client.localAddress;
    for (const seq of [5, 5, 9, 7, 12, 9]) b.send({ type: 'MESSAGE', ...text(seq) }, to);
    await expect.poll(() => b.of('ACK').length).toBe(6);
    expect(b.of('ACK').map((r) => r.message)).toEqual([5, 5, 9, 7, 12, 9].map((seq) => ({ type: 'ACK', name: 'bob', seq })));
    expect(shown.map((t) => t.seq)).toEqual([5, 9, 12]);
    expect(shown[0]).toMatchObject({ to: 'bob', from: 'alice', subject: 'news', text: 'text 5' });
  });

  it('a message listener that throws cannot take the client down: caught, counted, and the next text is shown', async () => {
    const { b, client, shown } = await registered();
    client.prependListener('message', (t) => {
      if (t.seq === 5) throw new Error('the application failed on text 5');
    });
    const to = client.localAddress;
    b.send({ type: 'MESSAGE', ...text(5) }, to);
    b.send({ type: 'MESSAGE', ...text(6) }, to);
    await expect.poll(() => shown.map((t) => t.seq)).toEqual([6]);
    expect(client.listenerErrors).toBe(1);
    expect(b.of('ACK')).toHaveLength(2);
  });

  it('ignores pushes from strangers', async () => {
    const { b, client, shown } = await registered();
    const stranger = await FakeServer.open();
    cleanup.push(() => stranger.close());
    stranger.send({ type: 'MESSAGE', ...text(3) }, client.localAddress);
    b.send({ type: 'MESSAGE', ...text(4) }, client.localAddress);
    await expect.poll(() => shown.length).toBe(1);
    expect(shown[0]!.seq).toBe(4);
    expect(stranger.received).toHaveLength(0);
  });

  it('listen() gap-fills, buffering pushes that arrive meanwhile and merging them in order', async () => {
    const { b, client, shown } = await registered();
    const rounds: number[] = [];
    b.onMessage = (r) => {
      if (r.message.type !== 'RETRIEVE-TEXTS' || rounds.includes(r.message.rq!)) return; // retransmissions: answered late
      rounds.push(r.message.rq!);
      if (rounds.length === 1) {
        // Pushes racing the retrieve: a newer one and one the retrieve also returns.
        b.send({ type: 'MESSAGE', ...text(10) }, r.from);
        b.send({ type: 'MESSAGE', ...text(4) }, r.from);
        setTimeout(() => b.answer(r, { type: 'RETRIEVED', name: 'bob', texts: [text(3), text(4), text(8)], more: true }), 80);
      } else {
        b.answer(r, { type: 'RETRIEVED', name: 'bob', texts: [], more: false });
      }
    };
    await client.listen('bob');
    expect(shown.map((t) => t.seq)).toEqual([3, 4, 8, 10]);
    expect(client.lastShown('bob')).toBe(10);
  });

  it('follows CHANGE-SERVER between the known servers and gap-fills after it', async () => {
    const { a, b, client } = await registered();
    autoAnswer(a);
    await client.listen('bob');
    const events: string[] = [];
    client.on('server', (c) => events.push(`${c.tag}:${c.reason}`));
    const since = a.received.length;
    b.send({ type: 'CHANGE-SERVER', host: a.address.host, port: a.address.port, tag: 'A', epoch: 2 }, client.localAddress);
    await a.nextOf('RETRIEVE-TEXTS', since);
    expect(client.currentServer).toEqual(a.address);
    expect(events).toEqual(['A:change-server']);
    const bBefore = b.of('STATUS').length;
    await client.status();
    expect(b.of('STATUS')).toHaveLength(bBefore);
    // A stale (lower epoch) change back to B is ignored.
    a.send({ type: 'CHANGE-SERVER', host: b.address.host, port: b.address.port, epoch: 1 }, client.localAddress);
    await client.status();
    expect(client.currentServer).toEqual(a.address);
  });

  it('believes a CHANGE-SERVER only for an epoch known to be current: an old captured one moves neither a fresh nor a served client', async () => {
    const { a, b, client } = await registered();
    // A fresh client (its only reply, REGISTERED, came from B at epoch 1): a captured change of epoch 0 is stale.
    b.send({ type: 'CHANGE-SERVER', host: a.address.host, port: a.address.port, tag: 'A', epoch: 0 }, client.localAddress);
    await client.status();
    expect(client.currentServer).toEqual(b.address);
    // A fresh listener holding bob's key has received no MACed reply yet, so it knows no epoch: even a
    // well-MACed change (say, captured at an earlier handoff) does not move it.
    const keys = new MemoryKeyRing();
    keys.set('bob', fakeKeys.get('bob')!);
    const fresh = await RssClient.open({ servers: [a.address, b.address], bind: { host: '127.0.0.1', port: 0 }, policy: { ackTimeoutMs: 60 }, keys });
    cleanup.push(() => fresh.close());
    b.send({ type: 'CHANGE-SERVER', host: a.address.host, port: a.address.port, tag: 'A', epoch: 5 }, fresh.localAddress);
    // Had it moved to A (which stays silent), this would go to A alone and never be answered.
    await fresh.status();
    expect(fresh.currentServer).toEqual(b.address);
  });

  it('ignores a CHANGE-SERVER forged by a stranger or pointing to an unknown address', async () => {
    const { a, b, client } = await registered();
    const stranger = await FakeServer.open();
    cleanup.push(() => stranger.close());
    stranger.send({ type: 'CHANGE-SERVER', host: a.address.host, port: a.address.port }, client.localAddress);
    stranger.send({ type: 'CHANGE-SERVER', host: stranger.address.host, port: stranger.address.port }, client.localAddress);
    b.send({ type: 'CHANGE-SERVER', host: stranger.address.host, port: stranger.address.port }, client.localAddress);
    await client.status(); // a round trip to B: the three datagrams were handled before its answer
    expect(client.currentServer).toEqual(b.address);
    expect(stranger.received).toHaveLength(0);
  });

  it('UPDATE-SERVER from a known server replaces that server address', async () => {
    const { a, b, client } = await registered();
    const newA = await FakeServer.open();
    cleanup.push(() => newA.close());
    autoAnswer(newA);
    const updates: number[] = [];
    client.on('servers-updated', (s) => updates.push(s[0].port));
    b.send({ type: 'UPDATE-SERVER', host: newA.address.host, port: newA.address.port, tag: 'A' }, client.localAddress);
    await expect.poll(() => updates).toEqual([newA.address.port]);
    b.send({ type: 'CHANGE-SERVER', host: newA.address.host, port: newA.address.port, tag: 'A', epoch: 2 }, client.localAddress);
    await expect.poll(() => client.currentServer).toEqual(newA.address);
    await client.status();
    expect(distinct(newA.of('STATUS'))).toBe(1);
    expect(a.of('STATUS')).toHaveLength(0);
  });
});

describe('RssClient silence', () => {
  it('a listening client asks for missed texts after a silence, and not before', async () => {
    const b = await FakeServer.open();
    autoAnswer(b);
    const clock = new FakeClock();
    // What the client sends, seen as it sends it: the silence timer's request goes out within clock.advance.
    const udp = await openUdp({ host: '127.0.0.1' });
    const sent: { type: string; hex: string }[] = [];
    const transport: Transport = {
      send: (bytes, to) => {
        sent.push({ type: decodeNative(Buffer.from(bytes)).message.type, hex: Buffer.from(bytes).toString('hex') });
        udp.send(bytes, to);
      },
      onDatagram: (h) => udp.onDatagram(h),
      address: () => udp.address(),
      close: () => udp.close(),
    };
    /** Distinct RETRIEVE-TEXTS requests sent (a first request goes to both servers). */
    const retrieves = () => new Set(sent.filter((d) => d.type === 'RETRIEVE-TEXTS').map((d) => d.hex)).size;
    const client = await RssClient.open({ servers: [b.address, b.address], transport, clock, policy: { listenSilenceMs: 30_000 } });
    cleanup.push(() => client.close(), () => b.close());
    await client.listen('bob');
    expect(retrieves()).toBe(1);
    clock.advance(29_999);
    await client.status(); // traffic re-arms the silence timer
    clock.advance(29_999);
    expect(retrieves()).toBe(1);
    clock.advance(1);
    expect(retrieves()).toBe(2);
    await b.nextOf('RETRIEVE-TEXTS', b.received.indexOf(b.of('RETRIEVE-TEXTS').at(-1)!) + 1);
    expect(distinct(b.of('RETRIEVE-TEXTS'))).toBe(2);
    client.unlisten('bob');
    await expect.poll(() => clock.pending).toBe(0); // the fill's exchange finished, no silence timer left
  });
});

describe('RssClient in a ring of servers', () => {
  const ringOf = (...servers: FakeServer[]) => servers.map((s, i) => ({ tag: 'ABC'[i]!, host: s.address.host, port: s.address.port }));

  it('given three servers, asks all three first and adopts the one that answers', async () => {
    const [a, b, c] = [await FakeServer.open(), await FakeServer.open(), await FakeServer.open()];
    const client = await RssClient.open({ servers: [a.address, b.address, c.address], bind: { host: '127.0.0.1', port: 0 }, policy: FAST });
    cleanup.push(() => client.close(), () => a.close(), () => b.close(), () => c.close());
    autoAnswer(c);
    await client.status();
    expect([a, b, c].map((s) => distinct(s.of('STATUS')))).toEqual([1, 1, 1]);
    expect(client.currentServer).toEqual(c.address);
    await client.status();
    expect([a, b, c].map((s) => distinct(s.of('STATUS')))).toEqual([1, 1, 2]);
  });

  it('learns the ring from its MACed REGISTERED and follows CHANGE-SERVER to the third server', async () => {
    const { a, b, client } = await world();
    const c = await FakeServer.open();
    cleanup.push(() => c.close());
    autoAnswer(b, (r) => (r.message.type === 'REGISTER' ? { type: 'REGISTERED', name: r.message.name, ring: ringOf(a, b, c) } : undefined));
    autoAnswer(c);
    const updates: number[] = [];
    const rings: number[] = [];
    client.on('servers-updated', (s) => updates.push(s.length));
    client.on('ring', (s) => rings.push(s.length));
    await client.register('bob');
    expect(client.servers).toEqual([a.address, b.address, c.address]);
    expect(updates).toEqual([3]);
    expect(rings).toEqual([3]);
    b.send({ type: 'CHANGE-SERVER', host: c.address.host, port: c.address.port, tag: 'C', epoch: 2 }, client.localAddress);
    await expect.poll(() => client.currentServer).toEqual(c.address);
    await client.status();
    expect(distinct(c.of('STATUS'))).toBe(1);
  });

  it('a server it does not know yet may redirect it only with a MACed ring list naming that server', async () => {
    const { a, b, client } = await world();
    autoAnswer(b);
    await client.register('bob');
    const c = await FakeServer.open();
    cleanup.push(() => c.close());
    autoAnswer(c);
    const change = { type: 'CHANGE-SERVER' as const, host: c.address.host, port: c.address.port, tag: 'C', epoch: 3 };
    // Unsigned, or without a ring naming C: dropped.
    c.send({ ...change, ring: ringOf(a, b, c) }, client.localAddress, { key: null });
    c.send(change, client.localAddress);
    await client.status();
    expect(client.currentServer).toEqual(b.address);
    expect(client.servers).toHaveLength(2);
    // MACed with bob's key, with the ring: the client learns C and follows it.
    c.send({ ...change, ring: ringOf(a, b, c) }, client.localAddress);
    await expect.poll(() => client.currentServer).toEqual(c.address);
    expect(client.servers).toEqual([a.address, b.address, c.address]);
  });
});
