/**
 * Who may use the HTTP endpoints. Loopback by default; a bind elsewhere
 * needs a token, which every endpoint but /healthz then requires (bearer
 * header, or the cookie the page gets from `/?token=`). Steering actions
 * (POST) are taken only from the dashboard's own origin, with the per-run
 * control token that only the page itself can read.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopback } from '../server/status-gate';
import { InvalidArgumentError } from '../errors';

export const TOKEN_COOKIE = 'rss_http_token';
/** The header carrying the per-run control token of a steering POST. */
export const CONTROL_HEADER = 'x-rss-control';

export interface AccessOptions {
  /** The address bound (host as given). */
  host: string;
  port: number;
  /** Required of every request but /healthz when set. */
  token?: string;
}

/** Loopback names: an IPv4 127/8 or ::1 address, or localhost. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopback(host.replace(/^\[|\]$/g, ''));
}

/** Refuses a non-loopback bind without a token, and a token too short to resist guessing. */
export function checkBind(host: string, token: string | undefined): void {
  if (token !== undefined && token.length < 16) throw new InvalidArgumentError('--http-token must be at least 16 characters');
  if (!isLoopbackHost(host) && token === undefined) {
    throw new InvalidArgumentError(`--http ${host}: a non-loopback address needs --http-token (or RSS_HTTP_TOKEN)`);
  }
}

function same(a: string, b: string): boolean {
  // Compared as digests: constant time, whatever the lengths.
  const d = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(d(a), d(b));
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export class Access {
  /** The per-run control token, embedded in the page. */
  readonly controlToken = randomBytes(18).toString('base64url');

  constructor(private readonly opts: AccessOptions) {}

  /** The token of `/?token=` when it is right (the page then sets it as a cookie). */
  queryToken(url: URL): string | undefined {
    const t = url.searchParams.get('token');
    return t !== null && this.opts.token !== undefined && same(t, this.opts.token) ? t : undefined;
  }

  /** Null when the request may proceed; otherwise the status and one-line reason. */
  check(req: IncomingMessage, url: URL): { status: number; reason: string } | null {
    if (url.pathname === '/healthz') return null;
    if (!this.hostAllowed(req)) return { status: 421, reason: 'unexpected Host header (use the address the dashboard was started on)' };
    if (this.opts.token === undefined) return null;
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : (cookie(req, TOKEN_COOKIE) ?? this.queryToken(url));
    if (given === undefined) return { status: 401, reason: 'token required (Authorization: Bearer TOKEN, or open /?token=TOKEN)' };
    if (!same(given, this.opts.token)) return { status: 401, reason: 'wrong token' };
    return null;
  }

  /** A steering POST: from the page's own origin, carrying the per-run control token. */
  checkControl(req: IncomingMessage): { status: number; reason: string } | null {
    const origin = req.headers.origin;
    if (!origin || origin !== `http://${req.headers.host}`) return { status: 403, reason: 'cross-origin request refused' };
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return { status: 403, reason: 'cross-site request refused' };
    const t = req.headers[CONTROL_HEADER];
    if (typeof t !== 'string' || !same(t, this.controlToken)) return { status: 403, reason: 'control token missing or wrong' };
    return null;
  }

  /**
   * Without a token, only the loopback names we listen on are accepted as
   * Host: a page of another site whose name was re-pointed at 127.0.0.1
   * (DNS rebinding) is refused. With a token, the token decides.
   */
  private hostAllowed(req: IncomingMessage): boolean {
    if (this.opts.token !== undefined) return true;
    const host = req.headers.host;
    if (!host) return false;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
    return Boolean(m && isLoopbackHost(m[1]!) && Number(m[2] ?? 80) === this.opts.port);
  }
}
