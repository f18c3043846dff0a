/**
 * The client identity of the command line, kept in one file (mode 0600) in
 * the rss data folder: the `cid`, and the user keys agreed at REGISTER, per
 * server pair and user name. So `rss client register bob` and a later
 * `rss client publish bob ...` or `listen bob` prove to the servers that
 * they are bob. The keys are secrets: whoever reads the file can act as
 * those users (as with an SSH private key).
 *
 *   {"cid": "...", "keys": {"127.0.0.1:5001,127.0.0.1:5002": {"bob": "<base64url>"}}}
 *
 * The pair is named by its resolved addresses in sorted order, so
 * `localhost:P1,localhost:P2` and B before A reach the same keys.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isIP } from 'node:net';
import { checkClientId, newClientId, pairScope, type Address, type KeyRing } from '../client';
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

interface IdentityDoc {
  cid?: unknown;
  keys?: Record<string, Record<string, string>>;
}

/** The scope of the keys: the server pair, resolved (the caller resolves host names), however it was written. */
export function keyScope(servers: readonly [Address, Address]): string {
  return pairScope(servers);
}

/**
 * The scope a key group of the file belongs to: earlier versions filed keys
 * under the pair as written (B before A, other spellings of an IP address);
 * those are read as the pair they name. Undefined for a group named by host
 * names, which cannot be resolved here.
 */
function scopeOfGroup(text: string): string | undefined {
  const parts = text.split(',').map((p) => /^\[([^\]]+)\]:(\d+)$/.exec(p) ?? /^([^:]+):(\d+)$/.exec(p));
  if (parts.length !== 2 || parts.some((m) => !m || isIP(m[1]!) === 0)) return undefined;
  const [a, b] = parts.map((m) => ({ host: m![1]!, port: Number(m![2]) }));
  return pairScope([a!, b!]);
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
    // The pair's groups under older spellings are merged into this one (mapOf read them all).
    const all = Object.fromEntries(Object.entries(doc.keys ?? {}).filter(([group]) => scopeOfGroup(group) !== this.scope));
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

  names(): string[] {
    this.keys = this.read();
    this.readAt = Date.now();
    return [...this.keys.keys()];
  }

  private mapOf(doc: IdentityDoc): Map<string, Buffer> {
    const m = new Map<string, Buffer>();
    // The canonical group last: its keys win over an older spelling's.
    const groups = Object.entries(doc.keys ?? {})
      .filter(([group]) => group !== this.scope && scopeOfGroup(group) === this.scope)
      .concat([[this.scope, doc.keys?.[this.scope] ?? {}]]);
    for (const [, scoped] of groups) {
      for (const [name, k] of Object.entries(scoped ?? {})) if (typeof k === 'string') m.set(name, Buffer.from(k, 'base64url'));
    }
    return m;
  }

  private read(): Map<string, Buffer> {
    return this.mapOf(this.readDoc());
  }
}
