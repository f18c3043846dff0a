/**
 * `node --import tsx bench/profile-publish.ts <fan-out> [publishers] [top]`
 *
 * Scenario 1 alone (quick config) for the working tree with the server
 * process sampled by V8's profiler: self time by layer and the top
 * functions, mapped to src/ file:line. For finding where the server's CPU
 * per publish goes at a given fan-out (`npm run bench -- --profile` does
 * fan-out 1 only).
 */
import { mkdirSync } from 'node:fs';
import { buildAll, OUT, workerPath } from './rss/build';
import { benchConfig } from './rss/config';
import { readProfile } from './rss/profile';
import { rssPublish } from './rss/publish';

const [fanout = '1', publishers = '64', top = '40'] = process.argv.slice(2);
const cfg = { ...benchConfig(true), publishers: Number(publishers), warmupMs: 1000, durationMs: 4000 };
await buildAll({ worktree: true });
mkdirSync(OUT, { recursive: true });
const path = `${OUT}server-publish-${fanout}.cpuprofile`;
const { throughput } = await rssPublish(cfg, { fanout: Number(fanout), profile: path });
const p = readProfile(path, workerPath('server'), Number(top));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
process.stdout.write(`fan-out ${fanout}: ${Math.round(throughput.rate)} pub/s, ${throughput.cpuPerPublishUs.toFixed(0)} us server CPU per publish\n`);
for (const l of p.layers) process.stdout.write(`  ${pct(l.share).padStart(6)}  ${l.layer}\n`);
for (const h of p.top) process.stdout.write(`  ${pct(h.share).padStart(6)}  ${h.name}  ${h.where}\n`);
