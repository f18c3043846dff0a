/**
 * The operations HTTP endpoints of a process running rss servers:
 *   GET /healthz   the process is alive (never needs the token)
 *   GET /readyz    200 when every running server reaches its store and serves or stands by; 503 and why
 *   GET /metrics   Prometheus text exposition
 *   GET /          the live dashboard; /assets/* its files; /events its Server-Sent Events
 *   GET /api/state the dashboard's snapshot as JSON
 *   POST /api/control  the demo's steering actions (own origin and control token only)
 * Node's own http module: a handful of routes needs no framework.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerTag } from '../protocol/messages';
import { Access, TOKEN_COOKIE, checkBind } from './access';
import { asset } from './assets';
import { Dashboard } from './dashboard';
import type { OpsHost } from './host';
import { metricsRegistry } from './metrics';

export interface OpsHttpOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Required by every endpoint but /healthz; mandatory for a non-loopback host. */
  token?: string;
  /** Include the process metrics (default true). */
  processMetrics?: boolean;
}

export interface OpsHttp {
  /** The dashboard's address, e.g. http://127.0.0.1:8080/ */
  url: string;
  port: number;
  dashboard: Dashboard;
  close(): Promise<void>;
}

/** Every answer: no caching, no sniffing, no framing, no referrer; scripts and styles from this origin only. */
const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/** The store faults the page may ask for. */
const STORE_FAULT = /^(down|up|slow|flap)$/;

/** A control POST's body is tiny. */
const MAX_BODY = 4096;

export async function startOpsHttp(host: OpsHost, opts: OpsHttpOptions): Promise<OpsHttp> {
  checkBind(opts.host, opts.token);
  const dashboard = new Dashboard(host);
  const registry = metricsRegistry(host, { processDefaults: opts.processMetrics !== false });
  const streams = new Set<ServerResponse>();
  let access: Access;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const denied = access.check(req, url);
    if (denied) return send(res, denied.status, `${denied.reason}\n`);
    const path = url.pathname;
    if (path === '/api/control') return req.method === 'POST' ? control(req, res) : send(res, 405, 'steering takes POST only\n', { allow: 'POST' });
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    switch (path) {
      case '/healthz':
        return send(res, 200, 'ok\n');
      case '/readyz': {
        const r = readiness(host);
        return send(res, r.ready ? 200 : 503, `${r.ready ? 'ready' : r.reason}\n`);
      }
      case '/metrics':
        return send(res, 200, await registry.metrics(), { 'content-type': registry.contentType });
      case '/api/state':
        return send(res, 200, JSON.stringify(dashboard.snapshot()), { 'content-type': 'application/json' });
      case '/events':
        return events(req, res);
      case '/':
      case '/index.html':
        return page(url, res);
    }
    const file = path.startsWith('/assets/') ? asset(path.slice('/assets/'.length)) : undefined;
    if (file && path !== '/assets/index.html') return send(res, 200, file.body, { 'content-type': file.type });
    return send(res, 404, 'not found\n');
  }

  function page(url: URL, res: ServerResponse): void {
    // `/?token=` (right): keep it as a cookie for this site only, and drop it from the address bar.
    if (access.queryToken(url)) {
      res.writeHead(303, {
        ...COMMON_HEADERS,
        location: '/',
        'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(url.searchParams.get('token')!)}; HttpOnly; SameSite=Strict; Path=/`,
      });
      return void res.end();
    }
    const html = asset('index.html')!.body.replace('{{CONTROL_TOKEN}}', host.control ? access.controlToken : '');
    send(res, 200, html, { 'content-type': 'text/html; charset=utf-8' });
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { ...COMMON_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
    const write = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    res.write('retry: 1000\n\n');
    write('rates', dashboard.rates());
    write('snapshot', dashboard.snapshot());
    streams.add(res);
    const off = dashboard.subscribe(write);
    req.on('close', () => {
      off();
      streams.delete(res);
    });
  }

  async function control(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = access.checkControl(req);
    if (refused) return send(res, refused.status, `${refused.reason}\n`);
    if (!host.control) return send(res, 404, 'no steering here (only the demo steers)\n');
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return send(res, 415, 'expected application/json\n');
    let body: { action?: unknown; server?: unknown; spec?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch (err) {
      return send(res, 400, `bad request body: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    const c = host.control;
    const tags = host.servers().map((s) => s.tag);
    const tag = typeof body.server === 'string' && (tags as string[]).includes(body.server) ? (body.server as ServerTag) : undefined;
    let said: string;
    try {
      switch (body.action) {
        case 'handoff':
          said = await c.handoff();
          break;
        case 'kill':
        case 'start':
          if (!tag) return send(res, 400, `which server? (${tags.join(', ')})\n`);
          said = await (body.action === 'kill' ? c.kill(tag) : c.start(tag));
          break;
        case 'chaos':
          if (typeof body.spec !== 'string' || !body.spec) return send(res, 400, 'chaos needs a spec (e.g. drop=0.1,dup=0.05) or off\n');
          said = await c.chaos(body.spec);
          break;
        case 'store':
          if (!c.store) return send(res, 404, 'the store is not behind a fault proxy here\n');
          if (typeof body.spec !== 'string' || !STORE_FAULT.test(body.spec)) return send(res, 400, 'store fault: down, up, slow or flap\n');
          said = await c.store(body.spec);
          break;
        default:
          return send(res, 400, 'unknown action (handoff, kill, start, chaos, store)\n');
      }
    } catch (err) {
      return send(res, 400, `${err instanceof Error ? err.message : String(err)}\n`);
    }
    dashboard.note('control', said);
    send(res, 200, JSON.stringify({ ok: true, said }), { 'content-type': 'application/json' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  access = new Access({ host: opts.host, port, ...(opts.token !== undefined ? { token: opts.token } : {}) });
  dashboard.start();
  const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    dashboard,
    close: async () => {
      dashboard.stop();
      for (const s of streams) s.end();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive and event-stream connections would hold close() open.
      server.closeAllConnections();
      await closed;
    },
  };
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Ready when at least one server runs and every running one is ready; else the first reason. */
export function readiness(host: OpsHost): { ready: true } | { ready: false; reason: string } {
  const running = host.servers().filter((s) => s.running);
  if (running.length === 0) return { ready: false, reason: 'no server is running' };
  for (const { server } of running) {
    const r = server.readiness();
    if (!r.ready) return r;
  }
  return { ready: true };
}
