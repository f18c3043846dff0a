/**
 * The embedded engine is a standalone layer: reached only by a mongodb://
 * URI (and started through engine/index.ts), it imports nothing of rss
 * outside src/engine, so it could be taken out as a package of its own.
 */
import { describe, expect, it } from 'vitest';
import { sourcesOf } from '../helpers/sources';

describe('src/engine imports', () => {
  it('finds the imports it checks (the check can fail)', async () => {
    const files = await sourcesOf('engine');
    expect(files.length).toBeGreaterThan(20);
    expect(files.flatMap((f) => f.imports).some((i) => i.module?.startsWith('engine/'))).toBe(true);
  });

  it('nothing outside src/engine (packages and node: modules only besides its own files)', async () => {
    const offenders = (await sourcesOf('engine')).flatMap(({ file, imports }) => imports
      .filter((i) => i.module !== undefined && !i.module.startsWith('engine/'))
      .map((i) => `${file}: ${i.from}`));
    expect(offenders).toEqual([]);
  });
});
