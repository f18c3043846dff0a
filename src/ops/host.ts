/**
 * What the operations endpoints (metrics, health, dashboard) see of the
 * process they run in: its servers (one for `rss server`, the demo's several),
 * and, in the demo only, the steering actions.
 */
import type { ServerTag } from '../protocol/messages';
import type { RssServer } from '../server/server';

export interface HostedServer {
  tag: ServerTag;
  /** The server as last started (a stopped one keeps its last instance, closed). */
  server: RssServer;
  running: boolean;
}

/** The demo's steering actions; each resolves with a line saying what happened. */
export interface HostControl {
  handoff(): Promise<string>;
  kill(tag: ServerTag): Promise<string>;
  start(tag: ServerTag): Promise<string>;
  /** A chaos spec (e.g. "drop=0.1,dup=0.05") or "off". */
  chaos(spec: string): Promise<string>;
  /** The chaos spec in force, if any. */
  chaosSpec(): string | undefined;
  /** Store faults, where the demo's store is behind a fault proxy: "down", "up", "slow", "flap" (then the page offers them). */
  store?(fault: string): Promise<string>;
}

export interface OpsHost {
  servers(): HostedServer[];
  control?: HostControl;
}
