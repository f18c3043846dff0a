/** The TypeScript files of a src/ folder with what they import, for the layer tests. */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

export interface SourceImport {
  /** The module specifier, as written. */
  from: string;
  /** A relative specifier as a module of src/ ("store/documents"); undefined for a package. */
  module: string | undefined;
  /** `import type` (or `export type ... from`): erased at build, no runtime dependency. */
  typeOnly: boolean;
}

export interface SourceFile {
  /** Relative to src/. */
  file: string;
  text: string;
  imports: SourceImport[];
}

/** Every .ts file under src/`folder` (subfolders too, unless `shallow`), with its static and dynamic imports. */
export async function sourcesOf(folder: string, shallow = false): Promise<SourceFile[]> {
  const root = join(SRC, folder);
  const entries = await readdir(root, { withFileTypes: true, recursive: !shallow });
  const paths = entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
  return Promise.all(paths.map(async (path) => {
    const text = await readFile(path, 'utf8');
    const imports = [...text.matchAll(/(?:^|\n)\s*(import|export)(\s+type\b)?[^;'"]*?from\s*'([^']+)'|import\(\s*'([^']+)'/g)].map((m) => {
      const from = (m[3] ?? m[4])!;
      return { from, module: from.startsWith('.') ? relative(SRC, resolve(dirname(path), from)) : undefined, typeOnly: Boolean(m[2]) };
    });
    return { file: relative(SRC, path), text, imports };
  }));
}
