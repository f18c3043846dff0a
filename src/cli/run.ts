/** Shared plumbing of long-running commands: clean shutdown and error reporting. */
import { RssError } from '../errors';

/** A stop that has not finished by then gives up waiting (something hangs: a store call, a drain) and exits 1. */
export const STOP_LIMIT_MS = 10_000;

/**
 * Run `close` once on SIGINT/SIGTERM, then exit 0. Always ends: after
 * STOP_LIMIT_MS, or at a second signal, it exits 1 without waiting more.
 */
export function onShutdown(close: () => Promise<void>, limit = STOP_LIMIT_MS): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) {
      process.stderr.write(`${signal} again: exiting without waiting\n`);
      process.exit(1);
    }
    closing = true;
    process.stderr.write(`\n${signal}: stopping\n`);
    setTimeout(() => {
      process.stderr.write(`still stopping after ${limit} ms: exiting without waiting more\n`);
      process.exit(1);
    }, limit).unref();
    close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`error while stopping: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/**
 * Process-level last resorts, for what escaped every handler: a rejected
 * promise nobody handled is a bug to report (logged with its stack), not a
 * reason to stop serving; an exception
 * thrown out of an event handler leaves the state unknown, so it is logged
 * and the process exits 1.
 */
export function installProcessHandlers(): void {
  process.on('unhandledRejection', (reason) => {
    const what = reason instanceof Error ? reason.stack ?? reason.message : String(reason);
    process.stderr.write(`rss: unhandled rejection (a bug; going on): ${what}\n`);
  });
  process.on('uncaughtException', (err) => {
    process.stderr.write(`rss: fatal: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}

/** A port that is taken, in one line naming the address (or undefined when `err` is something else). */
export function addressInUse(err: unknown): string | undefined {
  const e = err as (NodeJS.ErrnoException & { address?: string; port?: number }) | undefined;
  if (e?.code !== 'EADDRINUSE' && e?.code !== 'EACCES') return undefined;
  if (e.syscall !== 'bind' && e.syscall !== 'listen') return undefined;
  const where = `${e.address?.includes(':') ? `[${e.address}]` : e.address ?? '?'}:${e.port ?? '?'}`;
  const proto = e.syscall === 'bind' ? 'UDP' : 'TCP';
  return e.code === 'EADDRINUSE'
    ? `${proto} address ${where} is already in use (another process listens there): choose another port, or 0 for a free one`
    : `no permission to listen on ${proto} address ${where}: choose a port above 1023`;
}

/** Print a failure the way users should see it (no stack for expected errors) and exit 2. */
export function fail(err: unknown): never {
  const inUse = addressInUse(err);
  const msg = inUse ?? (err instanceof RssError ? `${err.message} [${err.code}]` : err instanceof Error ? err.stack ?? err.message : String(err));
  process.stderr.write(`rss: ${msg}\n`);
  process.exit(2);
}
