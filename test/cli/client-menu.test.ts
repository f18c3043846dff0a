/** The client menu's WHO and STATUS entries, and `rss client --log-level/--log-file` (the client's datagrams logged). */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRegister } from '../../src/cli/client-actions';
import { runMenu } from '../../src/cli/client-menu';
import { createLogger } from '../../src/cli/logger';
import { systemsClosedAfterEach } from '../helpers/system';
import { memoryIo } from '../helpers/memory-io';

const system = systemsClosedAfterEach();

describe('the client menu', () => {
  it('7 lists who shares a subject (online or not), 8 shows the serving server\'s status', async () => {
    const sys = await system();
    const bob = await sys.client();
    await bob.register('bob');
    await bob.subjects('bob', ['news']);
    const dir = await mkdtemp(join(tmpdir(), 'rss-menu-'));
    const m = memoryIo({ NO_COLOR: '1' });
    m.stdin.end(['1', 'alice', '4', '', 'news', '7', '', '8', 'q', ''].join('\n'));
    const code = await runMenu({ servers: sys.servers, bind: { host: '127.0.0.1', port: 0 }, identityFile: join(dir, 'id.json') }, m.io);
    expect(code).toBe(0);
    expect(m.all()).toMatch(/registered alice/);
    expect(m.all()).toMatch(/^bob online$/m);
    // The serving server's figures as a table (one column: the standby is not what serves the user), not raw JSON.
    expect(m.all()).toMatch(/^role\s+serving$/m);
    expect(m.all()).toMatch(/^users\s+2$/m);
    expect(m.all()).not.toMatch(/standby|"role"/);
  });
});

describe('rss client --log-file', () => {
  it('logs every datagram the client sends and receives at debug level', async () => {
    const sys = await system();
    const dir = await mkdtemp(join(tmpdir(), 'rss-log-'));
    const file = join(dir, 'client.log');
    const logger = await createLogger('debug', file);
    const m = memoryIo({ NO_COLOR: '1' });
    m.stdin.end('');
    const code = await runRegister({ servers: sys.servers, bind: { host: '127.0.0.1', port: 0 }, identityFile: join(dir, 'id.json'), logger }, m.io, 'carol');
    expect(code).toBe(0);
    // The file is written asynchronously: wait until both records are in it.
    const logged = async () => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => (l.msg === 'datagram sent' && l.type === 'REGISTER') || (l.msg === 'datagram received' && l.type === 'REGISTERED'))
      .map((l) => `${String(l.msg)} ${String(l.type)}`);
    await expect.poll(async () => new Set(await logged()), { timeout: 5_000 }).toEqual(new Set(['datagram sent REGISTER', 'datagram received REGISTERED']));
  });
});
