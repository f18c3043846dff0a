/**
 * Issue "Nothing acknowledged is ever lost", and its faults: servers A and
 * B as separate processes on one `rss engine` behind a `rss store-proxy`,
 * 20 clients publishing over 5 subjects, 10% loss + 5% duplication +
 * reordering in both directions at both servers, a handoff every 2 s, and a
 * third of the way in one fault per scenario: the serving server SIGKILLed
 * (asserted to be the serving one) or SIGSTOPped for twice its lease, the
 * standby SIGSTOPped across a handoff (it is handed a lease it cannot take), the
 * store down for 3 s across a handoff or flapping across takeovers (5 s; 12 s
 * in the long runs), the
 * engine SIGKILLed and restarted on its data folder, or paused.
 *
 * Each run ends with every acknowledged publish stored exactly once, every
 * interested user shown each text exactly once and in order, no process
 * dead that was not killed, and a publish acknowledged again within
 * SERVE_AGAIN_MS of the fault's end (for a server killed or paused: of its
 * start; the other server must take over meanwhile).
 *
 * CI runs each scenario once with 20 × 20 publishes; RSS_FAULTS_LONG=1 runs
 * 20 × 100 (2,000) publishes, RSS_FAULTS_RUNS=N times each, and prints the
 * README's fault table. scripts/chaos-stress.sh runs them in several copies
 * at once, round after round (rare races, a loaded machine).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killLeftovers } from '../helpers/processes';
import { delay } from '../helpers/system';
import { LEASE_MS, runFaultScenario, type FaultFigures, type FaultSpan, type FaultWorld, type Scenario, type Tag } from '../helpers/fault-run';

const LONG = process.env.RSS_FAULTS_LONG === '1';
const RUNS = LONG ? Number(process.env.RSS_FAULTS_RUNS ?? 1) : 1;
const USERS = 20;
const PER_USER = LONG ? 100 : 20;
/** Bound on "serving again": from the fault's end to the next acknowledged publish. */
const SERVE_AGAIN_MS = 8000;

const other = (t: Tag): Tag => (t === 'A' ? 'B' : 'A');

/** Resolves with the first serving event after `since` (by `tag` if given). */
async function nextServing(w: FaultWorld, since: number, tag?: Tag): Promise<{ tag: Tag; reason: string }> {
  for (let waited = 0; waited < 20_000; waited += 25) {
    const e = w.events.find((x) => x.at > since && (!tag || x.tag === tag));
    if (e) return e;
    await delay(25);
  }
  throw new Error(`no server started serving within 20 s after the fault`);
}

/**
 * Signal the serving server (chosen when no handoff is near) and check that it WAS serving: the other
 * takes over by failover (its lease expired), not by a handoff.
 */
async function hitServing(w: FaultWorld, signal: 'SIGKILL' | 'SIGSTOP'): Promise<{ victim: Tag; at: number }> {
  const victim = await w.servingForSure();
  const at = Date.now();
  await w.killServer(victim, signal);
  const next = await nextServing(w, at);
  if (next.tag !== other(victim) || next.reason !== 'failover') throw new Error(`after ${signal} to ${victim}: ${next.tag} serving by ${next.reason}`);
  return { victim, at };
}

/** When `fault` started and ended. */
async function timed(fault: () => Promise<void>): Promise<FaultSpan> {
  const start = Date.now();
  await fault();
  return { start, end: Date.now() };
}

const scenarios: Scenario[] = [
  {
    name: 'serving server SIGKILLed',
    async fault(w) {
      const { victim, at } = await hitServing(w, 'SIGKILL');
      w.restartServer(victim);
      return { start: at, end: at };
    },
  },
  {
    name: `serving server SIGSTOPped ${(2 * LEASE_MS) / 1000} s`,
    async fault(w) {
      const { victim, at } = await hitServing(w, 'SIGSTOP');
      await delay(Math.max(0, at + 2 * LEASE_MS - Date.now()));
      await w.killServer(victim, 'SIGCONT');
      return { start: at, end: Date.now() };
    },
  },
  {
    // A handoff gives the lease to a server that cannot take it: the lease expires and comes back by failover.
    name: 'standby server SIGSTOPped 3 s across a handoff',
    async fault(w) {
      const serving = await w.servingForSure();
      return timed(async () => {
        await w.killServer(other(serving), 'SIGSTOP');
        await delay(3000);
        await w.killServer(other(serving), 'SIGCONT');
      });
    },
  },
  {
    name: 'store down 3 s across a handoff',
    async fault(w) {
      // A handoff is due within half a second: the store goes while it happens.
      await w.servingForSure();
      while (Date.now() - w.events.at(-1)!.at < 1500) await delay(20);
      return timed(async () => {
        w.store('down');
        await delay(3000);
        w.store('up');
      });
    },
  },
  {
    name: 'store flapping (300 ms) for 5 s across takeovers',
    async fault(w) {
      return timed(async () => {
        w.store('flap 300');
        await delay(5000);
        w.store('up');
      });
    },
  },
  {
    // The long variant: more takeovers while the store comes and goes.
    name: 'store flapping (300 ms) for 12 s across takeovers',
    longOnly: true,
    async fault(w) {
      return timed(async () => {
        w.store('flap 300');
        await delay(12_000);
        w.store('up');
      });
    },
  },
  {
    name: 'rss engine SIGKILLed, restarted on its data folder 1 s later',
    dataDir: true,
    async fault(w) {
      return timed(async () => {
        await w.signalEngine('SIGKILL');
        await delay(1000);
        await w.restartEngine();
      });
    },
  },
  {
    name: 'rss engine SIGSTOPped 3 s',
    dataDir: true,
    async fault(w) {
      return timed(async () => {
        await w.signalEngine('SIGSTOP');
        await delay(3000);
        await w.signalEngine('SIGCONT');
      });
    },
  },
];

// A run that timed out never reached its own cleanup: its servers, engine and proxy must not outlive it.
afterEach(killLeftovers);

const table: FaultFigures[] = [];
afterAll(() => {
  if (table.length > 0) console.info(`fault table:\n${table.map((f) => JSON.stringify(f)).join('\n')}`);
});

describe('chaos with faults: nothing acknowledged lost, nothing shown twice, both servers alive, serving again soon', () => {
  for (const s of scenarios) {
    for (let run = 1; run <= RUNS; run++) {
      it.skipIf(s.longOnly && !LONG)(`${s.name}${RUNS > 1 ? ` (run ${run})` : ''}`, async () => {
        const f = await runFaultScenario(s, { users: USERS, perUser: PER_USER });
        table.push(f);
        console.info(`fault: ${JSON.stringify(f)}`);
        expect({ lost: f.lost, storedTwice: f.storedTwice, wrongSeq: f.wrongSeq, cursorPast: f.cursorPast, missing: f.missing, duplicated: f.duplicated, outOfOrder: f.outOfOrder, crashed: f.crashed })
          .toEqual({ lost: 0, storedTwice: 0, wrongSeq: 0, cursorPast: 0, missing: 0, duplicated: 0, outOfOrder: 0, crashed: [] });
        expect(f.acknowledged).toBeGreaterThan(0);
        expect(f.timeToServe).toBeLessThan(SERVE_AGAIN_MS);
        expect(f.longestSilence).toBeLessThan(f.faultMs + SERVE_AGAIN_MS);
      }, LONG ? 300_000 : 120_000);
    }
  }
});
