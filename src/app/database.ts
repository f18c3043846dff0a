/**
 * Where the store lives: an external MongoDB (--mongo URI), the embedded
 * engine, or a mongod run by mongodb-memory-server when a binary is already
 * on this machine (it is never downloaded here: offline machines fail fast).
 */
import { readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EngineOptions, RunningEngine } from '../engine';
import { RssError, StorageError } from '../errors';
import { prepareServingProcess } from './heap-tuning';

export type EngineChoice = 'auto' | 'embedded' | 'mongod';

export interface Database {
  uri: string;
  /** What runs it, for the ready line: "embedded", "mongod 7.0.x", "external". */
  kind: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  engine: EngineChoice;
  mongo?: string;
  dataDir?: string;
  onWarning?: (msg: string) => void;
}

/**
 * Whether a mongod binary may be present, without loading
 * mongodb-memory-server (which costs ~250 ms of start-up): its system-binary
 * setting, or a non-empty download cache in one of its usual places.
 */
export async function mayHaveMongod(): Promise<boolean> {
  if (process.env.MONGOMS_SYSTEM_BINARY) return true;
  const dirs = [
    process.env.MONGOMS_DOWNLOAD_DIR,
    join(homedir(), '.cache', 'mongodb-binaries'),
    join(process.cwd(), 'node_modules', '.cache', 'mongodb-memory-server'),
  ];
  for (const d of dirs) {
    if (!d) continue;
    const entries = await readdir(d).catch(() => [] as string[]);
    if (entries.some((e) => e.includes('mongod'))) return true;
  }
  return false;
}

/** Path of a mongod binary that is already present (system binary or mongodb-memory-server's cache), if any. */
export async function findMongod(): Promise<string | undefined> {
  const { DryMongoBinary } = await import('mongodb-memory-server-core');
  return (await DryMongoBinary.locateBinary({} as Parameters<typeof DryMongoBinary.locateBinary>[0]).catch(() => undefined)) ?? undefined;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.mongo) return { uri: opts.mongo, kind: 'external', close: async () => {} };
  let engine = opts.engine;
  if (engine !== 'embedded') {
    const binary = engine === 'auto' && !(await mayHaveMongod()) ? undefined : await findMongod();
    if (binary) return startMemoryServer(false);
    // auto never downloads; an explicit mongod downloads once (online) or fails at once (offline).
    if (engine === 'mongod') return startMemoryServer(true);
    engine = 'embedded';
  }
  const running = await startEmbeddedEngine({ host: '127.0.0.1', port: 0, ...(opts.dataDir ? { dataDir: opts.dataDir } : {}), ...(opts.onWarning ? { onWarning: opts.onWarning } : {}) });
  return { uri: running.uri, kind: opts.dataDir ? `embedded (${opts.dataDir})` : 'embedded (in memory)', close: () => running.close() };
}

/**
 * The one way rss starts the embedded engine (`rss demo`, `rss server`, `rss engine`).
 * The engine is standalone and has its own errors: a failure of its files
 * (a data directory in use, a failed journal write) becomes StorageError here.
 */
export async function startEmbeddedEngine(opts: EngineOptions): Promise<RunningEngine> {
  // The engine keeps every text in this process's heap: its minor collections stay short and its full ones rare too.
  prepareServingProcess();
  const { startEngine, EngineStorageError } = await import('../engine');
  try {
    return await startEngine(opts);
  } catch (err) {
    throw err instanceof EngineStorageError ? new StorageError(err.message, { cause: err }) : err;
  }
}

async function startMemoryServer(download: boolean): Promise<Database> {
  if (download) {
    // One attempt, no retries: offline, the lookup fails in milliseconds instead of ~7 s of retries.
    process.env.MONGOMS_MAX_RETRIES ??= '0';
    process.stderr.write('rss: no mongod on this machine: downloading one through mongodb-memory-server (first use only)...\n');
  } else {
    process.env.MONGOMS_RUNTIME_DOWNLOAD = 'false';
  }
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  // mongodb-memory-server prints a stack trace through console.warn when start fails; rss says it in one line.
  const warn = console.warn;
  console.warn = () => {};
  try {
    const server = await MongoMemoryServer.create();
    return { uri: server.getUri(), kind: 'mongod (mongodb-memory-server)', close: async () => void (await server.stop()) };
  } catch (err) {
    const e = err as Error & { msg?: string; url?: string };
    const why = e.url ? `${e.msg ?? 'download failed'}: ${new URL(e.url).host} unreachable` : e.message.split('\n')[0];
    throw new RssError(
      'RSS_ENGINE_UNAVAILABLE',
      `no mongod binary on this machine and none could be ${download ? 'downloaded' : 'started'} (${why}). ` +
        'Set MONGOMS_SYSTEM_BINARY=/path/to/mongod, or use --engine embedded (or auto, the default, which uses a mongod only when one is already here).',
      { cause: err },
    );
  } finally {
    console.warn = warn;
  }
}
