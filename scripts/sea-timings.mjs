// Start-up figures of release/rss for release/README.md: median wall time of
// `--help` (and of ./bin/rss and bare node for comparison) over 20 runs, and
// time from spawn to the `ready` line of `rss demo` over 10 runs, all with an
// empty environment. Needs dist/rss.cjs too (npm run build).
// Usage: npm run release && node scripts/sea-timings.mjs
import { spawn, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const binary = resolve(root, 'release/rss');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1];
}

function timeRuns(label, cmd, args, runs = 20) {
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { cwd: root, env: {}, stdio: 'ignore' });
    ms.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${label}: exit ${r.status ?? r.signal}`);
  }
  process.stdout.write(`${label.padEnd(28)} median ${median(ms).toFixed(0)} ms, min ${Math.min(...ms).toFixed(0)} ms (${runs} runs)\n`);
}

/** Spawn `rss demo`, resolve with ms until its ready line, then stop it with SIGTERM. */
function demoReady(cmd, args) {
  return new Promise((resolveReady, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, [...args, 'demo', '--port-a', '0', '--port-b', '0'], { env: {}, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let ready;
    child.stdout.on('data', (d) => {
      out += d;
      if (ready === undefined && /ready in \d+ ms/.test(out)) {
        ready = performance.now() - t0;
        // Not at once: demo.ts installs its SIGTERM handler just after printing the ready line.
        setTimeout(() => child.kill('SIGTERM'), 200);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => (ready !== undefined && code === 0 ? resolveReady(ready) : reject(new Error(`demo exit ${code}: ${out}`))));
  });
}

process.stdout.write(`${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}, load ${loadavg()[0].toFixed(1)}\n`);
timeRuns('node -e 0 (baseline)', process.execPath, ['-e', '0']);
timeRuns('release/rss --version', binary, ['--version']);
timeRuns('release/rss --help', binary, ['--help']);
timeRuns('./bin/rss --help', process.execPath, [resolve(root, 'bin/rss'), '--help']);
for (const [label, cmd, args] of [['release/rss demo → ready', binary, []], ['./bin/rss demo → ready', process.execPath, [resolve(root, 'bin/rss')]]]) {
  const ready = [];
  for (let i = 0; i < 10; i++) ready.push(await demoReady(cmd, args));
  process.stdout.write(`${label.padEnd(28)} median ${median(ready).toFixed(0)} ms, min ${Math.min(...ready).toFixed(0)} ms (10 runs)\n`);
}
process.stdout.write(`release/rss size ${(statSync(binary).size / 1024 / 1024).toFixed(1)} MB\n`);
