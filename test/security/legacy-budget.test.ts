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
const texts = (datagrams: RawPeer['inbox']) => datagrams.map((g) => g.bytes.toString());
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
    expect(texts(await tim.take(2))).toEqual(['REGISTERED 1', 'SUBJECTS-UPDATED 2 tim news']);
    const alice = await sys.client();
    await alice.register('alice');
    await alice.subjects('alice', ['news']);
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      sent.push(`text ${i} `.padEnd(200, '.'));
      await alice.publish('alice', 'news', sent[i]!);
    }
    const got = new Set<string>();
    const isPush = (line: string) => line.startsWith('MESSAGE alice news ');
    const collect = (datagrams: RawPeer['inbox']) => {
      for (const line of texts(datagrams)) if (isPush(line)) got.add(line.slice('MESSAGE alice news '.length));
    };
    collect(await tim.takeWhen((inbox) => texts(inbox).some(isPush), 'a first push'));
    // Absence window: the budget holds the rest back, so not all of them follow within it.
    collect(await tim.quiet(200));
    // More than the budget lets through at once: some are held back (owed), not dropped.
    expect(got.size).toBeGreaterThan(0);
    expect(got.size).toBeLessThan(40);
    // As a text client does: ask again until every text is in. Each answer is sized to what the budget, refilling
    // with time, allows now, so the asking is paced by the poll and bounded by its timeout, not counted.
    let rq = 10;
    await expect.poll(() => {
      collect(tim.inbox.splice(0));
      if (got.size < 40) tim.send(Buffer.from(`RETRIEVE-TEXTS ${rq++} tim`), A);
      return got.size;
    }, { timeout: 15_000, interval: 100 }).toBe(40);
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
    const replies = texts(await p.take(6)).sort();
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
    expect(texts(await elsewhere.take(2))).toEqual(['REGISTERED 1', 'SUBJECTS-UPDATED 2 tim news']);
    const alice = await sys.client();
    await alice.register('alice');
    await alice.subjects('alice', ['news']);
    await alice.publish('alice', 'news', 'held');
    // Absence window: no push reaches the address that has not spoken.
    expect(await home.quiet(200)).toEqual([]);
    // tim's own address speaks: from now on it gets pushes (within its budget), and the held text comes once:
    // pushed (its stream resumed as tim was heard from) or in the answer, whichever read the log first.
    home.send(Buffer.from('RETRIEVE-TEXTS 3 tim'), A);
    const arrived = await home.takeWhen((inbox) => ['RETRIEVED 3 ', 'MESSAGE alice news held'].every((start) => texts(inbox).some((l) => l.startsWith(start))), 'RETRIEVED 3 and the held text');
    // Absence window: the held text does not come a second time (pushed as well as retrieved).
    const got = texts([...arrived, ...(await home.quiet(100))]);
    expect(got.filter((l) => l.startsWith('MESSAGE'))).toEqual(['MESSAGE alice news held']);
    expect(got.filter((l) => l.startsWith('RETRIEVED'))).toEqual([expect.stringMatching(/^RETRIEVED 3 tim [01]$/)]);
    await alice.publish('alice', 'news', 'pushed');
    expect(texts(await home.take(1))).toEqual(['MESSAGE alice news pushed']);
  });
});
