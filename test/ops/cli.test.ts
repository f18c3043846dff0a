/**
 * `--http` the way an operator types it (built CLI): `rss server --http`
 * prints the address in its ready line and answers /readyz and /metrics;
 * a non-loopback address without a token is refused before anything
 * starts; with RSS_HTTP_TOKEN it binds and wants the token;
 * `rss demo --no-http` serves nothing.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { RSS_BIN, rss, type Child } from '../helpers/processes';

const children: Child[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) await c.kill('SIGKILL');
});

function start(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const c = rss(args, env);
  children.push(c);
  return c;
}

describe('--http on the command line', () => {
  it('rss server --http 127.0.0.1:0: the URL in the ready line, /readyz 200 once serving, /metrics with its server', async () => {
    const engine = start(['engine', '--port', '0']);
    const uri = (await engine.waitFor(/^mongodb:\/\/\S+/, 15_000)).trim();
    const server = start(['server', '--role', 'A', '--port', '0', '--peer', '127.0.0.1:9', '--mongo', uri, '--log-level', 'warn', '--http', '127.0.0.1:0']);
    const ready = await server.waitFor(/rss server A ready on/, 15_000);
    const url = /; http (http:\/\/127\.0\.0\.1:\d+\/)$/.exec(ready)?.[1];
    expect(url, ready).toBeDefined();
    await server.waitFor(/A serving/);
    await expect.poll(async () => (await fetch(`${url}readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${url}metrics`)).text();
    expect(metrics).toMatch(/^rss_serving\{server="A"\} 1$/m);
    // rss server has nothing to steer.
    const page = await (await fetch(url!)).text();
    expect(page).toContain('<meta name="rss-control" content="">');
  });

  it('a non-loopback --http without a token exits 2 before starting anything; RSS_HTTP_TOKEN is then required of every endpoint but /healthz', async () => {
    const r = spawnSync(process.execPath, [RSS_BIN, 'server', '--role', 'A', '--port', '0', '--peer', '127.0.0.1:9', '--http', '0.0.0.0:0'], {
      encoding: 'utf8', env: { ...process.env, RSS_HTTP_TOKEN: '' }, timeout: 15_000, // empty: no token
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/non-loopback address needs --http-token \(or RSS_HTTP_TOKEN\)/);
    expect(r.stdout).not.toMatch(/ready/);

    const token = 'operators-token-0123456789';
    // (Tests listen on loopback only: the token binds there just the same.)
    const demo = start(['demo', '--engine', 'embedded', '--http', '127.0.0.1:0'], { RSS_HTTP_TOKEN: token });
    const ready = await demo.waitFor(/ready in/, 20_000);
    const port = /dashboard http:\/\/127\.0\.0\.1:(\d+)\//.exec(ready)?.[1];
    expect(port, ready).toBeDefined();
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('rss demo --no-http: no dashboard in the ready line', async () => {
    const demo = start(['demo', '--engine', 'embedded', '--no-http']);
    const ready = await demo.waitFor(/ready in/, 20_000);
    expect(ready).not.toMatch(/dashboard/);
  });
});
