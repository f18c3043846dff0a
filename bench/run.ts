/**
 * `npm run bench [-- --quick] [-- --worktree] [-- --ref <commit>] [-- --only 1,2,...]`
 *
 * Runs the rss scenarios (bench/rss/), each with the server side and the
 * load generator in separate processes over loopback UDP, the MQTT baseline
 * (Aedes) and the floor (the same datagrams handled with no store,
 * rss/floor-server.ts) in the same run, and writes the results with machine, date and
 * commit into docs/BENCHMARKS.md (section "full" or "quick"); the raw
 * figures go to bench/out/results-<mode>.json. --quick takes under a minute.
 * BENCH_LATENCY_MAX=<publishes/s> sets the rate the open-loop shares are of
 * (default: the run's own closed-loop maximum), so runs of two commits
 * compared side by side answer the very same rates. Not part of `npm test`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildAll, workerPath, OUT } from './rss/build';
import { benchConfig } from './rss/config';
import { canPin } from './rss/proc';
import { readProfile } from './rss/profile';
import { aedesPublish, floorPublish, log, rssPublish } from './rss/publish';
import { loadBefore, renderMarkdown, writeSection, type Results } from './rss/report';
import { demoStartup, gaps, memory, retrieve } from './rss/system';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const value = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const only = value('only')?.split(',').map(Number);
const wants = (n: number) => !only || only.includes(n);

const started = performance.now();
const cfg = { ...benchConfig(flag('quick')), ...(flag('profile') ? { profile: true } : {}) };
const ref = value('ref');
const built = await buildAll({ worktree: flag('worktree'), ...(ref ? { ref } : {}) });
log(`${cfg.mode} run of ${built.commit}${canPin ? '' : ' (taskset not available: processes are not pinned)'}`);

const r: Results = {
  cfg, commit: built.commit, date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', pinned: canPin,
  loadBefore: loadBefore(), throughput: [], latency: [],
};

if (wants(1) || wants(2)) {
  const one = await rssPublish(cfg, { fanout: 1, latencyShares: wants(2) ? [0.1, 0.5, 0.9] : [] });
  r.throughput.push(one.throughput);
  r.latency = one.latency;
}
if (wants(1)) {
  r.throughput.push((await rssPublish(cfg, { fanout: 10 })).throughput);
  for (const fanout of [1, 10]) r.throughput.push(await aedesPublish(cfg, fanout));
  for (const fanout of [1, 10]) {
    // The floor's open-loop tail at fan-out 1 at rss's very rates (scenario 2): the same load without rss's store path.
    const rssMax = r.throughput.find((t) => t.system === 'rss' && t.fanout === 1)?.rate;
    const floor = await floorPublish(cfg, fanout, fanout === 1 && wants(2) && rssMax ? { maxRate: rssMax, shares: [0.1, 0.5, 0.9] } : undefined);
    r.throughput.push(floor.throughput);
    r.latency.push(...floor.latency);
  }
  for (const fanout of cfg.diskFanouts) r.throughput.push((await rssPublish(cfg, { fanout, dataDir: true })).throughput);
  if (cfg.profile) {
    mkdirSync(OUT, { recursive: true });
    const path = `${OUT}server-publish.cpuprofile`;
    await rssPublish(cfg, { fanout: 1, profile: path });
    r.profile = readProfile(path, workerPath('server'), 20);
    log(`profile written to ${path}`);
  }
}
if (wants(3)) r.gaps = await gaps(cfg);
if (wants(4)) r.retrieve = await retrieve(cfg);
if (wants(5)) r.memory = await memory(cfg);
if (wants(6)) r.startup = await demoStartup(cfg);

r.seconds = (performance.now() - started) / 1000;
r.loadAfter = loadBefore();
const md = renderMarkdown(r);
writeFileSync(`${OUT}results-${cfg.mode}.json`, JSON.stringify(r, null, 2));
if (!only) writeSection(fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url)), cfg.mode, md);
process.stdout.write(`${md}\n`);
log(`done in ${Math.round(r.seconds)} s${only ? ' (--only: docs/BENCHMARKS.md left unchanged)' : '; docs/BENCHMARKS.md updated'}`);
