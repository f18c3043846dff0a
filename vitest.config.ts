import { defineConfig } from 'vitest/config';
import type { Reporter } from 'vitest/reporters';

/**
 * test/release/sea.test.ts needs release/rss, which only `npm run release`
 * builds (CI does, before `npm test`). Without it the file skips itself; this
 * says so after the summary, where nobody misses it.
 */
const releaseSkipNotice: Reporter = {
  onTestRunEnd(modules) {
    const sea = modules.find((m) => m.moduleId.endsWith('test/release/sea.test.ts'));
    if (sea?.state() !== 'skipped') return;
    process.stdout.write('\n NOTE  test/release/sea.test.ts was SKIPPED: release/rss is not built. Run `npm run release` first to test the single executable (CI always does).\n\n');
  },
};

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Test workers share two cores: a worker's libuv pool at a lower priority (app/helper-threads.ts) would wait behind
    // the others' event loops and slow its file tests. The processes the tests start inherit this, so only
    // test/app/helper-threads.test.ts, which turns it on for its child, sees the lowering.
    env: { RSS_HELPER_PRIORITY: 'keep' },
    // The JSON report lets .ci/run print the plain "N passed, N failed" line CI reads.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }], releaseSkipNotice],
  },
});
