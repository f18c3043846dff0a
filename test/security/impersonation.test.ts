/**
 * Issue "Nobody can act as another user": requests about an authenticated
 * native user, sent from another socket in every dialect, are refused and
 * change nothing; a captured datagram replayed changes nothing either, on
 * the same server or on the other one after handoffs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RssClient } from '../../src/client/client';
import { decodeNative, encodeNative } from '../../src/protocol/native';
import type { Message } from '../../src/protocol/messages';
import { readPickle } from '../../src/protocol/pickle/reader';
import { writePickle, type PickleInput } from '../../src/protocol/pickle/writer';
import { openUdp } from '../../src/transport/udp';
import type { Transport } from '../../src/transport/types';
import { rawPeer, type RawPeer } from '../helpers/raw';
import { delay, startSystem, type TestSystem } from '../helpers/system';
import { owedTo } from '../helpers/owed';

let sys: TestSystem;
const peers: RawPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await sys.close();
});

/** A registered, validated native user `alice` following `news`, with a text owed to her. */
async function world(transport?: Transport) {
  sys = await startSystem();
  const alice = await sys.client(transport ? { transport } : {});
  const bob = await sys.client();
  await alice.register('alice');
  await bob.register('bob');
  await alice.subjects('alice', ['news']);
  await bob.subjects('bob', ['news']);
  await expect.poll(async () => (await (await sys.raw()).users.findOne({ _id: 'alice' }))?.addrOk).toBe(true);
  await alice.close(); // nobody acknowledges pushes: what bob publishes stays owed to alice
  await bob.publish('bob', 'news', 'owed to alice');
  const attacker = await rawPeer();
  peers.push(attacker);
  return { alice, bob, attacker };
}

/** Everything an attacker could change about alice. */
async function snapshot() {
  const store = await sys.raw();
  const user = await store.users.findOne({ _id: 'alice' });
  return { user, texts: await store.texts.countDocuments({ fenced: { $ne: true } }), owed: (await owedTo(sys.pair.a.server, 'alice')).length };
}

describe('acting as an authenticated user', () => {
  it('is refused in every dialect, from another socket, and changes nothing', async () => {
    const { alice, attacker } = await world();
    const before = await snapshot();
    expect(before.owed).toBe(1);
    const A = sys.servers[0];
    const forged: Message[] = [
      { type: 'UPDATE', rq: 1, name: 'alice', host: attacker.address.host, port: attacker.address.port },
      { type: 'SUBJECTS', rq: 2, name: 'alice', subjects: ['sport'] },
      { type: 'PUBLISH', rq: 3, name: 'alice', subject: 'news', text: 'forged' },
      { type: 'RETRIEVE-TEXTS', rq: 4, name: 'alice' },
      { type: 'DE-REGISTER', rq: 5, name: 'alice' },
      { type: 'REGISTER', rq: 6, name: 'alice', host: attacker.address.host, port: attacker.address.port },
    ];
    const ctr = () => Date.now() * 1000;
    for (const m of forged) {
      // Without a MAC (alice's client id is no secret), and with a MAC by a key that is not alice's.
      attacker.send(encodeNative(m, { cid: alice.cid, ctr: ctr() }), A);
      attacker.send(encodeNative(m, { cid: alice.cid, ctr: ctr() }, Buffer.alloc(32, 7)), A);
    }
    const native = (await attacker.take(forged.length * 2)).map((g) => decodeNative(g.bytes).message as Message & { reason?: string });
    expect(native).toHaveLength(forged.length * 2);
    for (const r of native) {
      expect(r.type).toMatch(/DENIED|REJECTED/);
      expect(r.reason === 'authentication failed' || r.reason === 'name already in use').toBe(true);
    }

    const text = ['UPDATE 7 alice 127.0.0.1 9', 'SUBJECTS 8 alice sport', 'PUBLISH 9 alice news forged', 'RETRIEVE-TEXTS 10 alice', 'DE-REGISTER 11 alice', 'REGISTER 12 alice 127.0.0.1 9'];
    for (const t of text) attacker.send(Buffer.from(t), A);
    // Each source's requests are answered in order: once the last one's denial is in, every answer is (DE-REGISTER has none).
    const textReplies = (await attacker.takeWhen((inbox) => inbox.some((g) => g.bytes.toString().startsWith('REGISTER-DENIED 12 ')), 'REGISTER-DENIED 12')).map((g) => g.bytes.toString());
    expect(textReplies.length).toBeGreaterThan(0);
    for (const r of textReplies) expect(r).toMatch(/^(UPDATE-DENIED|SUBJECTS-REJECTED|PUBLISH-DENIED|RETRIEVE-DENIED|REGISTER-DENIED) /);

    const pickles: PickleInput[] = [
      { TYPE: 'UPDATE-SOCKET', 'RQ#': 13, NAME: 'alice', IP: '127.0.0.1', PORT: 9 },
      { TYPE: 'SUBJECTS', 'RQ#': 14, NAME: 'alice', 'SUBJECT-LIST': 'sport' },
      { TYPE: 'PUBLISH', 'RQ#': 15, NAME: 'alice', SUBJECT: 'news', TEXT: 'forged' },
      { TYPE: 'RETRIEVE-TEXTS', 'RQ#': 16, NAME: 'alice' },
      { TYPE: 'DE-REGISTER', 'RQ#': 17, NAME: 'alice' },
    ];
    for (const p of pickles) attacker.send(writePickle(p), A);
    const pickleReplies = (await attacker.take(pickles.length)).map((g) => (readPickle(g.bytes) as { TYPE: string }).TYPE);
    expect(pickleReplies).toHaveLength(pickles.length);
    for (const t of pickleReplies) expect(t).toMatch(/DENIED/);

    expect(await snapshot()).toEqual(before);
    expect(sys.pair.a.server.directory.get('alice')).toMatchObject({ host: before.user!.host, port: before.user!.port, subjects: ['news'] });
    expect(sys.pair.a.server.status()).toMatchObject({ authFailed: forged.length });
  });

  it('a captured datagram replayed changes nothing, on the same server or after handoffs', async () => {
    // alice's datagrams are captured on their way out.
    const captured: { bytes: Buffer; type: string }[] = [];
    const udp = await openUdp({ host: '127.0.0.1', port: 0 });
    const spy: Transport = {
      send: (bytes, to) => {
        captured.push({ bytes: Buffer.from(bytes), type: decodeNative(bytes).message.type });
        udp.send(bytes, to);
      },
      onDatagram: (h) => udp.onDatagram(h),
      address: () => udp.address(),
      close: () => udp.close(),
    };
    sys = await startSystem();
    const alice: RssClient = await sys.client({ transport: spy });
    await alice.register('alice');
    await alice.subjects('alice', ['news']);
    await alice.publish('alice', 'news', 'once');
    await alice.who('alice');
    await alice.subjects('alice', ['sport', 'news']);
    const attacker = await rawPeer();
    peers.push(attacker);
    const of = (type: string) => captured.find((c) => c.type === type)!.bytes;
    const store = await sys.raw();
    const users = async () => (await store.users.findOne({ _id: 'alice' }))!.subjects;
    // Fence documents (numbers left at a handoff, see Store.fenceSeqs) are no texts.
    const texts = () => store.texts.countDocuments({ fenced: { $ne: true } });
    expect(await texts()).toBe(1);

    // Same server: a replay is a retransmission as far as the bytes go: answered from the reply cache, never executed again.
    for (const t of ['SUBJECTS', 'PUBLISH', 'WHO']) attacker.send(of(t), sys.servers[0]);
    expect(await attacker.take(3)).toHaveLength(3);
    expect(await users()).toEqual(['sport', 'news']);
    expect(await texts()).toBe(1);

    // Two handoffs: A's memory is gone; the window starts from the persisted high-water mark.
    await sys.pair.a.server.handoff();
    await expect.poll(() => sys.pair.b.server.serving).toBe(true);
    await sys.pair.b.server.handoff();
    await expect.poll(() => sys.pair.a.server.serving).toBe(true);
    attacker.send(of('WHO'), sys.servers[0]);
    attacker.send(of('PUBLISH'), sys.servers[0]);
    attacker.send(of('SUBJECTS'), sys.servers[0]);
    const replies = (await attacker.take(3)).map((g) => decodeNative(g.bytes).message as Message & { reason?: string });
    // WHO is not recorded in the store: its replay is refused as stale.
    expect(replies.find((r) => r.type === 'WHO-DENIED' || r.type === 'WHO-LIST')).toMatchObject({ type: 'WHO-DENIED', reason: 'stale counter' });
    expect(await users()).toEqual(['sport', 'news']);
    expect(await texts()).toBe(1);
    // alice herself carries on (a stale counter of hers would be re-sealed by her client).
    await expect(alice.publish('alice', 'news', 'twice')).resolves.toMatchObject({ type: 'PUBLISHED' });
    expect(await texts()).toBe(2);
    await delay(10);
  });
});
