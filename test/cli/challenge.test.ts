/**
 * A one-shot `register` answers the servers' CHALLENGE before it exits, so
 * the user's address is proven (and a later `listen` is not held up by a
 * challenge still owed to a socket that is gone).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runRegister, runUpdate } from '../../src/cli/client-actions';
import { CHALLENGE_WAIT_MS } from '../../src/client/retry';
import { memoryIo } from '../helpers/memory-io';
import { systemsClosedAfterEach } from '../helpers/system';

const system = systemsClosedAfterEach();
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('one-shot commands and the CHALLENGE', () => {
  it('register proves its address before it returns; update to another address does not wait', async () => {
    const sys = await system();
    dir = await mkdtemp(join(tmpdir(), 'rss-challenge-'));
    const conn = { servers: sys.servers, bind: { host: '127.0.0.1', port: 0 }, identityFile: join(dir, 'id.json') };
    const serving = () => (sys.pair.a.server.serving ? sys.pair.a.server : sys.pair.b.server);
    expect(await runRegister(conn, memoryIo().io, 'kim')).toBe(0);
    // The answer left before the command returned; the server records it a moment later.
    await expect.poll(() => serving().directory.get('kim')?.addrOk).toBe(true);

    const started = Date.now();
    expect(await runUpdate(conn, memoryIo().io, 'kim', { host: '127.0.0.1', port: 9 })).toBe(0);
    // The CHALLENGE goes to 127.0.0.1:9, not here: nothing to wait for. Waiting for it would take at least
    // CHALLENGE_WAIT_MS (a timer), so that is the bound: anything tighter is a speed target a loaded machine can miss.
    expect(Date.now() - started).toBeLessThan(CHALLENGE_WAIT_MS);
    expect(serving().directory.get('kim')).toMatchObject({ addrOk: false, port: 9 });
  });
});
