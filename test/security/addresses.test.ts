/**
 * Issue "a REGISTER with a forged address makes the server push texts at a
 * victim (reflection)": a new address gets nothing but a small CHALLENGE
 * until it proves it receives there, and never more than three times the
 * bytes that were sent from it or that named it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryKeyRing } from '../../src/client/keys';
import { deriveUserKey, newAgreementKeys } from '../../src/protocol/auth';
import { decodeNative, encodeNative } from '../../src/protocol/native';
import type { Message } from '../../src/protocol/messages';
import { rawPeer, type RawPeer } from '../helpers/raw';
import { delay, startSystem, type TestSystem } from '../helpers/system';
import { owedTo } from '../helpers/owed';

let sys: TestSystem;
const peers: RawPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await sys.close();
});

describe('a spoofed address', () => {
  it('gets only the challenge, within three times the bytes that named it, and no texts', async () => {
    sys = await startSystem();
    const A = sys.servers[0];
    const attacker = await rawPeer();
    const victim = await rawPeer();
    peers.push(attacker, victim);

    // The attacker registers "mallory" at the victim's address: it learns the key (REGISTERED comes to it), the victim gets the challenge.
    const ours = newAgreementKeys();
    let ctr = Date.now() * 1000;
    const register = encodeNative({ type: 'REGISTER', rq: 1, name: 'mallory', host: victim.address.host, port: victim.address.port, pub: ours.pub }, { cid: 'mallory', ctr: ctr++ });
    attacker.send(register, A);
    const [reply] = await attacker.take(1);
    const registered = decodeNative(reply!.bytes).message as Extract<Message, { type: 'REGISTERED' }>;
    expect(registered).toMatchObject({ type: 'REGISTERED', name: 'mallory' });
    const k = deriveUserKey(ours, registered.pub!, ours.pub, registered.pub!, 'mallory')!;
    attacker.send(encodeNative({ type: 'SUBJECTS', rq: 2, name: 'mallory', subjects: ['news'] }, { cid: 'mallory', ctr: ctr++ }, k), A);
    // Every authenticated request would re-send the challenge (throttled, and within the budget).
    for (let i = 0; i < 20; i++) {
      attacker.send(encodeNative({ type: 'WHO', rq: 10 + i, name: 'mallory' }, { cid: 'mallory', ctr: ctr++ }, k), A);
      await delay(15);
    }
    // Texts published on mallory's subject are not pushed to the victim.
    const alice = await sys.client();
    await alice.register('alice');
    await alice.subjects('alice', ['news']);
    for (let i = 0; i < 5; i++) await alice.publish('alice', 'news', `text ${i} `.repeat(80));

    // The challenge, then an absence window: no push and nothing beyond the budget follows.
    const got = [...(await victim.take(1)), ...(await victim.quiet(200))];
    expect(got.length).toBeGreaterThan(0);
    for (const g of got) expect(decodeNative(g.bytes).message.type).toBe('CHALLENGE');
    const bytes = got.reduce((n, g) => n + g.bytes.length, 0);
    expect(bytes).toBeLessThanOrEqual(3 * register.length);
    // The texts stay owed to mallory; nothing was pushed.
    expect(await owedTo(sys.pair.a.server, 'mallory')).toHaveLength(5);
    expect((await (await sys.raw()).users.findOne({ _id: 'mallory' }))!.addrOk).toBe(false);
  });

  it('registered by a text client from elsewhere, gets nothing, and the texts stay owed', async () => {
    sys = await startSystem();
    const A = sys.servers[0];
    const attacker = await rawPeer();
    const victim = await rawPeer();
    peers.push(attacker, victim);
    attacker.send(Buffer.from(`REGISTER 1 tim ${victim.address.host} ${victim.address.port}`), A);
    attacker.send(Buffer.from('SUBJECTS 2 tim news'), A);
    expect((await attacker.take(2)).map((g) => g.bytes.toString())).toEqual(['REGISTERED 1', 'SUBJECTS-UPDATED 2 tim news']);
    const alice = await sys.client();
    await alice.register('alice');
    await alice.subjects('alice', ['news']);
    await alice.publish('alice', 'news', 'not for the victim');
    // Absence window: nothing is pushed to the address the text client named.
    expect(await victim.quiet(200)).toEqual([]);
    expect(await owedTo(sys.pair.a.server, 'tim')).toHaveLength(1);
    // The texts wait for RETRIEVE-TEXTS — which anyone who knows a legacy name may send (legacy users are not protected).
    attacker.send(Buffer.from('RETRIEVE-TEXTS 3 tim'), A);
    expect((await attacker.take(2)).map((g) => g.bytes.toString())).toEqual(['MESSAGE alice news not for the victim', 'RETRIEVED 3 tim 1']);
  });

  it('a genuine client proves its address and receives pushes', async () => {
    sys = await startSystem();
    const bob = await sys.client();
    const alice = await sys.client();
    await bob.register('bob');
    await bob.subjects('bob', ['news']);
    await bob.listen('bob');
    await alice.register('alice');
    await alice.subjects('alice', ['news']);
    const shown: string[] = [];
    bob.on('message', (t) => shown.push(t.text));
    await alice.publish('alice', 'news', 'hello');
    await expect.poll(() => shown).toEqual(['hello']);
    expect(sys.pair.a.server.status()).toMatchObject({ validations: 2 });
  });
});

describe('a user who moves to a listener', () => {
  it('registered by a one-shot process, listening from another socket: the CHALLENGE goes to the new address and a text arrives within a second', async () => {
    sys = await startSystem();
    const keys = new MemoryKeyRing();
    // The one-shot process: registers, chooses subjects, exits (its socket is gone).
    const oneShot = await sys.client({ keys });
    await oneShot.register('bob');
    await oneShot.subjects('bob', ['news']);
    await oneShot.close();
    // `rss client listen`: another socket, the same keys; it moves bob here and listens.
    const listener = await sys.client({ keys });
    const shown: string[] = [];
    listener.on('message', (t) => shown.push(t.text));
    await listener.update('bob');
    await listener.listen('bob');
    const alice = await sys.client();
    await alice.register('alice');
    await alice.subjects('alice', ['news']);
    await alice.publish('alice', 'news', 'hello bob');
    await expect.poll(() => shown, { timeout: 1000 }).toEqual(['hello bob']);
  });

  it('texts owed while the new address was unproven are pushed as soon as it answers its CHALLENGE', async () => {
    sys = await startSystem();
    const keys = new MemoryKeyRing();
    const bob = await sys.client({ keys });
    await bob.register('bob');
    await bob.subjects('bob', ['news']);
    const alice = await sys.client();
    await alice.register('alice');
    await alice.subjects('alice', ['news']);
    // bob moves to an address that does not answer yet: the text waits, owed.
    const silent = await rawPeer();
    peers.push(silent);
    await bob.update('bob', silent.address);
    await alice.publish('alice', 'news', 'owed');
    expect(await owedTo(sys.pair.a.server, 'bob')).toHaveLength(1);
    // Back at a socket that answers: no request for texts, yet the owed one comes at once.
    const listener = await sys.client({ keys });
    const shown: string[] = [];
    listener.on('message', (t) => shown.push(t.text));
    await listener.update('bob');
    await expect.poll(() => shown, { timeout: 1000 }).toEqual(['owed']);
  });
});
