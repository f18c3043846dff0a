/**
 * At a handoff the old server sends TAKEOVER, then CHANGE-SERVER. A
 * canonical text client that switches at once can reach the next server
 * while it still fences and loads its state; such a client never
 * retransmits, so the server holds the request and answers it once it
 * serves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rawPeer, type RawPeer } from '../helpers/raw';
import { delay, startSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem | undefined;
let tim: RawPeer | undefined;
afterEach(async () => {
  tim?.close();
  tim = undefined;
  await sys?.close();
  sys = undefined;
});

const txt = (s: string) => Buffer.from(s, 'utf8');
const texts = (got: { bytes: Buffer }[]) => got.map((g) => g.bytes.toString());

describe('a request reaching the next server while it takes over', () => {
  it('is held and answered once that server serves (a canonical text client does not retry)', async () => {
    sys = await startSystem();
    const [A, B] = sys.servers as [typeof sys.servers[0], typeof sys.servers[0]];
    tim = await rawPeer();
    tim.send(txt(`REGISTER 1 tim 127.0.0.1 ${tim.address.port}`), A);
    tim.send(txt('SUBJECTS 2 tim news'), A);
    expect(texts(await tim.take(2))).toEqual(['REGISTERED 1', 'SUBJECTS-UPDATED 2 tim news']);

    // B's takeover is slowed (its fence takes 400 ms more), so the request surely arrives while B loads.
    const b = sys.pair.b.server;
    const fence = b.store.fenceSeqs.bind(b.store);
    b.store.fenceSeqs = async (...args) => {
      await delay(400);
      return fence(...args);
    };
    const handing = sys.pair.a.server.handoff();
    const told = await tim.takeWhen((inbox) => inbox.some((d) => d.bytes.toString().startsWith('CHANGE-SERVER')), 'CHANGE-SERVER');
    expect(texts(told)).toEqual([`CHANGE-SERVER ${B.host} ${B.port}`]);
    expect(b.serving).toBe(false);
    tim.send(txt('SUBJECTS 3 tim news sport'), B);
    expect(await handing).toBe(true);
    const answer = await tim.take(1);
    expect(answer[0]!.from.port).toBe(B.port);
    expect(texts(answer)).toEqual(['SUBJECTS-UPDATED 3 tim news sport']);
    expect(b.serving).toBe(true);
  });
});
