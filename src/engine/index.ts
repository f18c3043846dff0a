/**
 * Public surface of the embedded engine: an in-process database that speaks
 * the MongoDB wire protocol on loopback, so the official driver connects to
 * `mongodb://host:port/` unchanged. Everything outside src/engine uses this
 * file only; launch.ts does the wiring (tests and benches reach its tuning).
 */
import { launchEngine, type EngineOptions, type RunningEngine } from './launch.js';

export type { EngineOptions, RunningEngine } from './launch.js';
export { EngineStorageError, type EngineStorageCode } from './errors.js';

/** Starts an engine and resolves once it accepts connections (after recovery when `dataDir` is set). */
export function startEngine(opts: EngineOptions = {}): Promise<RunningEngine> {
  return launchEngine(opts);
}
