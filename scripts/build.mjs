// Bundles the CLI into one CommonJS file (dist/rss.cjs): bin/rss runs it from
// the checkout, and scripts/release.mjs wraps the same kind of bundle into a
// single executable. One bundle keeps start-up fast (no module resolution).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** The dashboard's page and chart library, carried inside the bundle so the executable serves them offline. */
function dashboardAssets() {
  const files = JSON.parse(readFileSync(new URL('../src/ops/page/assets.json', import.meta.url), 'utf8'));
  const root = new URL('../', import.meta.url);
  return Object.fromEntries(Object.entries(files).map(([name, path]) => [name, readFileSync(new URL(path, root), 'utf8')]));
}

/** Optional native or cloud add-ons of the mongodb driver that rss never uses. */
export const externals = [
  'kerberos', 'snappy', '@mongodb-js/zstd', 'mongodb-client-encryption',
  '@aws-sdk/credential-providers', 'gcp-metadata', 'socks', 'aws4',
];

/**
 * Bundle src/cli/main.ts into `outfile`. The single executable uses `{ sourcemap: false,
 * minify: true }`: half the bytes to load at start, names kept for stack traces.
 */
export async function bundle(outfile = 'dist/rss.cjs', { sourcemap = 'linked', minify = false } = {}) {
  await build({
    entryPoints: ['src/cli/main.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile,
    external: externals,
    // debug (via mongodb-memory-server-core) probes supports-color at start.
    alias: { 'supports-color': './scripts/empty.cjs' },
    define: { RSS_VERSION: JSON.stringify(pkg.version), RSS_ASSETS: JSON.stringify(JSON.stringify(dashboardAssets())) },
    sourcemap,
    minify,
    keepNames: minify,
    logLevel: 'warning',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await bundle();
