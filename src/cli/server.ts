/** `rss server`: one server of the pair (--peer) or of a ring (--peers), for real deployments. */
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { RingMember, ServerTag } from '../protocol/messages';
import type { Address } from '../client';
import { parseHostPort, parsePeers, parseKeepTexts, parsePeriod, parsePort, parseRole } from './args';
import { createLogger } from './logger';
import { commandName } from './invocation';
import { fail, onShutdown } from './run';
import { InvalidArgumentError } from '../errors';
import { checkHttp, httpOption, httpTokenOption, startHttp, type HttpCliOptions } from './http-options';
import { ringOrder } from '../server/ring';

interface ServerCliOptions extends HttpCliOptions {
  role: ServerTag;
  port?: number;
  peer?: Address;
  peers?: RingMember[];
  host: string;
  mongo?: string;
  period: number;
  keepTexts: number;
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
    .description('run server A or B of a pair, or one server of a ring (all must share one MongoDB: --mongo)')
    .requiredOption('--role <name>', 'which server this is: A or B of a pair (with --peer), or its name in the ring (with --peers)', parseRole)
    .option('--port <n>', 'UDP port to listen on (0 picks a free one; default: this server\'s port in --peers)', parsePort)
    .option('--peer <host:port>', 'a pair: UDP address of the other server', parseHostPort)
    .option('--peers <list>', 'a ring: NAME=HOST:PORT,NAME=HOST:PORT,... every server in ring order (this one included or not: then ordered by name)', parsePeers)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--mongo <uri>', 'MongoDB URI shared with the other server (default: an embedded engine with a data folder)')
    .addOption(new Option('--period <duration>', 'serving period before handing over (e.g. 30s, 2m; at least the 1.5s lease)').argParser(parsePeriod).default(120_000, '2m'))
    .addOption(new Option('--keep-texts <duration>', 'texts every reader of their subject has received are deleted once this old (the newest 1000 per subject stay); forever keeps them all').argParser(parseKeepTexts).default(120_000, '2m'))
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

/** What --peer/--peers/--port mean together: a pair, or a ring in order with this server's port. */
export function resolveTopology(o: Pick<ServerCliOptions, 'role' | 'port' | 'peer' | 'peers' | 'host'>): { port: number; peer: Address; ring?: RingMember[] } {
  if (o.peer && o.peers) throw new InvalidArgumentError('give either --peer (a pair) or --peers (a ring), not both');
  if (o.peer) {
    if (o.role !== 'A' && o.role !== 'B') throw new InvalidArgumentError(`a pair's servers are A and B (got --role ${o.role}); a ring is configured with --peers`);
    if (o.port === undefined) throw new InvalidArgumentError('--port is required (the UDP port of this server)');
    return { port: o.port, peer: o.peer };
  }
  if (!o.peers) throw new InvalidArgumentError('give --peer HOST:PORT (the other server of a pair) or --peers NAME=HOST:PORT,... (a ring)');
  const listed = o.peers.find((m) => m.tag === o.role);
  if (listed && o.port !== undefined && o.port !== 0 && o.port !== listed.port) {
    throw new InvalidArgumentError(`--port ${o.port} differs from ${o.role}'s port ${listed.port} in --peers`);
  }
  const port = listed?.port ?? o.port;
  if (port === undefined) throw new InvalidArgumentError(`--port is required when --peers does not name this server (${o.role})`);
  if (!listed && (o.host === '0.0.0.0' || o.host === '::')) {
    // The ring list tells clients where each server is: a wildcard is nowhere.
    throw new InvalidArgumentError(`with --host ${o.host}, name this server in --peers (${o.role}=HOST:PORT) with the address users reach it at`);
  }
  const ring = ringOrder({ tag: o.role, host: listed?.host ?? o.host, port }, o.peers);
  if (ring.length < 2) throw new InvalidArgumentError('a ring needs at least one other server in --peers');
  const i = ring.findIndex((m) => m.tag === o.role);
  const next = ring[(i + 1) % ring.length]!;
  return { port, peer: { host: next.host, port: next.port }, ring };
}

async function runServer(o: ServerCliOptions): Promise<void> {
  checkHttp(o);
  const topology = resolveTopology(o);
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
    process.stderr.write(`  (the other servers must share it: ${commandName()} server --role ${o.role === 'A' ? 'B' : 'A'} --mongo ${db.uri} ...)\n`);
  }
  const { startServer } = await import('../app/pair');
  const started = await startServer({
    tag: o.role, host: o.host, port: topology.port, peer: topology.peer, mongoUri: mongo, period: o.period, logger,
    retention: { keepMs: o.keepTexts },
    ...(topology.ring ? { ring: topology.ring } : {}),
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
  const others = topology.ring
    ? `ring ${topology.ring.map((m) => (m.tag === o.role ? m.tag : `${m.tag}=${m.host}:${m.port}`)).join(' ')}`
    : `peer ${topology.peer.host}:${topology.peer.port}`;
  process.stdout.write(`rss server ${o.role} ready on ${addr} (${others})${http ? `; http ${http.url}` : ''}\n`);
  server.on('serving', (e) => process.stdout.write(`${o.role} serving (epoch ${e.epoch}, ${e.reason})\n`));
  server.on('standby', (e) => process.stdout.write(`${o.role} standby (epoch ${e.epoch}, ${e.reason})\n`));
  server.on('handoff', (e) => process.stdout.write(`handoff ${e.from} → ${e.to} (epoch ${e.epoch + 1}), ${e.users} users${e.others > 0 ? ` and ${e.others} other client${e.others === 1 ? '' : 's'}` : ''} told\n`));
  server.on('store-mismatch', (e) =>
    process.stdout.write(e ? `${o.role} REFUSES TO SERVE: ${e.message}\n` : `${o.role} the other server no longer names another store: may serve again\n`));
}
