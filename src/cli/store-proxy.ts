/**
 * `rss store-proxy`: a TCP fault proxy in front of the store, so anyone can
 * watch a pair ride through store faults: give the servers its URI
 * (`rss server --mongo URI`) and type `down`, `up`, `slow 500`, `flap 1000`,
 * `reset` or `blackhole` on its standard input.
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { Address } from '../client';
import { parseHostPort, parsePort } from './args';
import { fail, onShutdown } from './run';

export function registerStoreProxyCommand(program: Command): void {
  program
    .command('store-proxy')
    .description('forward TCP to the store and inject faults typed on stdin (up, down, reset, blackhole, slow MS, flap MS)')
    .requiredOption('--to <host:port>', 'the store (MongoDB or `rss engine`)', parseHostPort)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'TCP port (0 picks a free one)', parsePort, 0)
    .action(async (o: { to: Address; host: string; port: number }) => {
      try {
        const { proxyInFront, applyStoreFault, STORE_FAULT_HELP } = await import('../app/store-faults');
        const { proxy, uri } = await proxyInFront(`mongodb://${o.to.host}:${o.to.port}/`, { host: o.host, port: o.port });
        onShutdown(() => proxy.close());
        process.stdout.write(`${uri}\n`);
        process.stderr.write(`rss store-proxy: ${proxy.host}:${proxy.port} → ${o.to.host}:${o.to.port}; commands: ${STORE_FAULT_HELP}\n`);
        const rl = createInterface({ input: process.stdin });
        rl.on('line', (line) => {
          if (!line.trim()) return;
          try {
            process.stderr.write(`store: ${applyStoreFault(proxy, line)}\n`);
          } catch (err) {
            process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
          }
        });
      } catch (err) {
        fail(err);
      }
    });
}
