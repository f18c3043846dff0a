/** `rss server`: one server of the pair, for real deployments. */
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { ServerTag } from '../protocol/messages';
import type { Address } from '../client';
import { parseHostPort, parsePeriod, parsePort, parseRole } from './args';
import { createLogger } from './logger';
import { commandName } from './invocation';
import { fail, onShutdown } from './run';
import { InvalidArgumentError } from '../errors';
import { checkHttp, httpOption, httpTokenOption, startHttp, type HttpCliOptions } from './http-options';

interface ServerCliOptions extends HttpCliOptions {
  role: ServerTag;
  port: number;
  peer: Address;
  host: string;
  mongo?: string;
  period: number;
  dataDir?: string;
  chaos?: string;
  logLevel: string;
  logFile?: string;
  peerSecret?: string;
  requireAuth?: boolean;
}

/** A peer secret must be long enough not to be guessed (it authenticates TAKEOVER and wraps user keys). */
export function parseSecret(v: string): string {
  if (v.length < 16) throw new InvalidArgumentError('--peer-secret must be at least 16 characters');
  return v;
}

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run server A or B of a pair (both must share one MongoDB: --mongo)')
    .requiredOption('--role <A|B>', 'which server of the pair this is', parseRole)
    .requiredOption('--port <n>', 'UDP port to listen on (0 picks a free one)', parsePort)
    .requiredOption('--peer <host:port>', 'UDP address of the other server', parseHostPort)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--mongo <uri>', 'MongoDB URI shared with the other server (default: an embedded engine with a data folder)')
    .addOption(new Option('--period <duration>', 'serving period before handing over (e.g. 30s, 2m; at least the 1.5s lease)').argParser(parsePeriod).default(120_000, '2m'))
    .option('--data-dir <dir>', 'data folder of the embedded engine when --mongo is not given')
    .option('--chaos <spec>', 'inject faults into this server\'s datagrams (e.g. drop=0.1,dup=0.05,seed=1)')
    .option('--peer-secret <secret>', 'secret shared with the other server: authenticates TAKEOVER and wraps user keys (default: a random one kept in the store)', parseSecret)
    .option('--require-auth', 'refuse registrations from the unauthenticated legacy dialects (canonical text, pickle)')
    .option('--log-level <level>', 'trace, debug, info, warn, error or silent', 'info')
    .option('--log-file <path>', 'write logs to this file instead of stderr')
    .addOption(httpOption())
    .addOption(httpTokenOption())
    .action(async (o: ServerCliOptions) => {
      try {
        await runServer(o);
      } catch (err) {
        fail(err);
      }
    });
}

async function runServer(o: ServerCliOptions): Promise<void> {
  checkHttp(o);
  const logger = await createLogger(o.logLevel, o.logFile);
  const { openDatabase } = await import('../app/database');
  let mongo = o.mongo;
  let closeDb = async () => {};
  if (!mongo) {
    const { default: envPaths } = await import('env-paths');
    const dataDir = o.dataDir ?? join(envPaths('rss', { suffix: '' }).data, `engine-${o.role}`);
    const db = await openDatabase({ engine: 'embedded', dataDir, onWarning: (m) => logger.warn({}, m) });
    mongo = db.uri;
    closeDb = () => db.close();
    process.stderr.write(`rss server ${o.role}: embedded engine with data in ${dataDir} at ${db.uri}\n`);
    process.stderr.write(`  (the other server must share it: ${commandName()} server --role ${o.role === 'A' ? 'B' : 'A'} --mongo ${db.uri} ...)\n`);
  }
  const { startServer } = await import('../app/pair');
  const started = await startServer({
    tag: o.role, host: o.host, port: o.port, peer: o.peer, mongoUri: mongo, period: o.period, logger,
    ...(o.chaos ? { chaos: o.chaos } : {}),
    security: { requireAuth: Boolean(o.requireAuth), ...(o.peerSecret !== undefined ? { peerSecret: o.peerSecret } : {}) },
  });
  const { server } = started;
  const addr = `${server.address.host}:${server.address.port}`;
  const http = await startHttp(o, { servers: () => [{ tag: o.role, server, running: true }] }).catch(async (err: unknown) => {
    await started.close();
    await closeDb();
    throw err;
  });
  // Handlers first: a signal sent right after the ready line must still stop cleanly.
  onShutdown(async () => {
    await http?.close();
    await started.close();
    await closeDb();
  });
  process.stdout.write(`rss server ${o.role} ready on ${addr} (peer ${o.peer.host}:${o.peer.port})${http ? `; http ${http.url}` : ''}\n`);
  server.on('serving', (e) => process.stdout.write(`${o.role} serving (epoch ${e.epoch}, ${e.reason})\n`));
  server.on('standby', (e) => process.stdout.write(`${o.role} standby (epoch ${e.epoch}, ${e.reason})\n`));
  server.on('handoff', (e) => process.stdout.write(`handoff ${e.from} → ${e.to} (epoch ${e.epoch + 1}), ${e.users} users${e.others > 0 ? ` and ${e.others} other client${e.others === 1 ? '' : 's'}` : ''} told\n`));
  server.on('store-mismatch', (e) =>
    process.stdout.write(e ? `${o.role} REFUSES TO SERVE: ${e.message}\n` : `${o.role} the other server no longer names another store: may serve again\n`));
}
