// Builds release/rss: one Linux x64 executable with no Node or node_modules
// needed beside it, made with Node's Single Executable Applications (SEA).
// Steps: bundle → SEA blob → copy of this node → inject → smoke test.
// Offline and in seconds; see release/README.md for why SEA and not pkg.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundle } from './build.mjs';

const root = resolve(new URL('..', import.meta.url).pathname);
const out = join(root, 'release');
const work = join(out, '.build');
const main = join(work, 'rss.cjs');
const blob = join(work, 'rss.blob');
const seaConfig = join(work, 'sea-config.json');
const binary = join(out, 'rss');
/** The fuse postject flips so node looks for the blob (fixed by Node for SEA). */
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function step(name, fn) {
  const t0 = performance.now();
  const result = fn();
  return Promise.resolve(result).then((v) => {
    process.stdout.write(`  ${name.padEnd(8)} ${Math.round(performance.now() - t0)} ms\n`);
    return v;
  });
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  process.stderr.write(`release: builds for linux x64 only (this is ${process.platform} ${process.arch})\n`);
  process.exit(1);
}

const started = performance.now();
process.chdir(root);
process.stdout.write(`release: rss for linux x64 on node ${process.version}\n`);
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// The SEA main script must be one CommonJS file: it cannot require anything from disk
// (only node: builtins). The externals of build.mjs are optional driver add-ons that rss
// never reaches; the smoke test below fails if a start-up path needs one.
await step('bundle', () => bundle(main, { sourcemap: false, minify: true }));

await step('blob', () => {
  writeFileSync(seaConfig, `${JSON.stringify({
    main,
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
  }, null, 2)}\n`);
  run(process.execPath, ['--experimental-sea-config', seaConfig]);
});

await step('inject', () => {
  rmSync(binary, { force: true });
  copyFileSync(process.execPath, binary);
  chmodSync(binary, 0o755);
  run(join(root, 'node_modules/.bin/postject'), [binary, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE]);
  chmodSync(binary, 0o755);
});

// Smoke test: the binary alone, in an empty folder, with an empty environment.
await step('smoke', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rss-release-'));
  try {
    const lone = join(dir, 'rss');
    copyFileSync(binary, lone);
    chmodSync(lone, 0o755);
    const r = runLone(lone, dir, ['--version']);
    const want = JSON.parse(run(process.execPath, ['-p', 'JSON.stringify(require("./package.json").version)']));
    if (r.stdout.trim() !== want || r.stderr !== '') {
      throw new Error(`smoke test: \`rss --version\` printed ${JSON.stringify(r.stdout)} / stderr ${JSON.stringify(r.stderr)}; expected ${want} and nothing on stderr`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function runLone(file, cwd, args) {
  const r = spawnSync(file, args, { cwd, env: {}, encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`smoke test: \`rss ${args.join(' ')}\` failed (${r.status ?? r.signal ?? r.error}): ${r.stderr}`);
  return r;
}

const mb = (statSync(binary).size / 1024 / 1024).toFixed(1);
process.stdout.write(`release: ${binary} (${mb} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
