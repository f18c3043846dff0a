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

const program = new Command()
  .name('rss')
  .description('Register and Share System: publish short texts on subjects over UDP, served by a pair of servers that take turns')
  .version(RSS_VERSION, '-V, --version')
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(str) });

registerDemoCommand(program);
registerServerCommand(program);
registerClientCommand(program);
registerStatusCommand(program);
registerEngineCommand(program);

program.exitOverride((err) => {
  // Usage errors exit 2; --help and --version exit 0.
  process.exit(err.exitCode === 0 ? 0 : 2);
});

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`rss: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
