/**
 * The one place that starts an engine: wires core, durability and the wire
 * server together. index.ts is its public face; tests and benches come here
 * for the durability tuning and the core.
 */
import { EngineCore } from './core.js';
import { DEFAULT_TUNING, Durability, type DurabilityTuning } from './durability.js';
import { WireServer } from './server.js';

/** Options of an engine start. */
export interface EngineOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (the default) picks a free port. */
  port?: number;
  /** Directory for the journal and snapshots; without it the engine is purely in memory. */
  dataDir?: string;
  /** Receives non-fatal problems (dropped connections, recovery notes). Silent by default. */
  onWarning?: (msg: string) => void;
}

/** A started engine. */
export interface RunningEngine {
  /** Connection string for the driver, e.g. mongodb://127.0.0.1:40123/ */
  uri: string;
  host: string;
  port: number;
  /** Stops serving, closes client connections and (with a dataDir) the journal. */
  close(): Promise<void>;
}

/** A running engine plus handles the public API does not expose. */
export interface LaunchedEngine extends RunningEngine {
  readonly core: EngineCore;
  /** Forces a snapshot (only with a dataDir). */
  compact(): Promise<void>;
}

/** Starts an engine; `tuning` overrides durability thresholds. */
export async function launchEngine(opts: EngineOptions = {}, tuning: Partial<DurabilityTuning> = {}): Promise<LaunchedEngine> {
  const host = opts.host ?? '127.0.0.1';
  const warn = opts.onWarning ?? (() => {});
  const core = new EngineCore();
  const durability = opts.dataDir ? await Durability.open(opts.dataDir, core, warn, { ...DEFAULT_TUNING, ...tuning }) : undefined;
  const server = new WireServer(core, durability && ((m) => durability.persist(m)), warn);
  let port: number;
  try {
    port = await server.listen(host, opts.port ?? 0);
  } catch (err) {
    await durability?.close();
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    uri: `mongodb://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    host,
    port,
    core,
    compact: () => durability?.compact() ?? Promise.resolve(),
    close() {
      closed ??= (async () => {
        await server.close();
        core.cursors.clear();
        await durability?.close();
      })();
      return closed;
    },
  };
}
