/**
 * The command a user can type, here, to run this same rss: `rss` when the
 * PATH finds this very script (npm link, a global install), otherwise the
 * script's path (`./bin/rss` in a checkout), so a printed hint never names
 * a command the shell cannot find.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { basename, delimiter, isAbsolute, join, relative, sep } from 'node:path';

function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** `rss`, or the path that runs this script from the current directory. */
export function commandName(script: string | undefined = process.argv[1], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  // A single executable (or an unknown launcher): its name is what the user typed.
  if (!script || basename(script) !== 'rss') return 'rss';
  const self = real(script);
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'rss');
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    // The first rss on PATH is what `rss` runs: only this one will do.
    return real(candidate) === self ? 'rss' : pathFrom(cwd, script);
  }
  return pathFrom(cwd, script);
}

function pathFrom(cwd: string, script: string): string {
  const abs = isAbsolute(script) ? script : join(cwd, script);
  const rel = relative(cwd, abs);
  return rel.startsWith('..') || isAbsolute(rel) ? abs : `.${sep}${rel}`;
}
