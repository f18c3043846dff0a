/**
 * A legacy (canonical text) address can never be proven, so everything sent
 * to it stays within its budget — yet a genuine subscriber on a busy subject
 * still gets every text: pushed while the budget allows, retrieved after.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rawPeer, type RawPeer } from '../helpers/raw';
import { systemsClosedAfterEach } from '../helpers/system';
import { owedTo } from '../helpers/owed';

const system = systemsClosedAfterEach();
const peers: RawPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
});

describe('a canonical text subscriber on a busy subject', () => {
  it('gets every text, pushed within its budget or retrieved, and none is lost', async () => {
    const sys = await system();
    const A = sys.servers[0];
    const tim = await rawPeer();
    peers.push(tim);
    tim.send(Buffer.from(`REGISTER 1 tim ${tim.address.host} ${tim.address.port}`), A);
    tim.send(Buffer.from('SUBJECTS 2 tim news'), A);
    expect((await tim.take(200)).map((g) => g.bytes.toString())).toEqual(['REGISTERED 1', 'SUBJECTS-UPDATED 2 tim news']);
    const alice = await sys.client();
    await alice.register('alice');
    await alice.subjects('alice', ['news']);
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      sent.push(`text ${i} `.padEnd(200, '.'));
      await alice.publish('alice', 'news', sent[i]!);
    }
    const got = new Set<string>();
    const collect = (datagrams: { bytes: Buffer }[]) => {
      for (const d of datagrams) {
        const line = d.bytes.toString();
        if (line.startsWith('MESSAGE alice news ')) got.add(line.slice('MESSAGE alice news '.length));
      }
    };
    const pushed = await tim.take(300);
    collect(pushed);
    // More than the budget lets through at once: some are held back (owed), not dropped.
    expect(got.size).toBeGreaterThan(0);
    expect(got.size).toBeLessThan(40);
    for (let rq = 10; got.size < 40 && rq < 60; rq++) {
      tim.send(Buffer.from(`RETRIEVE-TEXTS ${rq} tim`), A);
      collect(await tim.take(300));
    }
    expect([...got].sort()).toEqual([...sent].sort());
    await expect.poll(async () => (await owedTo(sys.pair.a.server, 'tim')).length).toBe(0);
  });
});

describe('legacy registrations', () => {
  it('one address holds at most four legacy users; the rest are told why', async () => {
    const sys = await system();
    const p = await rawPeer();
    peers.push(p);
    for (let i = 0; i < 6; i++) p.send(Buffer.from(`REGISTER ${i + 1} u${i} ${p.address.host} ${p.address.port}`), sys.servers[0]);
    const replies = (await p.take(300)).map((g) => g.bytes.toString()).sort();
    expect(replies.filter((r) => r.startsWith('REGISTERED'))).toHaveLength(4);
    expect(replies.filter((r) => r.endsWith('too many users at this address'))).toHaveLength(2);
  });

  it('an address named by a request from elsewhere gets no pushes until it speaks itself', async () => {
    const sys = await system();
    const A = sys.servers[0];
    const elsewhere = await rawPeer();
    const home = await rawPeer();
    peers.push(elsewhere, home);
    elsewhere.send(Buffer.from(`REGISTER 1 tim ${home.address.host} ${home.address.port}`), A);
    elsewhere.send(Buffer.from('SUBJECTS 2 tim news'), A);
    expect((await elsewhere.take(200)).map((g) => g.bytes.toString())).toEqual(['REGISTERED 1', 'SUBJECTS-UPDATED 2 tim news']);
    const alice = await sys.client();
    await alice.register('alice');
    await alice.subjects('alice', ['news']);
    await alice.publish('alice', 'news', 'held');
    expect(await home.take(200)).toEqual([]);
    // tim's own address speaks: from now on it gets pushes (within its budget), and the held text comes once:
    // pushed (its stream resumed as tim was heard from) or in the answer, whichever read the log first.
    home.send(Buffer.from('RETRIEVE-TEXTS 3 tim'), A);
    const got = (await home.take(200)).map((g) => g.bytes.toString());
    expect(got.filter((l) => l.startsWith('MESSAGE'))).toEqual(['MESSAGE alice news held']);
    expect(got.filter((l) => l.startsWith('RETRIEVED'))).toEqual([expect.stringMatching(/^RETRIEVED 3 tim [01]$/)]);
    await alice.publish('alice', 'news', 'pushed');
    await expect.poll(async () => (await home.take(50)).map((g) => g.bytes.toString())).toEqual(['MESSAGE alice news pushed']);
  });
});
