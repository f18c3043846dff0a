/** The sizes and durations of each scenario, for the full run and for --quick (under a minute). */
export interface BenchConfig {
  mode: 'full' | 'quick';
  /** Publishers (one subject each) in the throughput and latency scenarios; also the closed-loop window. */
  publishers: number;
  warmupMs: number;
  durationMs: number;
  /** Open-loop latency: duration per rate. */
  latencyMs: number;
  /** Scenario 1 with a journaled data directory: which fan-outs. */
  diskFanouts: number[];
  /** Handoffs and crash: serving period, how long to run, when to SIGKILL the serving server. */
  gapPeriodMs: number;
  gapRunMs: number;
  gapKillAtMs: number;
  gapRate: number;
  /** RETRIEVE-TEXTS: texts stored, texts owed per retrieval, rounds. */
  storedTexts: number;
  retrieveN: number;
  retrieveRounds: number;
  /** Idle users for the memory scenario. */
  idleUsers: number;
  demoStarts: number;
  /** Profile the server during scenario 1 (one user per subject). */
  profile: boolean;
  /** Load generator sockets (each its own client id). */
  sockets: number;
}

export function benchConfig(quick: boolean): BenchConfig {
  return quick
    ? {
        mode: 'quick', publishers: 64, warmupMs: 600, durationMs: 1500, latencyMs: 1200, diskFanouts: [1],
        gapPeriodMs: 1000, gapRunMs: 5000, gapKillAtMs: 3600, gapRate: 250,
        storedTexts: 100_000, retrieveN: 100, retrieveRounds: 10, idleUsers: 20_000, demoStarts: 3, profile: false, sockets: 4,
      }
    : {
        mode: 'full', publishers: 256, warmupMs: 2000, durationMs: 10_000, latencyMs: 8000, diskFanouts: [1, 10],
        gapPeriodMs: 1000, gapRunMs: 14_000, gapKillAtMs: 10_600, gapRate: 250,
        storedTexts: 1_000_000, retrieveN: 100, retrieveRounds: 30, idleUsers: 100_000, demoStarts: 5, profile: true, sockets: 4,
      };
}
