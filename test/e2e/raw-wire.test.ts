/**
 * Raw-wire probes (canonical text dialect): hand-made datagrams from a bare
 * socket to BOTH servers get exactly the replies of the catalog, only from
 * the serving server, and nothing else.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Address } from '../../src/transport/types';
import { delay, startSystem, type TestSystem } from '../helpers/system';

interface Probe {
  socket: Socket;
  port: number;
  got: { text: string; from: number }[];
  sendBoth(text: string): void;
  send(text: string, to: Address): void;
  /** Absence check: everything received within `ms` (callers expect nothing). */
  collect(ms?: number): Promise<{ text: string; from: number }[]>;
  /** Once `n` datagrams have arrived (however slow the machine), everything received so far, and within `quietMs` more
   * when given (an absence window, so that an extra answer, from the other server say, is still seen). */
  next(n?: number, quietMs?: number): Promise<{ text: string; from: number }[]>;
}

async function probe(servers: Address[]): Promise<Probe> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const got: { text: string; from: number }[] = [];
  socket.on('message', (m, r) => got.push({ text: m.toString('utf8'), from: r.port }));
  const p: Probe = {
    socket, port: socket.address().port, got,
    send: (text, to) => socket.send(Buffer.from(text), to.port, to.host),
    sendBoth: (text) => servers.forEach((s) => p.send(text, s)),
    collect: async (ms = QUIET_MS) => {
      await delay(ms);
      return got.splice(0);
    },
    next: async (n = 1, quietMs = 0) => {
      await expect.poll(() => got.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(n);
      return quietMs > 0 ? p.collect(quietMs) : got.splice(0);
    },
  };
  return p;
}

/** How long an absence check listens for a datagram that must not come. */
const QUIET_MS = 150;

let sys: TestSystem;
const probes: Probe[] = [];
beforeEach(async () => {
  sys = await startSystem();
});
afterEach(async () => {
  for (const p of probes.splice(0)) p.socket.close();
  await sys.close();
});

describe('canonical text catalog on the wire', () => {
  it('answers every request of the catalog byte for byte, from the serving server only', async () => {
    const [A] = sys.servers;
    const tom = await probe(sys.servers);
    const ann = await probe(sys.servers);
    probes.push(tom, ann);

    tom.sendBoth(`REGISTER 1 tom 127.0.0.1 ${tom.port}`);
    // Sent to both servers: only the serving one answers (nothing more within the absence window).
    expect(await tom.next(1, QUIET_MS)).toEqual([{ text: 'REGISTERED 1', from: A.port }]);
    ann.sendBoth(`REGISTER 0 ann localhost/127.0.0.1 ${ann.port}\u0000garbage`);
    expect(await ann.next(1, QUIET_MS)).toEqual([{ text: 'REGISTERED 0', from: A.port }]);

    tom.send('SUBJECTS 2 tom news sport ', A);
    expect(await tom.next()).toEqual([{ text: 'SUBJECTS-UPDATED 2 tom news sport', from: A.port }]);
    ann.send('SUBJECTS 0 ann news', A);
    expect((await ann.next()).map((g) => g.text)).toEqual(['SUBJECTS-UPDATED 0 ann news']);
    tom.send(`UPDATE 3 tom /127.0.0.1 ${tom.port}`, A);
    expect((await tom.next()).map((g) => g.text)).toEqual([`UPDATE-CONFIRMED 3 tom 127.0.0.1 ${tom.port}`]);

    tom.send('PUBLISH 4 tom weather sunny', A);
    expect((await tom.next()).map((g) => g.text)).toEqual(['PUBLISH-DENIED 4 subject weather is not in your list']);
    // Success has no answer in the catalog; the interested user gets MESSAGE.
    tom.send('PUBLISH 5 tom news  hello   there', A);
    // One space separates the subject from the text; the text's own spaces are kept.
    expect(await ann.next()).toEqual([{ text: 'MESSAGE tom news  hello   there', from: A.port }]);
    expect(await tom.collect()).toEqual([]);
    ann.send('RETRIEVE-TEXTS 1 ann', A);
    expect((await ann.next()).map((g) => g.text)).toEqual(['RETRIEVED 1 ann 0']);

    tom.send(`UPDATE 7 nobody 127.0.0.1 ${tom.port}`, A);
    expect((await tom.next()).map((g) => g.text)).toEqual(['UPDATE-DENIED 7 unknown name']);
    tom.send('SUBJECTS 8 nobody x', A);
    expect((await tom.next()).map((g) => g.text)).toEqual(['SUBJECTS-REJECTED 8 nobody x']);
    tom.send('DE-REGISTER 9 nobody', A);
    expect(await tom.collect()).toEqual([]);
    tom.send('REGISTER 10 onlyname', A);
    expect((await tom.next()).map((g) => g.text.split(' ').slice(0, 2).join(' '))).toEqual(['REGISTER-DENIED 10']);
    for (const junk of ['HELLO there', 'REGISTER x', '', 'register 1 a 127.0.0.1 5']) tom.send(junk, A);
    expect(await tom.collect()).toEqual([]);

    // De-register: confirmed with a line whose first word is DE-REGISTER, then pushes to tom stop.
    tom.send('DE-REGISTER 11 tom', A);
    ann.send('SUBJECTS 2 ann news sport', A);
    await ann.next();
    expect(await tom.next()).toEqual([{ text: 'DE-REGISTER 11 tom', from: A.port }]);
    ann.send('PUBLISH 3 ann sport goal', A);
    expect(await tom.collect()).toEqual([]);
    expect(await ann.collect()).toEqual([]);
    expect(sys.pair.b.server.counters.replies).toBe(0);
  });

  it('a duplicated datagram is executed once and answered twice; a reused RQ# with new content is executed', async () => {
    const [A] = sys.servers;
    const ann = await probe(sys.servers);
    const bob = await probe(sys.servers);
    probes.push(ann, bob);
    ann.send(`REGISTER 0 ann 127.0.0.1 ${ann.port}`, A);
    bob.send(`REGISTER 0 bob 127.0.0.1 ${bob.port}`, A);
    ann.send('SUBJECTS 0 ann news', A);
    bob.send('SUBJECTS 0 bob news', A);
    // Both registered and interested before anything is published.
    await expect.poll(() => [ann.got.length, bob.got.length], { timeout: 5_000 }).toEqual([2, 2]);
    ann.got.length = 0;
    bob.got.length = 0;
    bob.send('PUBLISH 0 bob news one', A);
    bob.send('PUBLISH 0 bob news one', A);
    bob.send('PUBLISH 0 bob news two', A);
    expect((await ann.next(2)).map((g) => g.text)).toEqual(['MESSAGE bob news one', 'MESSAGE bob news two']);
    expect(sys.pair.a.server.counters.published).toBe(2);
    expect(sys.pair.a.server.counters.duplicates).toBe(1);
  });

  it('confirms a DE-REGISTER at the user\'s own address only, whoever sent it', async () => {
    const [A] = sys.servers;
    const tom = await probe(sys.servers);
    const eve = await probe(sys.servers);
    probes.push(tom, eve);
    tom.send(`REGISTER 1 tom 127.0.0.1 ${tom.port}`, A);
    expect((await tom.next()).map((g) => g.text)).toEqual(['REGISTERED 1']);
    eve.send('DE-REGISTER 2 tom', A);
    await expect.poll(() => tom.got.map((g) => g.text)).toEqual(['DE-REGISTER 2 tom']);
    // A retransmission from the stranger finds no user and no recorded answer: silence.
    eve.send('DE-REGISTER 2 tom', A);
    tom.send('DE-REGISTER 3 tom', A);
    await expect.poll(() => sys.pair.a.server.counters.requests).toBe(4);
    expect(eve.got).toEqual([]);
  });

  it('answers ECHO with the same line, from the serving server only', async () => {
    const [A] = sys.servers;
    const tom = await probe(sys.servers);
    probes.push(tom);
    tom.sendBoth('ECHO 7 tom are  you there?');
    tom.sendBoth('ECHO 8 tom');
    await expect.poll(() => tom.got).toEqual([
      { text: 'ECHO 7 tom are  you there?', from: A.port },
      { text: 'ECHO 8 tom', from: A.port },
    ]);
    expect(sys.pair.b.server.counters.replies).toBe(0);
  });
});
