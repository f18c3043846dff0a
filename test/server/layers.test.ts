/**
 * The server sees its store only through the interface it declares
 * (server/store-port.ts): no file of src/server imports store/store.ts, so
 * the MongoDB Store is chosen by app/ and an in-memory one serves tests. The
 * document shapes of store/documents.ts are the data the server handles:
 * those it may name, type-only.
 */
import { describe, expect, it } from 'vitest';
import { sourcesOf } from '../helpers/sources';

describe('src/server imports', () => {
  it('finds the imports it checks (the check can fail)', async () => {
    const port = (await sourcesOf('server')).find((s) => s.file === 'server/store-port.ts');
    expect(port?.imports).toContainEqual({ from: '../store/documents', module: 'store/documents', typeOnly: true });
  });

  it('nothing from store/ but the document shapes, and those type-only', async () => {
    const offenders = (await sourcesOf('server')).flatMap(({ file, imports }) => imports
      .filter((i) => i.module?.startsWith('store/') && !(i.module === 'store/documents' && i.typeOnly))
      .map((i) => `${file}: ${i.from}${i.typeOnly ? ' (type)' : ''}`));
    expect(offenders).toEqual([]);
  });

  it('the store port itself is type-only: no runtime import', async () => {
    const port = (await sourcesOf('server')).find((s) => s.file === 'server/store-port.ts')!;
    expect(port.imports.filter((i) => !i.typeOnly)).toEqual([]);
  });
});
