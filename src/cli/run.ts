/** Shared plumbing of long-running commands: clean shutdown and error reporting. */
import { RssError } from '../errors';

/** Run `close` once on SIGINT/SIGTERM, then exit 0. */
export function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`\n${signal}: stopping\n`);
    close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`error while stopping: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
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
