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

/** Print a failure the way users should see it (no stack for expected errors) and exit 2. */
export function fail(err: unknown): never {
  const msg = err instanceof RssError ? `${err.message} [${err.code}]` : err instanceof Error ? err.stack ?? err.message : String(err);
  process.stderr.write(`rss: ${msg}\n`);
  process.exit(2);
}
