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
    (logger as unknown as { flush?: (cb?: () => void) => void }).flush?.();
    await new Promise((r) => setTimeout(r, 200));
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.msg === 'datagram sent' && l.type === 'REGISTER')).toBe(true);
    expect(lines.some((l) => l.msg === 'datagram received' && l.type === 'REGISTERED')).toBe(true);
  });
});
