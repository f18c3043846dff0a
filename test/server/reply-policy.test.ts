/** The reply policy table: every request type has one, and the intake keeps each answer as its type's row says. */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { HandledRequest } from '../../src/server/handlers';
import { HANDLERS } from '../../src/server/handlers';
import { REPLY_POLICIES, keepingOf, type AnswerFacts } from '../../src/server/reply-policy';
import { startSystem, type TestSystem } from '../helpers/system';

const facts = (more: Partial<AnswerFacts> = {}): AnswerFacts => ({
  replies: 1, dialect: 'text', sealed: false, elsewhere: false, recordedByHandler: false, ...more,
});
const register: HandledRequest = { type: 'REGISTER', rq: 1, name: 'ann', host: '127.0.0.1', port: 5000 };
const publish: HandledRequest = { type: 'PUBLISH', rq: 1, name: 'ann', subject: 'news', text: 'hi' };
const who: HandledRequest = { type: 'WHO', rq: 1, name: 'ann' };
const retrieve: HandledRequest = { type: 'RETRIEVE-TEXTS', rq: 1, name: 'ann' };
const retrieveLast: HandledRequest = { type: 'RETRIEVE-TEXTS', rq: 1, name: 'ann', last: 5 };

describe('REPLY_POLICIES', () => {
  it('has one row for every request type the handlers take, and no other', () => {
    expect(Object.keys(REPLY_POLICIES).sort()).toEqual(Object.keys(HANDLERS).sort());
  });

  it('looks up the reply cache only for requests that are answered (ACK and CHALLENGE-RESPONSE carry no RQ#)', () => {
    const unanswered = Object.entries(REPLY_POLICIES).filter(([, p]) => !p.answered).map(([t]) => t);
    expect(unanswered.sort()).toEqual(['ACK', 'CHALLENGE-RESPONSE']);
  });
});

describe('keepingOf', () => {
  it('stores a state change before it is answered, unless it is sent elsewhere than its source', () => {
    for (const type of ['REGISTER', 'DE-REGISTER', 'UPDATE', 'SUBJECTS'] as const) {
      expect(keepingOf({ ...register, type } as HandledRequest, facts())).toBe('stored');
    }
    expect(keepingOf(register, facts({ elsewhere: true }))).toBe('none');
    expect(keepingOf(register, facts({ elsewhere: true, sealed: true, dialect: 'native' }))).toBe('memory');
  });

  it('keeps PUBLISH in memory only, in every dialect, sealed or not', () => {
    expect(keepingOf(publish, facts())).toBe('memory');
    expect(keepingOf(publish, facts({ dialect: 'native' }))).toBe('memory');
  });

  it('keeps what changes nothing in memory only when sealed', () => {
    expect(keepingOf(who, facts({ dialect: 'native' }))).toBe('none');
    expect(keepingOf(who, facts({ dialect: 'native', sealed: true }))).toBe('memory');
  });

  it('RETRIEVE-TEXTS: a denial of the unread texts is stored; the last N kept in memory for legacy or sealed answers', () => {
    expect(keepingOf(retrieve, facts())).toBe('stored');
    expect(keepingOf(retrieveLast, facts())).toBe('memory');
    expect(keepingOf(retrieveLast, facts({ dialect: 'native' }))).toBe('none');
    expect(keepingOf(retrieveLast, facts({ dialect: 'native', sealed: true }))).toBe('memory');
    expect(REPLY_POLICIES['RETRIEVE-TEXTS'].recordsItself).toBe(true);
  });

  it('leaves an answer the handler recorded itself alone, and keeps no empty answer', () => {
    expect(keepingOf(retrieve, facts({ recordedByHandler: true }))).toBe('recorded');
    expect(keepingOf(register, facts({ replies: 0 }))).toBe('none');
    expect(keepingOf(publish, facts({ replies: 0 }))).toBe('none');
  });
});

describe('the intake honours the policy (canonical text, through a real server)', () => {
  let sys: TestSystem | undefined;
  afterEach(async () => {
    await sys?.close();
    sys = undefined;
  });

  it('a state change is stored and a retransmission answered from it; PUBLISH from memory, never stored; ECHO executed again', async () => {
    sys = await startSystem();
    const server = sys.pair.a.server;
    await expect.poll(() => server.serving, { timeout: 5000 }).toBe(true);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const got: string[] = [];
    socket.on('message', (bytes) => got.push(bytes.toString('utf8')));
    const port = socket.address().port;
    const send = (line: string) => socket.send(Buffer.from(line), server.address.port, server.address.host);
    const records = async () => (await server.store.recentReplies(0)).length;
    try {
      send(`REGISTER 1 ann 127.0.0.1 ${port}`);
      await expect.poll(() => got.length).toBe(1);
      expect(await records()).toBe(1);
      send(`REGISTER 1 ann 127.0.0.1 ${port}`);
      await expect.poll(() => got.length).toBe(2);
      expect(got[1]).toBe(got[0]);
      expect(server.counters.duplicates).toBe(1);

      send('SUBJECTS 2 ann news');
      await expect.poll(() => got.length).toBe(3);
      send('PUBLISH 3 ann sport hello');
      await expect.poll(() => got.length).toBe(4);
      send('PUBLISH 3 ann sport hello');
      await expect.poll(() => got.length).toBe(5);
      expect(got[4]).toBe(got[3]);
      expect(server.counters.duplicates).toBe(2);
      // A successful canonical-text PUBLISH is not answered on the wire, but its retransmission is still found.
      send('PUBLISH 4 ann news hello');
      await expect.poll(() => server.counters.published).toBe(1);
      send('PUBLISH 4 ann news hello');
      await expect.poll(() => server.counters.duplicates).toBe(3);
      expect(server.counters.published).toBe(1);
      // REGISTER and SUBJECTS are stored; PUBLISH is not (its stored text is its record).
      expect(await records()).toBe(2);

      send('ECHO 5 ann are you there');
      await expect.poll(() => got.length).toBe(6);
      send('ECHO 5 ann are you there');
      await expect.poll(() => got.length).toBe(7);
      expect(server.counters.duplicates).toBe(3);
      expect(await records()).toBe(2);
    } finally {
      socket.close();
    }
  });
});
