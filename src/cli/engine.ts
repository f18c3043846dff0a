/** `rss engine`: the embedded database engine on its own, so servers A and B can run as separate processes sharing one store. */
import type { Command } from 'commander';
import { parsePort } from './args';
import { fail, onShutdown } from './run';

export function registerEngineCommand(program: Command): void {
  program
    .command('engine')
    .description('run the embedded MongoDB-compatible engine standalone and print its mongodb:// URI')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'TCP port (0 picks a free one)', parsePort, 27017)
    .option('--data-dir <dir>', 'keep data durably in this folder (default: in memory only)')
    .action(async (o: { host: string; port: number; dataDir?: string }) => {
      try {
        const { startEmbeddedEngine } = await import('../app/database');
        const engine = await startEmbeddedEngine({
          host: o.host,
          port: o.port,
          ...(o.dataDir ? { dataDir: o.dataDir } : {}),
          onWarning: (m) => process.stderr.write(`engine: ${m}\n`),
        });
        onShutdown(() => engine.close());
        process.stdout.write(`${engine.uri}\n`);
        process.stderr.write(`rss engine ready on ${engine.host}:${engine.port} (${o.dataDir ? `data in ${o.dataDir}` : 'in memory only'})\n`);
      } catch (err) {
        fail(err);
      }
    });
}
