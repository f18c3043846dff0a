/** The command printed for the user is one their shell runs, from where they are. */
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commandName } from '../../src/cli/invocation';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('commandName', () => {
  it('is `rss` only when the PATH finds this very script; otherwise its path from the current folder', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rss-cmd-'));
    const script = join(dir, 'checkout', 'bin', 'rss');
    await mkdir(join(dir, 'checkout', 'bin'), { recursive: true });
    await writeFile(script, '#!/bin/sh\n');
    await chmod(script, 0o755);
    const linked = join(dir, 'global-bin');
    await mkdir(linked);
    await symlink(script, join(linked, 'rss'));
    const other = join(dir, 'other-bin');
    await mkdir(other);
    await writeFile(join(other, 'rss'), '#!/bin/sh\n');
    await chmod(join(other, 'rss'), 0o755);

    expect(commandName(script, { PATH: `/nonexistent:${linked}` }, join(dir, 'checkout'))).toBe('rss'); // npm link
    expect(commandName(script, { PATH: '/usr/bin' }, join(dir, 'checkout'))).toBe('./bin/rss');
    // Another rss comes first on the PATH: `rss` would run that one.
    expect(commandName(script, { PATH: `${other}:${linked}` }, join(dir, 'checkout'))).toBe('./bin/rss');
    expect(commandName(script, { PATH: '' }, join(dir, 'elsewhere'))).toBe(script);
    expect(commandName('/opt/rss-release/rss-linux-x64', { PATH: '' }, '/')).toBe('rss');
  });
});
