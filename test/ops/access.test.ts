/**
 * Who may use the HTTP endpoints: a non-loopback bind needs a token; with
 * one, every endpoint but /healthz refuses a request without it; steering
 * POSTs are refused from another origin, without the per-run control token,
 * and with a Host header that is not ours (DNS rebinding).
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { checkBind } from '../../src/ops/access';
import type { HostControl, OpsHost } from '../../src/ops/host';
import { startOpsHttp, type OpsHttp } from '../../src/ops/http';

const open: OpsHttp[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

/** A host without servers whose steering actions are recorded. */
function fakeHost(): { host: OpsHost; done: string[] } {
  const done: string[] = [];
  const control: HostControl = {
    handoff: async () => (done.push('handoff'), 'handoff asked'),
    kill: async (tag) => (done.push(`kill ${tag}`), `${tag} killed`),
    start: async (tag) => (done.push(`start ${tag}`), `${tag} started`),
    chaos: async (spec) => (done.push(`chaos ${spec}`), `chaos ${spec}`),
    chaosSpec: () => undefined,
  };
  return { host: { servers: () => [], control }, done };
}

async function serve(host: OpsHost, token?: string): Promise<OpsHttp> {
  const h = await startOpsHttp(host, { host: '127.0.0.1', port: 0, processMetrics: false, ...(token ? { token } : {}) });
  open.push(h);
  return h;
}

/** A raw request (fetch would not let a test set Host or Origin freely). */
function call(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The per-run control token, as the page carries it. */
async function controlToken(h: OpsHttp, headers: Record<string, string> = {}): Promise<string> {
  const page = await call(h.port, '/', { headers });
  expect(page.status).toBe(200);
  const m = /<meta name="rss-control" content="([^"]+)">/.exec(page.body);
  expect(m, page.body.slice(0, 400)).not.toBeNull();
  return m![1]!;
}

describe('binding', () => {
  it('a non-loopback address needs a token of 16 characters or more; loopback does not', () => {
    expect(() => checkBind('0.0.0.0', undefined)).toThrow(/non-loopback address needs --http-token/);
    expect(() => checkBind('192.168.1.4', undefined)).toThrow(/--http-token/);
    expect(() => checkBind('0.0.0.0', 'short')).toThrow(/at least 16 characters/);
    expect(() => checkBind('0.0.0.0', 'a-long-enough-token')).not.toThrow();
    for (const h of ['127.0.0.1', '::1', 'localhost', '127.1.2.3']) expect(() => checkBind(h, undefined), h).not.toThrow();
  });
});

describe('steering POST', () => {
  it('is taken from the page\'s own origin with the control token, and refused cross-origin or without the token', async () => {
    const { host, done } = fakeHost();
    const h = await serve(host);
    const token = await controlToken(h);
    const own = `http://127.0.0.1:${h.port}`;
    const post = (headers: Record<string, string>, body: Record<string, string> = { action: 'handoff' }) =>
      call(h.port, '/api/control', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

    const cross = await post({ origin: 'http://evil.example', 'x-rss-control': token });
    expect(cross.status).toBe(403);
    expect(cross.body).toMatch(/cross-origin/);
    expect((await post({ 'x-rss-control': token })).status).toBe(403); // no Origin at all
    expect((await post({ origin: own, 'x-rss-control': token, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const tokenless = await post({ origin: own });
    expect(tokenless.status).toBe(403);
    expect(tokenless.body).toMatch(/control token/);
    expect((await post({ origin: own, 'x-rss-control': 'guessed' })).status).toBe(403);
    // A page of another site whose name resolves to 127.0.0.1 (DNS rebinding) carries its own Host.
    const rebound = await post({ host: `evil.example:${h.port}`, origin: `http://evil.example:${h.port}`, 'x-rss-control': token });
    expect(rebound.status).toBe(421);
    expect(done).toEqual([]);

    const ok = await post({ origin: own, 'x-rss-control': token });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ ok: true, said: 'handoff asked' });
    // This host has no server Z (nor any): refused before the action.
    expect((await post({ origin: own, 'x-rss-control': token }, { action: 'kill', server: 'Z' })).status).toBe(400);
    expect((await post({ origin: own, 'x-rss-control': token }, { action: 'format-disk' })).status).toBe(400);
    expect(done).toEqual(['handoff']);
    // Only POST steers.
    expect((await call(h.port, '/api/control?action=handoff')).status).toBe(405);
  });

  it('a host without steering (rss server) puts no control token in its page and refuses every action', async () => {
    const h = await serve({ servers: () => [] });
    const page = await call(h.port, '/');
    expect(page.body).toContain('<meta name="rss-control" content="">');
    const r = await call(h.port, '/api/control', {
      method: 'POST', headers: { origin: `http://127.0.0.1:${h.port}`, 'x-rss-control': '', 'content-type': 'application/json' }, body: '{"action":"handoff"}',
    });
    expect(r.status).toBe(403);
  });
});

describe('store faults', () => {
  it('are steered when the host offers them, one of down, up, slow, flap', async () => {
    const { host, done } = fakeHost();
    const h = await serve(host);
    const token = await controlToken(h);
    const store = (spec: string) =>
      call(h.port, '/api/control', {
        method: 'POST', headers: { origin: `http://127.0.0.1:${h.port}`, 'x-rss-control': token, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'store', spec }),
      });
    expect((await store('down')).status).toBe(404); // no fault proxy: nothing to steer
    host.control!.store = async (fault) => (done.push(`store ${fault}`), `store ${fault}`);
    expect(JSON.parse((await call(h.port, '/api/state')).body).storeFaults).toBe(true);
    expect((await store('down')).status).toBe(200);
    expect((await store('rm -rf')).status).toBe(400);
    expect((await store('up')).status).toBe(200);
    expect(done).toEqual(['store down', 'store up']);
  });
});

describe('with --http-token', () => {
  const TOKEN = 'a-long-enough-token-for-tests';

  it('every endpoint but /healthz refuses a request without the token', async () => {
    const { host, done } = fakeHost();
    const h = await serve(host, TOKEN);
    expect((await call(h.port, '/healthz')).status).toBe(200);
    for (const path of ['/', '/metrics', '/readyz', '/events', '/api/state', '/assets/dashboard.js']) {
      const r = await call(h.port, path);
      expect(r.status, path).toBe(401);
      expect(r.body, path).toMatch(/token required/);
      expect((await call(h.port, path, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status, path).toBe(401);
    }
    const own = `http://127.0.0.1:${h.port}`;
    const post = await call(h.port, '/api/control', { method: 'POST', headers: { origin: own, 'content-type': 'application/json' }, body: '{"action":"handoff"}' });
    expect(post.status).toBe(401);
    expect(done).toEqual([]);

    const bearer = { authorization: `Bearer ${TOKEN}` };
    expect((await call(h.port, '/metrics', { headers: bearer })).status).toBe(200);
    // No server runs in this fake host: not ready, and why.
    const ready = await call(h.port, '/readyz', { headers: bearer });
    expect([ready.status, ready.body]).toEqual([503, 'no server is running\n']);
  });

  it('/?token= sets an HttpOnly, same-site cookie and leaves the token out of the address; the cookie then opens the page', async () => {
    const h = await serve(fakeHost().host, TOKEN);
    const wrong = await call(h.port, '/?token=nope');
    expect(wrong.status).toBe(401);
    const r = await call(h.port, `/?token=${TOKEN}`);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/');
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/^rss_http_token=[^;]+; HttpOnly; SameSite=Strict; Path=\/$/);
    const page = await call(h.port, '/', { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'/);
    expect(page.body).not.toContain(TOKEN);
  });
});
