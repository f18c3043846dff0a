/** Wires core, durability and transport together; internal tuning is reachable here for tests and benches. */
import { EngineCore } from './core.js';
import { DEFAULT_TUNING, Durability, type DurabilityTuning } from './durability.js';
import type { EngineOptions, RunningEngine } from './index.js';
import { WireServer } from './server.js';

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
