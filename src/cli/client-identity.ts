/**
 * The client identity of the command line: one `cid` per OS user, kept in a
 * file, so that `rss client register bob` and a later `rss client publish
 * bob ...` are the same client to the servers (a native user belongs to the
 * cid that registered it). The file holds no secret beyond that id.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkClientId, newClientId } from '../client/identity';
import { InvalidArgumentError } from '../errors';

/** Where the identity lives by default: the rss data folder of env-paths. */
export async function defaultIdentityFile(): Promise<string> {
  const { default: envPaths } = await import('env-paths');
  return join(envPaths('rss', { suffix: '' }).data, 'client-id.json');
}

/** Read the cid from `file`, creating the file with a fresh cid when it does not exist. */
export async function loadClientId(file: string): Promise<string> {
  try {
    return parse(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(file), { recursive: true });
  const cid = newClientId();
  try {
    // 'wx': two commands started at once must end up with the same id, so the second reads the first's.
    await writeFile(file, `${JSON.stringify({ cid })}\n`, { flag: 'wx', mode: 0o600 });
    return cid;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return parse(await readFile(file, 'utf8'), file);
  }
}

function parse(text: string, file: string): string {
  let cid: unknown;
  try {
    cid = (JSON.parse(text) as { cid?: unknown }).cid;
  } catch {
    throw new InvalidArgumentError(`identity file ${file} is not JSON; remove it to start a new identity`);
  }
  if (typeof cid !== 'string') throw new InvalidArgumentError(`identity file ${file} has no "cid"; remove it to start a new identity`);
  return checkClientId(cid);
}
