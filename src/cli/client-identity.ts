/**
 * The client identity of the command line, kept in one file (mode 0600) in
 * the rss data folder: the `cid`, and the user keys agreed at REGISTER, per
 * server pair and user name. So `rss client register bob` and a later
 * `rss client publish bob ...` or `listen bob` prove to the servers that
 * they are bob. The keys are secrets: whoever reads the file can act as
 * those users (as with an SSH private key).
 *
 *   {"cid": "...", "keys": {"127.0.0.1:5001,127.0.0.1:5002": {"bob": "<base64url>"}}}
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkClientId, newClientId } from '../client/identity';
import type { KeyRing } from '../client/keys';
import { InvalidArgumentError } from '../errors';
import { formatAddress, type Address } from '../transport/types';

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

interface IdentityDoc {
  cid?: unknown;
  keys?: Record<string, Record<string, string>>;
}

/** The scope of the keys: the server pair as given on the command line. */
export function keyScope(servers: readonly [Address, Address]): string {
  return `${formatAddress(servers[0])},${formatAddress(servers[1])}`;
}

/** How often a missing key makes the ring re-read the file (another process may have registered the name). */
const REREAD_MS = 1000;

/**
 * The user keys of one server pair in the identity file. Writes re-read the
 * file first and replace it atomically (rename), so a `listen` and a
 * `register` running at once do not truncate each other's file.
 */
export class FileKeyRing implements KeyRing {
  private keys: Map<string, Buffer>;
  private readAt: number;

  constructor(private readonly file: string, private readonly scope: string) {
    this.keys = this.read();
    this.readAt = Date.now();
  }

  get(name: string): Buffer | undefined {
    const k = this.keys.get(name);
    if (k || Date.now() - this.readAt < REREAD_MS) return k;
    this.keys = this.read();
    this.readAt = Date.now();
    return this.keys.get(name);
  }

  set(name: string, key: Buffer): void {
    this.change((m) => m.set(name, Buffer.from(key)));
  }

  delete(name: string): void {
    this.change((m) => m.delete(name));
  }

  private change(f: (m: Map<string, Buffer>) => void): void {
    const doc = this.readDoc();
    const keys = this.mapOf(doc);
    f(keys);
    this.keys = keys;
    const all = { ...(doc.keys ?? {}) };
    all[this.scope] = Object.fromEntries([...keys].map(([n, k]) => [n, k.toString('base64url')]));
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ ...doc, keys: all })}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  private readDoc(): IdentityDoc {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as IdentityDoc;
    } catch {
      return {};
    }
  }

  private mapOf(doc: IdentityDoc): Map<string, Buffer> {
    const scoped = doc.keys?.[this.scope] ?? {};
    const m = new Map<string, Buffer>();
    for (const [name, k] of Object.entries(scoped)) if (typeof k === 'string') m.set(name, Buffer.from(k, 'base64url'));
    return m;
  }

  private read(): Map<string, Buffer> {
    return this.mapOf(this.readDoc());
  }
}
