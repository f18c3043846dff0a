/** The command line is wiring only: it reaches sockets and the native codec through client/ and app/, never directly. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../src/cli/', import.meta.url));

describe('src/cli imports', () => {
  it('nothing from transport/ or protocol/native', async () => {
    const offenders: string[] = [];
    for (const f of (await readdir(CLI)).filter((n) => n.endsWith('.ts'))) {
      const src = await readFile(join(CLI, f), 'utf8');
      for (const m of src.matchAll(/(?:from|import\()\s*'([^']+)'/g)) {
        if (/^\.\.\/(transport\/|protocol\/native)/.test(m[1]!)) offenders.push(`${f}: ${m[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
