/**
 * `rss status --servers A,B[,C...] [--json] [--peer-secret S]`: for operators, each
 * server's role, epoch, time left in its period or lease, users, texts
 * stored, request and push rates, retransmissions, duplicates, errors caught
 * (by where) and store calls retried, how long its latest handoff and
 * takeover took, uptime and store. A native STATUS
 * request goes to every server at once (standbys answer too), retransmitted
 * until each answers or the timeout ends.
 * Exit 0 when at least one server answered, 2 otherwise. The query itself
 * is client/status.ts.
 */
import { Option, type Command } from 'commander';
import { formatAddress, type Address } from '../client';
import { queryStatus, type ServerStatus } from '../client/status';
import { parseDuration } from './args';
import { parseServers } from './client-args';
import type { CliIo } from './client-output';
import type { LevelPainter } from './logger';

/** Exit codes: at least one server answered, or none did (or a usage error). */
export const STATUS_EXIT = { answered: 0, none: 2 } as const;

/** The environment variable read when --peer-secret is not given. */
export const PEER_SECRET_ENV = 'RSS_PEER_SECRET';

export interface StatusCommandOptions {
  servers: Address[];
  json?: boolean;
  peerSecret?: string;
  /** Give up on a server that has not answered after this long, ms. */
  timeout: number;
}

/** "1h 02m", "3m 05s", "12.5s", "850ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(s % 60).padStart(2, '0')}s`;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const NONE = '—';

/** How a value of the report reads: integers as they are, rates with one decimal. */
function show(v: unknown, as: 'int' | 'rate' | 'text' = 'int'): string {
  if (as === 'text') return v === undefined || v === null || v === '' ? NONE : String(v);
  const n = num(v);
  if (n === undefined) return NONE;
  return as === 'rate' ? n.toFixed(1) : String(Math.round(n));
}

/** A short duration to the tenth of a millisecond: "12.5ms". */
function showMs(v: unknown): string {
  const n = num(v);
  return n === undefined ? NONE : `${n.toFixed(1)}ms`;
}

/** Failures caught by the server, by where they happened: "3 (lease 2, request 1)", or "0". */
function showErrors(v: unknown): string {
  if (v === null || typeof v !== 'object') return NONE;
  const entries = Object.entries(v as Record<string, unknown>).filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] > 0);
  if (entries.length === 0) return '0';
  entries.sort((x, y) => y[1] - x[1]);
  return `${entries.reduce((n, [, c]) => n + c, 0)} (${entries.map(([k, c]) => `${k} ${c}`).join(', ')})`;
}

/**
 * The rows of the operator's table for one report, in order. Fields the
 * server does not report read "—".
 */
export function statusRows(s: Record<string, unknown>): [string, string][] {
  const left = num(s.timeLeftMs);
  const of = typeof s.timeLeftOf === 'string' ? ` (${s.timeLeftOf})` : '';
  const uptime = num(s.uptimeSeconds);
  return [
    ['role', show(s.role, 'text')],
    ['epoch', show(s.epoch)],
    ['time left', left === undefined ? NONE : `${formatDuration(left)}${of}`],
    ['users', show(s.users)],
    ['users online', show(s.usersOnline)],
    ['texts', show(s.texts)],
    ['texts deleted', show(s.textsPurged)],
    ['req/s', show(s.requestsPerSecond, 'rate')],
    ['pushes/s', show(s.pushesPerSecond, 'rate')],
    ['retransmissions', show(s.retransmissions)],
    ['duplicates', show(s.duplicates)],
    ['errors', showErrors(s.errors)],
    ['store retries', show(s.storeRetries)],
    ['handoffs', show(s.handoffs)],
    ['failovers', show(s.failovers)],
    ['last handoff', showMs(s.lastHandoffMs)],
    ['last takeover', showMs(s.lastTakeoverMs)],
    ['uptime', uptime === undefined ? NONE : formatDuration(uptime * 1000)],
    ['store', show(s.store, 'text')],
  ];
}

const plain: Pick<LevelPainter, 'green' | 'yellow' | 'red' | 'dim'> & { bold(s: string): string } = {
  green: (s) => s, yellow: (s) => s, red: (s) => s, dim: (s) => s, bold: (s) => s,
};

/**
 * The servers side by side: one column per server, one row per field. A
 * server that did not answer shows why in its role row.
 */
export function formatStatusTable(results: readonly ServerStatus[], paint: typeof plain = plain): string {
  const columns = results.map((r) => {
    const rows = r.status ? statusRows(r.status) : statusRows({}).map(([k], i): [string, string] => [k, i === 0 ? (r.error ?? 'no answer') : '']);
    return { head: `${r.tag} ${formatAddress(r.address)}`, cells: rows.map(([, v]) => v), ok: Boolean(r.status), role: r.status?.role };
  });
  const labels = statusRows({}).map(([k]) => k);
  const labelWidth = Math.max(...labels.map((l) => l.length));
  const widths = columns.map((c) => Math.max(c.head.length, ...c.cells.map((v) => v.length)));
  const line = (label: string, cells: string[], paintCell: (s: string, col: number) => string = (s) => s) =>
    `${label.padEnd(labelWidth)}  ${cells.map((v, i) => paintCell(v.padEnd(widths[i]!), i)).join('  ')}`.trimEnd();
  const out = [line('', columns.map((c) => c.head), (s) => paint.bold(s))];
  labels.forEach((label, row) => {
    out.push(
      line(paint.dim(label.padEnd(labelWidth)), columns.map((c) => c.cells[row]!), (s, col) => {
        const c = columns[col]!;
        if (row !== 0) return s;
        if (!c.ok) return paint.red(s);
        return c.role === 'serving' ? paint.green(s) : paint.yellow(s);
      }),
    );
  });
  return `${out.join('\n')}\n`;
}

/** Run the command: query, print, return the exit code. */
export async function runStatusCommand(o: StatusCommandOptions, io: CliIo): Promise<number> {
  const results = await queryStatus(o.servers, { timeoutMs: o.timeout, ...(o.peerSecret ? { peerSecret: o.peerSecret } : {}) });
  const answered = results.some((r) => r.status);
  if (o.json) {
    const servers = results.map((r) => ({
      tag: r.tag,
      address: r.address,
      ok: Boolean(r.status),
      ...(r.status ? { status: r.status } : { error: r.error }),
    }));
    io.stdout.write(`${JSON.stringify({ ok: answered, servers })}\n`);
  } else {
    const { colorFor } = await import('./client-output');
    io.stdout.write(formatStatusTable(results, colorFor(io.stdout, io.env)));
  }
  if (!answered) io.stderr.write('rss status: no server answered (are they running, is --servers right, is the peer secret right?)\n');
  return answered ? STATUS_EXIT.answered : STATUS_EXIT.none;
}

/** Add `status` to the program. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("each server's role, epoch, time left, users, texts, rates, retransmissions, duplicates, uptime and store (for operators)")
    .requiredOption('--servers <A,B,...>', 'servers A and B (or every server of a ring) as HOST:PORT,HOST:PORT,...', parseServers)
    .option('--json', 'print one JSON object: {ok, servers: [{tag, address, ok, status | error}]}')
    .addOption(
      new Option('--peer-secret <secret>', 'the servers\' peer secret (needed unless asking over loopback a pair that has none)').env(PEER_SECRET_ENV),
    )
    .addOption(new Option('--timeout <duration>', 'give up on a server that has not answered after this long').argParser(parseDuration).default(3000, '3s'))
    .addHelpText('after', '\nExit codes: 0 at least one server answered, 2 none did (or a usage error).')
    .action(async (o: StatusCommandOptions) => {
      const { processIo } = await import('./client-output');
      process.exitCode = await runStatusCommand(o, processIo());
    });
}
