/**
 * Public surface of the embedded engine: an in-process database that speaks
 * the MongoDB wire protocol on loopback, so the official driver connects to
 * `mongodb://host:port/` unchanged.
 */
import { launchEngine } from './launch.js';

/** Options of {@link startEngine}. */
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

/** Starts an engine and resolves once it accepts connections (after recovery when `dataDir` is set). */
export function startEngine(opts: EngineOptions = {}): Promise<RunningEngine> {
  return launchEngine(opts);
}
