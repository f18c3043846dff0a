/** An empty text is refused by the server in every dialect, with a reason, and nothing is stored. */
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { aliceAndBob, systemsClosedAfterEach } from '../helpers/system';

const system = systemsClosedAfterEach();

describe('an empty text', () => {
  it('is refused to a native client (the library sends what it is given) and to a text client', async () => {
    const sys = await system();
    const { alice, bob } = await aliceAndBob(sys);
    await expect(alice.publish('alice', 'news', '   ')).rejects.toThrow(/the text is empty/);
    expect((await bob.retrieve('bob')).texts).toEqual([]);

    const raw = createSocket('udp4');
    await new Promise<void>((r) => raw.bind(0, '127.0.0.1', r));
    const got: string[] = [];
    raw.on('message', (m) => got.push(m.toString('utf8')));
    const [A] = sys.servers;
    const send = (line: string) => raw.send(Buffer.from(line), A.port, A.host);
    try {
      send(`REGISTER 1 tex 127.0.0.1 ${raw.address().port}`);
      await expect.poll(() => got).toContain('REGISTERED 1');
      send('SUBJECTS 2 tex news');
      await expect.poll(() => got.some((l) => l.startsWith('SUBJECTS-UPDATED 2'))).toBe(true);
      send('PUBLISH 3 tex news  ');
      await expect.poll(() => got.find((l) => l.startsWith('PUBLISH-DENIED 3'))).toMatch(/empty/);
    } finally {
      raw.close();
    }
    expect((await bob.retrieve('bob')).texts).toEqual([]);
  });
});
