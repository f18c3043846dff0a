/**
 * `--http HOST:PORT` and `--http-token` (or RSS_HTTP_TOKEN), shared by
 * `rss server` and `rss demo`: metrics, health checks and the dashboard.
 */
import { Option } from 'commander';
import { InvalidArgumentError } from '../errors';
import { checkBind } from '../ops/access';
import type { OpsHost } from '../ops/host';
import type { OpsHttp } from '../ops/http';
import { parsePort, splitHostPort } from './args';

/** The environment variable read when --http-token is not given. */
export const HTTP_TOKEN_ENV = 'RSS_HTTP_TOKEN';

export interface HttpCliOptions {
  /** HOST:PORT, or false after --no-http (demo). */
  http?: string | false;
  httpToken?: string;
}

/** "HOST:PORT" or "[v6]:PORT"; port 0 picks a free one. */
export function parseHttpAddress(text: string): { host: string; port: number } {
  const m = splitHostPort(text);
  if (!m) throw new InvalidArgumentError(`invalid --http address "${text}" (expected HOST:PORT, e.g. 127.0.0.1:9464)`);
  return { host: m[0], port: parsePort(m[1]) };
}

function checkAddress(v: string): string {
  parseHttpAddress(v);
  return v;
}

/** --http HOST:PORT; `fallback` is its default (the demo's is on). */
export function httpOption(fallback?: string): Option {
  const o = new Option('--http <host:port>', 'serve /metrics, /healthz, /readyz and the live dashboard on HOST:PORT (loopback unless --http-token is set)')
    .argParser(checkAddress);
  return fallback ? o.default(fallback) : o;
}

/** --no-http, where --http is on by default. */
export function noHttpOption(): Option {
  return new Option('--no-http', 'no HTTP endpoints (no metrics, health checks or dashboard)');
}

/** --http-token, or RSS_HTTP_TOKEN. */
export function httpTokenOption(): Option {
  return new Option('--http-token <token>', 'required by every HTTP endpoint but /healthz (bearer token, or open /?token=TOKEN); needed for a non-loopback --http')
    .env(HTTP_TOKEN_ENV);
}

/** Refuse a non-loopback --http without a token before anything starts. */
export function checkHttp(o: HttpCliOptions): void {
  if (o.http) checkBind(parseHttpAddress(o.http).host, tokenOf(o));
}

/** An empty RSS_HTTP_TOKEN is no token. */
function tokenOf(o: HttpCliOptions): string | undefined {
  return o.httpToken || undefined;
}

/** Start the HTTP endpoints when asked for; undefined when --http is off. */
export async function startHttp(o: HttpCliOptions, host: OpsHost): Promise<OpsHttp | undefined> {
  if (!o.http) return undefined;
  const { startOpsHttp } = await import('../ops/http');
  const { host: bind, port } = parseHttpAddress(o.http);
  const token = tokenOf(o);
  return startOpsHttp(host, { host: bind, port, ...(token !== undefined ? { token } : {}) });
}
