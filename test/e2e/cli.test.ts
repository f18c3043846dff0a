/**
 * The CLI one-shot commands driven as child processes against `rss demo` on
 * free ports: exit 0 when accepted, 1 when denied (reason on stderr), 2 on a
 * usage error or no answer; --json for scripts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RSS_BIN, rss, type Child } from '../helpers/processes';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RSS_BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let demo: Child;
let servers: string;
let home: string;
const as = (user: string, args: string[]) => run(['client', '--servers', servers, '--identity', join(home, `${user}.json`), ...args]);

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'rss-cli-'));
  demo = rss(['demo', '--port-a', '0', '--port-b', '0', '--engine', 'embedded']);
  const ready = await demo.waitFor(/ready/);
  const m = /A (\S+), B (\S+),/.exec(ready)!;
  servers = `${m[1]},${m[2]}`;
});
afterAll(async () => {
  await demo.kill('SIGTERM');
  await rm(home, { recursive: true, force: true });
});

describe('rss client one-shot commands against rss demo', () => {
  it('register, subjects, publish, retrieve, update, deregister with the documented exit codes', async () => {
    expect(await as('alice', ['register', 'alice'])).toMatchObject({ code: 0 });
    expect(await as('bob', ['register', 'bob'])).toMatchObject({ code: 0 });
    const taken = await as('mallory', ['register', 'alice']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/name already in use/);
    expect((await as('alice', ['subjects', 'alice', 'news,sport'])).code).toBe(0);
    expect((await as('bob', ['subjects', 'bob', 'news'])).code).toBe(0);
    expect((await as('alice', ['publish', 'alice', 'news', 'hello', 'world'])).code).toBe(0);
    const denied = await as('alice', ['publish', 'alice', 'cooking', 'x']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/not in your list/);
    // Another identity may not act on alice.
    expect((await as('mallory', ['publish', 'alice', 'news', 'forged'])).code).toBe(1);

    const got = await as('bob', ['retrieve', 'bob']);
    expect(got.code).toBe(0);
    expect(got.stdout).toContain('hello world');
    expect((await as('bob', ['retrieve', 'bob'])).stdout).not.toContain('hello world');
    const last = await as('bob', ['--json', 'retrieve', 'bob', '--last', '5']);
    expect(last.code).toBe(0);
    expect(last.stdout).toContain('"hello world"');
    for (const line of last.stdout.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();

    expect((await as('bob', ['update', 'bob', '127.0.0.1:40999'])).code).toBe(0);
    expect((await as('bob', ['deregister', 'bob'])).code).toBe(0);
    expect((await as('bob', ['retrieve', 'bob'])).code).toBe(1);
  });

  it('exits 2 on a usage error and when no server answers', async () => {
    expect((await run(['client', '--servers', 'nonsense', 'register', 'x'])).code).toBe(2);
    expect((await run(['client', '--servers', servers, 'publish', 'onlyname'])).code).toBe(2);
    const silent = await run(['client', '--servers', '127.0.0.1:9,127.0.0.1:9', '--timeout', '300', '--identity', join(home, 'x.json'), 'register', 'zed']);
    expect(silent.code).toBe(2);
    expect((await run(['demo', '--period', 'soon'])).code).toBe(2);
  });

  it('rss server and rss demo refuse a ring they cannot run, saying why', async () => {
    const cases: [string[], RegExp][] = [
      [['server', '--role', 'C', '--port', '0', '--peer', '127.0.0.1:9'], /a pair's servers are A and B/],
      [['server', '--role', 'A', '--port', '0'], /give --peer HOST:PORT .* or --peers/],
      [['server', '--role', 'A', '--peer', '127.0.0.1:9', '--peers', 'B=127.0.0.1:9'], /either --peer .* or --peers/],
      [['server', '--role', 'A', '--peers', 'B=127.0.0.1:9,C=127.0.0.1:9'], /two servers the address 127\.0\.0\.1:9/],
      [['server', '--role', 'A', '--peers', 'B=127.0.0.1:9,B=127.0.0.1:10'], /names server B twice/],
      [['server', '--role', 'A', '--peers', 'B:127.0.0.1:9'], /expected NAME=HOST:PORT/],
      [['server', '--role', 'A', '--peers', 'B=127.0.0.1:9'], /--port is required/],
      [['server', '--role', 'A b', '--peers', 'B=127.0.0.1:9'], /invalid server name "A b"/],
      [['demo', '--servers', '10'], /invalid server count "10" \(2 to 9\)/],
    ];
    for (const [args, why] of cases) {
      const r = await run(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(why);
    }
  });

  it('--engine mongod fails fast and clearly when no mongod is on the machine', async () => {
    const started = Date.now();
    const r = await run(['demo', '--engine', 'mongod'], { MONGOMS_SYSTEM_BINARY: '', MONGOMS_DOWNLOAD_DIR: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no mongod binary/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
