/**
 * Issue "a single `rss` executable": release/rss (built by `npm run release`,
 * which CI runs before `npm test`) copied alone to an empty folder and run
 * with an empty environment (no PATH, no node, no node_modules) answers like
 * the checkout, prints no warning at start, and carries a whole scenario:
 * demo, one-shot clients registering, subscribing, publishing, retrieving.
 * Skipped when release/rss has not been built (vitest.config.ts then says so
 * after the summary); under CI it always runs, and fails if the binary is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const BUILT = join(root, 'release/rss');
const CHECKOUT = join(root, 'bin/rss');
const built = existsSync(BUILT);

/** Whatever Node or a dependency might print at start and must not. */
const WARNING = /\(node:\d+\)|Warning:|supports-color/;

let dir = '';
let lone = '';
/** The environment of every run: nothing but HOME, pointed at the empty folder (the client's identity file lands there). */
let env: NodeJS.ProcessEnv = {};
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!built) return;
  dir = mkdtempSync(join(tmpdir(), 'rss-sea-'));
  lone = join(dir, 'rss');
  copyFileSync(BUILT, lone);
  chmodSync(lone, 0o755);
  env = { HOME: dir };
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function runLone(args: string[]) {
  return spawnSync(lone, args, { cwd: dir, env, encoding: 'utf8', timeout: 20_000 });
}

/** A long-running command of the binary; resolves lines as they come. */
function startLone(args: string[]) {
  const proc = spawn(lone, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const waitFor = (re: RegExp, ms = 10_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        const m = re.exec(stdout);
        if (m) {
          clearInterval(poll);
          resolve(m);
        } else if (Date.now() - started > ms || proc.exitCode !== null) {
          clearInterval(poll);
          reject(new Error(`no ${re} within ${ms} ms (exit ${proc.exitCode}); stdout:\n${stdout}\nstderr:\n${stderr}`));
        }
      }, 10);
    });
  const stop = () =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      proc.once('exit', (code, signal) => resolve({ code, signal }));
      proc.kill('SIGTERM');
    });
  return { proc, waitFor, stop, stderr: () => stderr };
}

// CI builds the release before the tests: there a missing binary is a failure, not a reason to skip.
it.runIf(process.env.CI)('release/rss is built (CI runs `npm run release` before `npm test`)', () => {
  expect(existsSync(BUILT), `${BUILT} is missing`).toBe(true);
});

describe.skipIf(!built)('release/rss alone in an empty folder, empty environment', () => {
  const version = (JSON.parse(spawnSync(process.execPath, ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: root, encoding: 'utf8' }).stdout) as { version: string }).version;

  it('--version prints the package version and nothing else', () => {
    const r = runLone(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
    expect(r.stderr).toBe('');
  });

  it.each([
    [['--help'], /Usage: rss \[options\] \[command\][\s\S]*demo[\s\S]*server[\s\S]*client[\s\S]*engine/],
    [['demo', '--help'], /Usage: rss demo \[options\][\s\S]*--port-a/],
    [['server', '--help'], /Usage: rss server \[options\][\s\S]*--role/],
    [['client', '--help'], /Usage: rss client \[options\] \[command\][\s\S]*register[\s\S]*retrieve/],
    [['engine', '--help'], /Usage: rss engine \[options\][\s\S]*--data-dir/],
  ])('rss %s: exit 0, the usage text, the same as the checkout, no warning', (args, usage) => {
    const r = runLone(args);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(usage);
    expect(r.stderr).not.toMatch(WARNING);
    expect(r.stderr).toBe('');
    // The checkout's bin/rss runs dist/rss.cjs, which `npm test` builds first.
    if (existsSync(join(root, 'dist/rss.cjs'))) {
      const checkout = spawnSync(process.execPath, [CHECKOUT, ...args], { cwd: dir, env, encoding: 'utf8' });
      expect(r.stdout).toBe(checkout.stdout);
    }
  });

  it('a usage error exits 2 as in the checkout', () => {
    const r = runLone(['no-such-command']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });

  it('scenario: demo, two one-shot clients, a publish and a retrieve; SIGTERM stops the demo with exit 0', async () => {
    const demo = startLone(['demo', '--port-a', '0', '--port-b', '0']);
    const [, a, b, dashboard] = await demo.waitFor(/ready in \d+ ms: A (\S+), B (\S+),.*; dashboard (http:\/\/127\.0\.0\.1:\d+\/)/);
    const identity = (user: string) => ['--identity', join(dir, `${user}.id.json`)];
    const client = (user: string, ...words: string[]) => {
      const r = runLone(['client', '--servers', `${a},${b}`, ...identity(user), ...words]);
      expect({ words, status: r.status, stderr: r.stderr }).toEqual({ words, status: 0, stderr: '' });
      return r.stdout;
    };
    // Two clients, each with its own identity: a name belongs to the client id that registered it.
    expect(client('alice', 'register', 'alice')).toMatch(/registered alice/);
    expect(client('bob', 'register', 'bob')).toMatch(/registered bob/);
    expect(client('alice', 'subjects', 'alice', 'news')).toMatch(/alice follows news/);
    expect(client('bob', 'subjects', 'bob', 'news')).toMatch(/bob follows news/);
    expect(client('alice', 'publish', 'alice', 'news', 'hello')).toMatch(/published on news/);
    expect(client('bob', 'retrieve', 'bob')).toMatch(/\[news\] alice: hello/);
    // Another client may not act on alice.
    const other = runLone(['client', '--servers', `${a},${b}`, ...identity('mallory'), 'publish', 'alice', 'news', 'spoof']);
    expect(other.status).toBe(1);

    // The dashboard is served from the binary alone: page, script, chart library, metrics.
    const page = await fetch(dashboard!);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<script src="\/assets\/uPlot\.js"><\/script>/);
    for (const asset of ['uPlot.js', 'uPlot.css', 'dashboard.js', 'dashboard.css']) {
      const r = await fetch(`${dashboard}assets/${asset}`);
      expect({ asset, status: r.status, size: (await r.text()).length > 1000 }).toEqual({ asset, status: 200, size: true });
    }
    const metrics = await (await fetch(`${dashboard}metrics`)).text();
    expect(metrics).toMatch(/^rss_requests_total\{server="A",type="PUBLISH",dialect="native",outcome="ok"\} 1$/m);
    expect(metrics).toMatch(/^process_cpu_seconds_total /m);

    expect(await demo.stop()).toEqual({ code: 0, signal: null });
    expect(demo.stderr()).not.toMatch(WARNING);
  });

  it('engine and server run from the binary; SIGTERM stops them with exit 0', async () => {
    const engine = startLone(['engine', '--port', '0']);
    const [uri] = await engine.waitFor(/^mongodb:\/\/\S+/m);
    const server = startLone(['server', '--role', 'A', '--port', '0', '--peer', '127.0.0.1:9', '--mongo', uri, '--log-level', 'warn']);
    await server.waitFor(/rss server A ready on 127\.0\.0\.1:\d+/);
    await server.waitFor(/A serving/);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(await engine.stop()).toEqual({ code: 0, signal: null });
    expect(server.stderr()).not.toMatch(WARNING);
    expect(engine.stderr()).toMatch(/rss engine ready/);
  });
});
