/**
 * The `rss` command line: commander wiring only. Heavy modules (driver,
 * engine, servers) are loaded inside the actions so `--help` stays fast.
 */
import { Command } from 'commander';
import { registerClientCommand } from './client';
import { registerDemoCommand } from './demo';
import { registerEngineCommand } from './engine';
import { registerServerCommand } from './server';
import { registerStatusCommand } from './status';
import { registerStoreProxyCommand } from './store-proxy';
import { installProcessHandlers } from './run';

installProcessHandlers();

const program = new Command()
  .name('rss')
  .description('Register and Share System: publish short texts on subjects over UDP, served by a pair of servers that take turns')
  .version(RSS_VERSION, '-V, --version')
  // One hint line after an error, not the whole help: the error line says what was wrong.
  .showHelpAfterError('(add --help for usage)')
  .configureOutput({ outputError: (str, write) => write(str) })
  // Usage errors exit 2; --help and --version exit 0. Set before the commands are added: they inherit it.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

registerDemoCommand(program);
registerServerCommand(program);
registerClientCommand(program);
registerStatusCommand(program);
registerEngineCommand(program);
registerStoreProxyCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`rss: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
