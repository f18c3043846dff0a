/**
 * `[AB_FLOOR=1] node --import tsx bench/ab.ts <publishers> <fan-out> <ref>...`
 *
 * Alternated A/B runs of scenario 1 alone (quick config, 1 s warm-up, 4 s
 * measured): for each ref in turn, src/ of that commit is built and benched
 * against rss (or, with AB_FLOOR=1, against the floor server), so commits
 * compared minutes apart share the machine's conditions. Prints each run's
 * figures (server CPU µs per publish first) on stderr and JSON on stdout.
 * FLOOR_RCVBUF=<bytes> (0: the system default) sets the floor's receive buffer.
 * AB_DISK=1 runs rss on a journaled data directory instead of in memory.
 */
import { buildAll } from './rss/build';
import { benchConfig } from './rss/config';
import { floorPublish, rssPublish } from './rss/publish';

const [publishers, fanout, ...refs] = process.argv.slice(2);
if (!publishers || !fanout || refs.length === 0) throw new Error('usage: bench/ab.ts <publishers> <fan-out> <ref>...');
const cfg = { ...benchConfig(true), publishers: Number(publishers), warmupMs: 1000, durationMs: 4000 };
for (const ref of refs) {
  await buildAll({ ref });
  const r = process.env.AB_FLOOR ? (await floorPublish(cfg, Number(fanout))).throughput : (await rssPublish(cfg, { fanout: Number(fanout), ...(process.env.AB_DISK ? { dataDir: true } : {}) })).throughput;
  process.stdout.write(`${JSON.stringify({ ref, ...r })}\n`);
}
