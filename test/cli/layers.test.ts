/**
 * The command line is wiring only: it reaches sockets and the native codec
 * through client/ and app/, never directly, and sees a server only through
 * its public methods and the inspection app/pair.ts gives (`inspect()`,
 * `users()`), never through its collaborators.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../src/cli/', import.meta.url));

/** Every module specifier each file of src/cli imports (static or dynamic), with the file's text. */
async function cliSources(): Promise<{ file: string; text: string; imports: string[] }[]> {
  const files = (await readdir(CLI)).filter((n) => n.endsWith('.ts'));
  return Promise.all(files.map(async (file) => {
    const text = await readFile(join(CLI, file), 'utf8');
    return { file, text, imports: [...text.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((m) => m[1]!) };
  }));
}

/**
 * What the command line may import from server/: the default lease time
 * (a period must outlast it, checked while parsing --period) and the ring
 * order every server of --peers agrees on. Both are pure and light: the CLI
 * loads nothing heavy before an action runs.
 */
const SERVER_MODULES_ALLOWED = ['../server/role', '../server/ring'];

describe('src/cli imports', () => {
  it('nothing from transport/ or protocol/native', async () => {
    const offenders = (await cliSources()).flatMap(({ file, imports }) =>
      imports.filter((i) => /^\.\.\/(transport\/|protocol\/native)/.test(i)).map((i) => `${file}: ${i}`));
    expect(offenders).toEqual([]);
  });

  it('nothing from store/, and from server/ only the lease time and the ring order', async () => {
    const offenders = (await cliSources()).flatMap(({ file, imports }) =>
      imports.filter((i) => /^\.\.\/(store|server)\//.test(i) && !SERVER_MODULES_ALLOWED.includes(i)).map((i) => `${file}: ${i}`));
    expect(offenders).toEqual([]);
  });

  it('no server collaborator (directory, delivery, role, store, ...): what the demo shows comes from inspect() and users()', async () => {
    const collaborator = /\.(delivery|directory|role|store|sequencer|guard|presence|contacts|telemetry|faults|counters|succession)\.\w+/g;
    const offenders = (await cliSources()).flatMap(({ file, text }) => [...text.matchAll(collaborator)].map((m) => `${file}: ${m[0]}`));
    expect(offenders).toEqual([]);
  });
});
