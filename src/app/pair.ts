/**
 * Composition of one rss server (socket + store + server core) and of the
 * demo's servers (a pair, or a ring of N), with what the command line may
 * look at: `inspect()` of a server and `users()` of a group, plain data
 * (server/inspect.ts). The CLI parses options, calls these and prints.
 */
import type { RetentionPolicy } from '../server/retention';
import { RssServer } from '../server/server';
import { STANDBY_CONNECTIONS, Store } from '../store/store';
import { legacyDialects } from '../protocol/dialects';
import { positionTag, type RingMember, type ServerTag } from '../protocol/messages';
import { InvalidArgumentError } from '../errors';
import type { Address, Transport } from '../transport/types';
import { SERVER_RECV_BUFFER, openUdp } from '../transport/udp';
import { parseChaosSpec, type ChaosSpec } from '../transport/chaos-spec';
import { logged } from '../transport/logging';
import { prepareServingProcess } from './heap-tuning';
import { switchable, type SwitchableTransport } from '../transport/switchable';
import type { Logger } from '../util/log';
import type { RoleTiming } from '../server/role';
import { newPeerSecret, type SecurityOptions } from '../server/guard';
import type { StoreCheckOptions } from '../server/store-check';
import { StorageError } from '../errors';
import { inspectServer, servingUsers, storedUsers, type ServerInspection, type UserView } from '../server/inspect';

export type { ServerInspection, UserView };

/** What one server and a pair are both set up with. */
interface CommonSetup {
  mongoUri: string;
  period: number;
  dbName?: string;
  logger?: Logger;
  chaos?: string;
  roleTiming?: Partial<RoleTiming>;
  /** WHO's online window, ms (default 60 s). */
  presenceWindow?: number;
  /** How long replies are kept for retransmissions (ms). */
  replyLifetime?: number;
  /** How often each server checks that the other uses the same store. */
  storeCheck?: Partial<StoreCheckOptions>;
  /** When texts nobody needs are deleted (server/retention.ts). */
  retention?: Partial<RetentionPolicy>;
}

export interface ServerSetup extends CommonSetup {
  tag: ServerTag;
  host: string;
  port: number;
  /** A pair's other server (with `ring`: unused). */
  peer: Address;
  /** A ring instead of a pair: every server in ring order, this one included. */
  ring?: readonly RingMember[];
  /** --peer-secret, --require-auth, rate limits (defaults: defaultSecurityOptions(); the peer secret from the store). */
  security?: Partial<SecurityOptions>;
  /**
   * Whether security.peerSecret was configured by the operator (default
   * true when there is one). A secret generated for a run is not: STATUS is
   * then answered over loopback only.
   */
  peerSecretConfigured?: boolean;
}

export interface StartedServer {
  server: RssServer;
  store: Store;
  /** The server's fault injector: `setSpec` turns chaos on, changes it or turns it off while it runs. */
  chaos: SwitchableTransport;
  /** What the server is and does right now, as plain data (also once stopped: its last state). */
  inspect(): ServerInspection;
  close(): Promise<void>;
}

/**
 * Open the socket and the store, and start the server (it begins as standby
 * and takes the lease when due). The server's transport is, from the socket
 * up: UDP → switchable fault injection (`--chaos`, off by default) → datagram
 * log (debug level, when a logger is given) → server, so the log shows what
 * the server itself sent and received.
 */
export async function startServer(setup: ServerSetup, transport?: Transport): Promise<StartedServer> {
  // A process that serves keeps its minor collections short, its full ones rare and its event loop first.
  prepareServingProcess();
  const spec = setup.chaos ? parseChaosSpec(setup.chaos) : undefined;
  const store = await Store.open({
    uri: setup.mongoUri,
    ...(setup.dbName ? { dbName: setup.dbName } : {}),
    // Every server starts as standby: its takeover's calls find their connections open.
    warmConnections: STANDBY_CONNECTIONS,
    migrated: (r) => setup.logger?.info(r, `store migrated from data model ${r.from} to ${r.to}: ${r.rows} owed-text rows of the inbox became the cursors of ${r.users} users; the inbox is gone`),
  });
  let socket: Transport;
  try {
    socket = transport ?? (await openUdp({ host: setup.host, port: setup.port, recvBufferSize: SERVER_RECV_BUFFER }));
  } catch (err) {
    await store.close();
    throw err;
  }
  const chaos = switchable(socket, spec);
  const t = setup.logger ? logged(chaos, setup.logger.child({ server: setup.tag, component: 'udp' })) : chaos;
  const server = new RssServer({
    tag: setup.tag,
    transport: t,
    peer: setup.peer,
    ...(setup.ring ? { ring: setup.ring } : {}),
    store,
    period: setup.period,
    dialects: legacyDialects,
    ...(setup.logger ? { logger: setup.logger } : {}),
    ...(setup.roleTiming ? { roleTiming: setup.roleTiming } : {}),
    ...(setup.security ? { security: setup.security } : {}),
    statusSecret: setup.peerSecretConfigured === false ? undefined : setup.security?.peerSecret,
    storeLabel: storeLabel(setup.mongoUri, setup.dbName),
    ...(setup.presenceWindow !== undefined ? { presenceWindow: setup.presenceWindow } : {}),
    ...(setup.replyLifetime !== undefined ? { replyLifetime: setup.replyLifetime } : {}),
    ...(setup.storeCheck ? { storeCheck: setup.storeCheck } : {}),
    ...(setup.retention ? { retention: setup.retention } : {}),
  });
  server.start();
  return {
    server,
    store,
    chaos,
    inspect: () => inspectServer(server),
    close: async () => {
      await server.close();
      await store.close();
    },
  };
}

export interface PairSetup extends CommonSetup {
  portA: number;
  portB: number;
  host?: string;
  /** Security options of both servers; without a peer secret, one is generated for this run. */
  security?: Partial<SecurityOptions>;
  /** How long to wait for one of them to serve before giving up (ms, default 30 s). */
  startTimeout?: number;
}

/** N servers in one process: a pair (A and B) when N is 2, otherwise a ring A, B, C, ... */
export interface GroupSetup extends Omit<PairSetup, 'portA' | 'portB'> {
  /** One port per server, in ring order (0 picks a free one); names are A, B, C, ... */
  ports: readonly number[];
}

/** Server names of a demo group: A, B, C, ... */
export function groupNames(n: number): ServerTag[] {
  return Array.from({ length: n }, (_, i) => positionTag(i));
}

export interface StartedGroup {
  /** The servers' names in ring order. */
  readonly tags: readonly ServerTag[];
  /** A server as last started (after stopServer, the stopped one until it is started again). */
  get(tag: ServerTag): StartedServer;
  /** Whether the server runs (it was not stopped, or was started again). */
  running(tag: ServerTag): boolean;
  /**
   * Stop one server abruptly, as if its process were killed: its socket, timers
   * and store connection close, it hands nothing over and tells no one.
   * Another server takes over when the lease expires (failover). False when
   * it was not running.
   */
  stopServer(tag: ServerTag): Promise<boolean>;
  /** Start a stopped server again on the same port; it comes back as a standby. */
  startServer(tag: ServerTag): Promise<StartedServer>;
  /** Faults for every server from now on (also after a restart): a spec or its `--chaos` text; undefined turns them off. */
  setChaos(spec: ChaosSpec | string | undefined): void;
  /**
   * The registered users, sorted by name: the serving server's, with online
   * flags (`live`), else as the store has them, read through any running
   * server; undefined when no server runs.
   */
  users(): Promise<UserListing | undefined>;
  close(): Promise<void>;
}

export interface UserListing {
  users: UserView[];
  /** From the serving server's directory, with online flags; false: from the store, online unknown. */
  live: boolean;
}

export interface StartedPair extends StartedGroup {
  /** Server A as last started (after stopServer('A'), the stopped one until it is started again). */
  readonly a: StartedServer;
  readonly b: StartedServer;
}

/** Both servers in this process, on their own UDP sockets, sharing one store; resolves when A serves. */
export async function startPair(setup: PairSetup): Promise<StartedPair> {
  const { portA, portB, ...rest } = setup;
  const group = await startGroup({ ...rest, ports: [portA, portB] });
  return {
    ...group,
    // Getters, read at each use: a restarted server replaces the stopped one.
    get a() {
      return group.get('A');
    },
    get b() {
      return group.get('B');
    },
  };
}

/** N servers (2 ≤ N ≤ 9) in this process sharing one store: a pair for 2, a ring for more; resolves when one serves. */
export async function startGroup(setup: GroupSetup): Promise<StartedGroup> {
  const host = setup.host ?? '127.0.0.1';
  const tags = groupNames(setup.ports.length);
  // Bind every socket first: each server must know the others' real ports.
  const sockets: Transport[] = [];
  try {
    for (const port of setup.ports) sockets.push(await openUdp({ host, port, recvBufferSize: SERVER_RECV_BUFFER }));
  } catch (err) {
    await Promise.all(sockets.map((t) => t.close()));
    throw err;
  }
  const addrs = sockets.map((t) => t.address());
  // One peer secret per run unless given: the servers of this process share it, nobody else knows it.
  const security = { ...setup.security, peerSecret: setup.security?.peerSecret ?? newPeerSecret() };
  const common = {
    host, mongoUri: setup.mongoUri, period: setup.period, ...pick(setup), security,
    peerSecretConfigured: setup.security?.peerSecret !== undefined,
  };
  const ring = tags.length > 2 ? tags.map((tag, i) => ({ tag, host: addrs[i]!.host, port: addrs[i]!.port })) : undefined;
  const setups = new Map<ServerTag, ServerSetup>(tags.map((tag, i) => [tag, {
    ...common, tag, port: addrs[i]!.port, peer: addrs[(i + 1) % tags.length]!, ...(ring ? { ring } : {}),
  }]));
  const current = new Map<ServerTag, StartedServer>();
  for (const [i, tag] of tags.entries()) current.set(tag, await startServer(setups.get(tag)!, sockets[i]));
  const stopped = new Set<ServerTag>();
  let chaos = setup.chaos ? parseChaosSpec(setup.chaos) : undefined;
  const limit = setup.startTimeout ?? 30_000;
  const serves = await new Promise<boolean>((resolve) => {
    const servers = [...current.values()].map((c) => c.server);
    if (servers.some((s) => s.serving)) return resolve(true);
    const t = setTimeout(() => resolve(false), limit);
    const done = () => {
      clearTimeout(t);
      resolve(true);
    };
    for (const s of servers) s.once('serving', done);
  });
  if (!serves) {
    await Promise.all([...current.values()].map((c) => c.close()));
    throw new StorageError(`no server could start serving within ${limit} ms (is the store reachable?)`);
  }
  const known = (tag: ServerTag): StartedServer => {
    const c = current.get(tag);
    if (!c) throw new InvalidArgumentError(`no server ${tag} (servers: ${tags.join(', ')})`);
    return c;
  };
  return {
    tags,
    get: known,
    running: (tag) => current.has(tag) && !stopped.has(tag),
    async stopServer(tag) {
      const c = known(tag);
      if (stopped.has(tag)) return false;
      stopped.add(tag);
      await c.close();
      return true;
    },
    async startServer(tag) {
      const c = known(tag);
      if (!stopped.has(tag)) return c;
      // Same port: users and the other servers know this server by its address.
      const { chaos: _initial, ...again } = setups.get(tag)!;
      const started = await startServer(again);
      started.chaos.setSpec(chaos);
      current.set(tag, started);
      stopped.delete(tag);
      return started;
    },
    async users() {
      const running = tags.filter((t) => !stopped.has(t)).map((t) => known(t).server);
      for (const server of running) {
        const serving = servingUsers(server);
        if (serving) return { users: serving.users, live: true };
      }
      return running[0] ? { users: await storedUsers(running[0]), live: false } : undefined;
    },
    setChaos(given) {
      const spec = typeof given === 'string' ? parseChaosSpec(given) : given;
      chaos = spec;
      for (const tag of tags) if (!stopped.has(tag)) known(tag).chaos.setSpec(spec);
    },
    close: async () => {
      const live = tags.filter((t) => !stopped.has(t));
      for (const t of live) stopped.add(t);
      await Promise.all(live.map((t) => known(t).close()));
    },
  };
}

function pick(s: CommonSetup): Partial<ServerSetup> {
  const out: Partial<ServerSetup> = {};
  if (s.dbName) out.dbName = s.dbName;
  if (s.logger) out.logger = s.logger;
  if (s.chaos) out.chaos = s.chaos;
  if (s.roleTiming) out.roleTiming = s.roleTiming;
  if (s.presenceWindow !== undefined) out.presenceWindow = s.presenceWindow;
  if (s.replyLifetime !== undefined) out.replyLifetime = s.replyLifetime;
  if (s.storeCheck) out.storeCheck = s.storeCheck;
  if (s.retention) out.retention = s.retention;
  return out;
}

/**
 * The store as the status report names it: the URI's hosts and the
 * database, never credentials or options ("127.0.0.1:27017/rss").
 */
export function storeLabel(uri: string, dbName?: string): string {
  // The store opens dbName, or "rss" (Store.open), whatever the URI's path says.
  const m = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]*)/.exec(uri);
  return `${m?.[1] || '?'}/${dbName ?? 'rss'}`;
}
