/** ARCHITECTURE.md's map names every file of src/ where it lives, and nothing that is not there. */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Every file under `dir`, relative to the repository. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(relative(ROOT, path));
  }
  return out;
}

/**
 * The paths the map names: a line's first word is a folder (ending in `/`)
 * or a file, placed under the folder of the nearest line indented two
 * spaces less; a line indented deeper than that continues the one before.
 */
function mapped(markdown: string): string[] {
  const block = /```\n(src\/\n[\s\S]*?)```/.exec(markdown)?.[1] ?? '';
  const folders: { indent: number; name: string }[] = [];
  const files: string[] = [];
  for (const line of block.split('\n')) {
    const m = /^( *)(\S+)/.exec(line);
    if (!m) continue;
    const indent = m[1]!.length;
    const word = m[2]!;
    const parentIndent = folders.at(-1)?.indent ?? -2;
    if (indent > parentIndent + 2) continue;
    while (folders.length > 0 && folders.at(-1)!.indent >= indent) folders.pop();
    const path = [...folders.map((f) => f.name), word].join('');
    if (word.endsWith('/')) folders.push({ indent, name: word });
    else files.push(path);
  }
  return files;
}

describe('ARCHITECTURE.md', () => {
  it('maps every file of src/ (a folder\'s README.md is its own map), and only files that exist', async () => {
    const map = mapped(await readFile(join(ROOT, 'ARCHITECTURE.md'), 'utf8'));
    const files = (await filesUnder(join(ROOT, 'src'))).filter((f) => !f.endsWith('README.md'));
    expect(files.filter((f) => !map.includes(f)).sort()).toEqual([]);
    expect(map.filter((f) => !files.includes(f)).sort()).toEqual([]);
  });
});
