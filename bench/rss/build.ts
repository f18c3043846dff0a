/**
 * Builds what the bench runs: the workers (server side, load generators,
 * Aedes) and the CLI for the start-up scenario, bundled into bench/out/
 * with source maps, so workers start without a TypeScript loader and a CPU
 * profile maps back to src/ file:line. Packages stay external (resolved
 * from node_modules at run time).
 *
 * rss itself (src/) is taken from a commit (HEAD by default), exported with
 * `git archive` into bench/out/tree/: the figures belong to that commit,
 * whatever is uncommitted in the working tree. `worktree: true` benches
 * the working tree instead (the report then says so). The load generators
 * are the instrument, not what is measured: they are always built from the
 * working tree, so commits compared are measured alike (and a commit older
 * than what they import from src/ still builds).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { build, type Plugin } from 'esbuild';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain ESM script without types
import { externals } from '../../scripts/build.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const OUT = fileURLToPath(new URL('../out/', import.meta.url));
const TREE = `${OUT}tree/`;
export const WORKERS = ['server', 'floor-server', 'load', 'aedes-server', 'aedes-load'] as const;
export type WorkerName = (typeof WORKERS)[number];
/** The workers that measure (built from the working tree whatever the commit benched). */
const INSTRUMENTS: readonly WorkerName[] = ['load', 'aedes-load'];

export const workerPath = (name: WorkerName): string => `${OUT}${name}.cjs`;
/** The CLI bundle of the benched source (what `bin/rss` runs). */
export const cliPath = `${OUT}rss.cjs`;

export interface BuiltSource {
  /** Short commit hash of the benched src/, with "+ working tree" when uncommitted changes are included. */
  commit: string;
  /** Where src/ was taken from (ROOT or the exported tree). */
  root: string;
}

const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();

/** Redirect every import of ROOT/src/** to the same file under `root`. */
function sourceFrom(root: string): Plugin {
  return {
    name: 'bench-source',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (!args.resolveDir.startsWith(`${ROOT}bench`) || args.resolveDir.startsWith(OUT)) return undefined;
        const target = `${args.resolveDir}/${args.path}`.replace(/\/\.\//g, '/');
        const abs = new URL(`file://${target}`).pathname;
        if (!abs.startsWith(`${ROOT}src/`)) return undefined;
        const file = `${root}${abs.slice(ROOT.length)}`;
        if (/\.[cm]?[jt]s$/.test(file)) return { path: file };
        return { path: existsSync(`${file}.ts`) ? `${file}.ts` : `${file}/index.ts` };
      });
    },
  };
}

export async function buildAll(opts: { ref?: string; worktree?: boolean } = {}): Promise<BuiltSource> {
  let root = ROOT;
  let commit: string;
  if (opts.worktree) {
    const dirty = git('status', '--porcelain', '--', 'src').length > 0;
    commit = `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes in src/' : ''}`;
  } else {
    commit = git('rev-parse', '--short', opts.ref ?? 'HEAD');
    rmSync(TREE, { recursive: true, force: true });
    mkdirSync(TREE, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${commit} src | tar -x -C '${TREE}'`], { cwd: ROOT });
    root = TREE;
  }
  const common = {
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external',
    sourcemap: 'linked', logLevel: 'warning', define: { RSS_VERSION: JSON.stringify(`bench ${commit}`) },
  } as const;
  const entries = (names: readonly WorkerName[]) => names.map((w) => `${ROOT}bench/rss/${w}.ts`);
  const measured = WORKERS.filter((w) => !INSTRUMENTS.includes(w));
  await build({ ...common, entryPoints: entries(measured), outdir: OUT, outExtension: { '.js': '.cjs' }, plugins: root === ROOT ? [] : [sourceFrom(root)] });
  await build({ ...common, entryPoints: entries(INSTRUMENTS), outdir: OUT, outExtension: { '.js': '.cjs' } });
  // The CLI as scripts/build.mjs bundles it (its own dependencies inside, the driver's add-ons external).
  await build({
    ...common,
    packages: undefined,
    entryPoints: [`${root}src/cli/main.ts`],
    outfile: cliPath,
    external: externals,
    alias: { 'supports-color': `${ROOT}scripts/empty.cjs` },
  });
  return { commit, root };
}
