/**
 * Composition of one rss server (socket + store + server core) and of the
 * demo's pair. The CLI only parses options and calls these.
 */
import { RssServer } from '../server/server';
import { Store } from '../store/store';
import { legacyDialects } from '../protocol/dialects';
import type { ServerTag } from '../protocol/messages';
import type { Address, Transport } from '../transport/types';
import { openUdp } from '../transport/udp';
import { lossy } from '../transport/lossy';
import { parseChaosSpec } from '../transport/chaos-spec';
import type { Logger } from '../util/log';
import type { RoleTiming } from '../server/role';

export interface ServerSetup {
  tag: ServerTag;
  host: string;
  port: number;
  peer: Address;
  mongoUri: string;
  period: number;
  dbName?: string;
  logger?: Logger;
  chaos?: string;
  roleTiming?: Partial<RoleTiming>;
}

export interface StartedServer {
  server: RssServer;
  store: Store;
  close(): Promise<void>;
}

/** Open the socket and the store, and start the server (it begins as standby and takes the lease when due). */
export async function startServer(setup: ServerSetup, transport?: Transport): Promise<StartedServer> {
  const store = await Store.open({ uri: setup.mongoUri, ...(setup.dbName ? { dbName: setup.dbName } : {}) });
  let t = transport ?? (await openUdp({ host: setup.host, port: setup.port }));
  if (setup.chaos) t = lossy(t, parseChaosSpec(setup.chaos));
  const server = new RssServer({
    tag: setup.tag,
    transport: t,
    peer: setup.peer,
    store,
    period: setup.period,
    dialects: legacyDialects,
    ...(setup.logger ? { logger: setup.logger } : {}),
    ...(setup.roleTiming ? { roleTiming: setup.roleTiming } : {}),
  });
  server.start();
  return {
    server,
    store,
    close: async () => {
      await server.close();
      await store.close();
    },
  };
}

export interface PairSetup {
  mongoUri: string;
  portA: number;
  portB: number;
  period: number;
  host?: string;
  dbName?: string;
  logger?: Logger;
  chaos?: string;
  roleTiming?: Partial<RoleTiming>;
}

export interface StartedPair {
  a: StartedServer;
  b: StartedServer;
  close(): Promise<void>;
}

/** Both servers in this process, on their own UDP sockets, sharing one store; resolves when A serves. */
export async function startPair(setup: PairSetup): Promise<StartedPair> {
  const host = setup.host ?? '127.0.0.1';
  // Bind both sockets first: each server must know the other's real port.
  const ta = await openUdp({ host, port: setup.portA });
  const tb = await openUdp({ host, port: setup.portB });
  const common = { host, mongoUri: setup.mongoUri, period: setup.period, ...pick(setup) };
  const a = await startServer({ ...common, tag: 'A', port: ta.address().port, peer: tb.address() }, ta);
  const b = await startServer({ ...common, tag: 'B', port: tb.address().port, peer: ta.address() }, tb);
  await new Promise<void>((resolve) => {
    if (a.server.serving || b.server.serving) return resolve();
    const done = () => resolve();
    a.server.once('serving', done);
    b.server.once('serving', done);
  });
  return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
}

function pick(s: PairSetup): Partial<ServerSetup> {
  const out: Partial<ServerSetup> = {};
  if (s.dbName) out.dbName = s.dbName;
  if (s.logger) out.logger = s.logger;
  if (s.chaos) out.chaos = s.chaos;
  if (s.roleTiming) out.roleTiming = s.roleTiming;
  return out;
}
