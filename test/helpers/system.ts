/** A whole rss system for tests: embedded engine + servers A and B on 127.0.0.1 port 0, and clients. */
import { afterEach } from 'vitest';
import { startPair, type StartedPair } from '../../src/app/pair';
import { RssClient, type RssClientOptions } from '../../src/client/client';
import { startEngine, type RunningEngine } from '../../src/engine';
import type { SecurityOptions } from '../../src/server/guard';
import type { Address } from '../../src/transport/types';
import type { TcpFaultProxy } from '../../src/transport/tcp-fault-proxy';
import { proxyInFront } from '../../src/app/store-faults';
import type { RoleTiming } from '../../src/server/role';
import type { RetentionPolicy } from '../../src/server/retention';
import { openRawDb, type RawDb } from './raw-db';

export interface TestSystem {
  engine: RunningEngine;
  pair: StartedPair;
  servers: [Address, Address];
  /** The fault proxy between the servers and the store (with `storeProxy: true`). */
  proxy?: TcpFaultProxy;
  client(opts?: Partial<RssClientOptions>): Promise<RssClient>;
  /** The servers' database through the test's own driver connection (straight to the engine), opened once. */
  raw(): Promise<RawDb>;
  close(): Promise<void>;
}

let dbCounter = 0;

export interface SystemOptions {
  period?: number;
  chaos?: string;
  security?: Partial<SecurityOptions>;
  replyLifetime?: number;
  /** Reach the store through a TcpFaultProxy (sys.proxy). */
  storeProxy?: boolean;
  roleTiming?: Partial<RoleTiming>;
  retention?: Partial<RetentionPolicy>;
}

export async function startSystem(opts: SystemOptions = {}): Promise<TestSystem> {
  const engine = await startEngine({ port: 0 });
  const front = opts.storeProxy ? await proxyInFront(engine.uri) : undefined;
  const dbName = `e2e_${process.pid}_${dbCounter++}`;
  const pair = await startPair({
    mongoUri: front?.uri ?? engine.uri, portA: 0, portB: 0, period: opts.period ?? 600_000,
    dbName,
    roleTiming: { leaseTtl: 600, renewEvery: 100, pollEvery: 50, safetyMargin: 200, ...opts.roleTiming },
    ...(opts.chaos ? { chaos: opts.chaos } : {}),
    ...(opts.security ? { security: opts.security } : {}),
    ...(opts.replyLifetime !== undefined ? { replyLifetime: opts.replyLifetime } : {}),
    ...(opts.retention ? { retention: opts.retention } : {}),
  });
  const servers: [Address, Address] = [pair.a.server.address, pair.b.server.address];
  const clients: RssClient[] = [];
  let raw: Promise<RawDb> | undefined;
  return {
    engine, pair, servers, ...(front ? { proxy: front.proxy } : {}),
    async client(o = {}) {
      const c = await RssClient.open({ servers, bind: { host: '127.0.0.1', port: 0 }, policy: { ackTimeoutMs: 60 }, ...o });
      clients.push(c);
      return c;
    },
    raw: () => (raw ??= openRawDb(engine.uri, dbName)),
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await (await raw)?.close();
      await pair.close();
      await front?.proxy.close();
      await engine.close();
    },
  };
}

/** Resolve with the next `n` values of `event`, or reject after `ms`. */
export function nextEvents<T>(emitter: { on(e: string, f: (v: T) => void): unknown; off(e: string, f: (v: T) => void): unknown }, event: string, n = 1, ms = 3000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out waiting for ${n} ${event} event(s); got ${got.length}`));
    }, ms);
    const on = (v: T) => {
      got.push(v);
      if (got.length === n) {
        clearTimeout(timer);
        emitter.off(event, on);
        resolve(got);
      }
    };
    emitter.on(event, on);
  });
}

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A `system()` for the calling test file: every system it starts is closed
 * after each test.
 */
export function systemsClosedAfterEach(): (opts?: Parameters<typeof startSystem>[0]) => Promise<TestSystem> {
  const open: TestSystem[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async (opts) => {
    const sys = await startSystem(opts);
    open.push(sys);
    return sys;
  };
}

/** alice and bob, each on its own client (opened with `opts`), registered and both interested in `news`. */
export async function aliceAndBob(sys: TestSystem, opts: Partial<RssClientOptions> = {}): Promise<{ alice: RssClient; bob: RssClient }> {
  const alice = await sys.client(opts);
  const bob = await sys.client(opts);
  await alice.register('alice');
  await bob.register('bob');
  await alice.subjects('alice', ['news']);
  await bob.subjects('bob', ['news']);
  return { alice, bob };
}
