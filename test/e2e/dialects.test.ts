/**
 * Issue "Existing clients work unchanged": three users speaking the pickle dialect's
 * pickle, the canonical text and the native dialect are one community: each
 * gets every answer and push in its own dialect, before and after a handoff.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ReceivedText } from '../../src/client/client';
import { readPickle, type PickleValue } from '../../src/protocol/pickle/reader';
import { writePickle, type PickleInput } from '../../src/protocol/pickle/writer';
import { rawPeer, type RawPeer } from '../helpers/raw';
import { nextEvents, startSystem, type TestSystem } from '../helpers/system';

/** Absence window: after the expected answer, nothing more (from the standby say) arrives within it. */
const QUIET_MS = 100;
/** The one answer to a request sent to both servers, and nothing more (the standby stays silent) within the absence window. */
const onlyAnswer = async (p: RawPeer) => [...(await p.take(1)), ...(await p.quiet(QUIET_MS))];

const pk = (v: PickleInput) => writePickle(v);
const unpk = (b: Buffer) => readPickle(b) as Record<string, PickleValue>;
const txt = (s: string) => Buffer.from(s, 'utf8');

/** The pickle answer carrying RQ# `rq`, once it has arrived (pushes and earlier answers in the inbox are dropped). */
async function answerTo(p: RawPeer, rq: number): Promise<Buffer> {
  const find = () => p.inbox.find((d) => unpk(d.bytes)['RQ#'] === rq)?.bytes;
  await expect.poll(find, { timeout: 5_000 }).toBeDefined();
  const answer = find()!;
  p.inbox.splice(0);
  return answer;
}

let sys: TestSystem;
const peers: RawPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await sys.close();
});

describe('pickle, text and native users together', () => {
  it('share texts across dialects and across a handoff, each answered in its own dialect', async () => {
    sys = await startSystem();
    const [A, B] = sys.servers;
    const pam = await rawPeer(); // pickle client
    const tim = await rawPeer(); // canonical text client
    peers.push(pam, tim);
    const nat = await sys.client();

    // a pickle client asks both servers; only the serving one answers, with its tag.
    pam.send(pk({ TYPE: 'INITIALIZATION', MESSAGE: 'New Client!' }), A);
    pam.send(pk({ TYPE: 'INITIALIZATION', MESSAGE: 'New Client!' }), B);
    let got = await onlyAnswer(pam);
    expect(got.map((g) => [g.from.port, unpk(g.bytes)])).toEqual([[A.port, { TYPE: 'INITIALIZATION-SUCCESS', 'SERVER-TAG': 'A' }]]);
    for (const s of [A, B]) pam.send(pk({ TYPE: 'REGISTER', 'RQ#': 1, NAME: 'pam', IP: '127.0.0.1', PORT: pam.address.port }), s);
    expect((await onlyAnswer(pam)).map((g) => unpk(g.bytes))).toEqual([{ TYPE: 'REGISTER-SUCCESS', 'RQ#': 1 }]);
    pam.send(pk({ TYPE: 'SUBJECTS', 'RQ#': 2, NAME: 'pam', 'SUBJECT-LIST': 'news, sport' }), A);
    expect((await pam.take(1)).map((g) => unpk(g.bytes))).toEqual([
      { TYPE: 'UPDATE-SUBJECTS-SUCCESS', 'RQ#': 2, NAME: 'pam', 'SUBJECT-LIST': 'news,sport' },
    ]);

    tim.send(txt(`REGISTER 1 tim 127.0.0.1 ${tim.address.port}`), A);
    tim.send(txt('SUBJECTS 2 tim news'), A);
    expect((await tim.take(2)).map((g) => g.bytes.toString())).toEqual(['REGISTERED 1', 'SUBJECTS-UPDATED 2 tim news']);
    await nat.register('nat');
    await nat.subjects('nat', ['news']);
    await nat.listen('nat');

    // pickle → text (push) and native (acknowledged push).
    const natGets = nextEvents<ReceivedText>(nat, 'message');
    pam.send(pk({ TYPE: 'PUBLISH', 'RQ#': 3, NAME: 'pam', SUBJECT: 'news', TEXT: 'from pickle' }), A);
    expect((await pam.take(1)).map((g) => unpk(g.bytes))).toEqual([
      { TYPE: 'PUBLISH-SUCCESS', 'RQ#': 3, NAME: 'pam', SUBJECT: 'news', TEXT: 'from pickle' },
    ]);
    expect((await tim.take(1)).map((g) => g.bytes.toString())).toEqual(['MESSAGE pam news from pickle']);
    expect((await natGets)[0]).toMatchObject({ from: 'pam', text: 'from pickle' });

    // Handoff: every user is told in its own dialect.
    const switched = nextEvents(nat, 'server');
    expect(await sys.pair.a.server.handoff()).toBe(true);
    await switched;
    expect((await pam.take(1)).map((g) => unpk(g.bytes))).toEqual([{ TYPE: 'CHANGE-SERVER', IP: B.host, PORT: B.port }]);
    expect((await tim.take(1)).map((g) => g.bytes.toString())).toEqual([`CHANGE-SERVER ${B.host} ${B.port}`]);

    // No wait for B's role: a text request that reaches B while it still loads is held and answered once it serves.
    // text → native (push) and pickle (retrieve), now through B.
    const natGets2 = nextEvents<ReceivedText>(nat, 'message');
    tim.send(txt('PUBLISH 3 tim news from text'), B);
    expect((await natGets2)[0]).toMatchObject({ from: 'tim', text: 'from text' });
    // native → text (push).
    await nat.publish('nat', 'news', 'from native');
    expect((await tim.take(1)).map((g) => g.bytes.toString())).toEqual(['MESSAGE nat news from native']);
    // pickle has no push: both texts wait for RETRIEVE-TEXTS, answered by B.
    pam.send(pk({ TYPE: 'RETRIEVE-TEXTS', 'RQ#': 4, NAME: 'pam' }), B);
    got = await pam.take(1);
    expect(got.map((g) => [g.from.port, unpk(g.bytes)])).toEqual([[B.port, {
      TYPE: 'RETRIEVE-SUCCESS', 'RQ#': 4, NAME: 'pam',
      POSTS: [{ NAME: 'tim', SUBJECT: 'news', TEXT: 'from text' }, { NAME: 'nat', SUBJECT: 'news', TEXT: 'from native' }],
    }]]);
    pam.send(pk({ TYPE: 'RETRIEVE-TEXTS', 'RQ#': 5, NAME: 'pam' }), B);
    expect((await pam.take(1)).map((g) => unpk(g.bytes))).toEqual([{ TYPE: 'RETRIEVE-SUCCESS', 'RQ#': 5, NAME: 'pam', POSTS: [] }]);

    // the pickle dialect's rules: PUBLISH denied when the subject is not in the list; the old server stays silent.
    pam.send(pk({ TYPE: 'PUBLISH', 'RQ#': 6, NAME: 'pam', SUBJECT: 'cooking', TEXT: 'x' }), A);
    pam.send(pk({ TYPE: 'PUBLISH', 'RQ#': 6, NAME: 'pam', SUBJECT: 'cooking', TEXT: 'x' }), B);
    expect((await onlyAnswer(pam)).map((g) => [g.from.port, unpk(g.bytes).TYPE])).toEqual([[B.port, 'PUBLISH-DENIED']]);
    // A legacy dialect can never act on a native user.
    tim.send(txt('PUBLISH 4 nat news forged'), B);
    expect((await tim.take(1)).map((g) => g.bytes.toString())).toEqual(['PUBLISH-DENIED 4 name belongs to an authenticated user']);
  });

  it('answers a RETRIEVE-TEXTS that would not fit in 1024 bytes with what fits, and keeps the rest', async () => {
    sys = await startSystem();
    const [A] = sys.servers;
    const pam = await rawPeer();
    peers.push(pam);
    const nat = await sys.client();
    pam.send(pk({ TYPE: 'REGISTER', 'RQ#': 1, NAME: 'pam', IP: '127.0.0.1', PORT: pam.address.port }), A);
    pam.send(pk({ TYPE: 'SUBJECTS', 'RQ#': 2, NAME: 'pam', 'SUBJECT-LIST': 'news' }), A);
    await nat.register('nat');
    await nat.subjects('nat', ['news']);
    for (let i = 0; i < 12; i++) await nat.publish('nat', 'news', `${i} ${'x'.repeat(200)}`);
    const texts: string[] = [];
    for (let rq = 10; rq < 30; rq++) {
      pam.send(pk({ TYPE: 'RETRIEVE-TEXTS', 'RQ#': rq, NAME: 'pam' }), A);
      const reply = await answerTo(pam, rq);
      expect(reply.length).toBeLessThanOrEqual(1024);
      const posts = unpk(reply).POSTS as { TEXT: string }[];
      if (posts.length === 0) break;
      expect(posts.length).toBeLessThan(12);
      texts.push(...posts.map((p) => p.TEXT.split(' ')[0]!));
    }
    expect(texts).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
  });
});
