/**
 * The operator's tools (ops/) look at a server through its public reports
 * and the inspection API (server/inspect.ts), never through its store or
 * its internal counters.
 */
import { describe, expect, it } from 'vitest';
import { sourcesOf } from '../helpers/sources';

describe('src/ops', () => {
  it('imports nothing from store/', async () => {
    const offenders = (await sourcesOf('ops', true)).flatMap(({ file, imports }) =>
      imports.filter((i) => i.module?.startsWith('store/')).map((i) => `${file}: ${i.from}`));
    expect(offenders).toEqual([]);
  });

  it("reaches into no server's store or counters", async () => {
    const sources = await sourcesOf('ops', true);
    expect(sources.map((s) => s.file)).toContain('ops/dashboard.ts');
    const offenders = sources.flatMap(({ file, text }) => [...text.matchAll(/\bserver\??\.(store|counters)\b/g)].map((m) => `${file}: ${m[0]}`));
    expect(offenders).toEqual([]);
  });
});
