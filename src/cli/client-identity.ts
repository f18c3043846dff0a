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
 * `localhost:P1,localhost:P2` and B before A reach the same keys. A ring's
 * servers are named the same way, and keys are found under any group that
 * shares a server with the servers given (a ring's users may give any of
 * its servers). The file also keeps the rings the client learned (`rings`:
 * each a list of addresses in ring order), so a later command given only
 * some servers of a ring asks them all.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isIP } from 'node:net';
import { checkClientId, newClientId, pairScope, sameAddress, type Address, type KeyRing } from '../client';
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
  rings?: unknown;
}

/** The scope of the keys: the servers (a pair, or a ring), resolved (the caller resolves host names), however written. */
export function keyScope(servers: readonly Address[]): string {
  return pairScope(servers);
}

/** The servers to ask: a learned ring sharing a server with `given` (and then any given server it lacks), or `given`. */
export function withKnownRing(file: string, given: readonly Address[]): Address[] {
  const scope = keyScope(given);
  const ring = ringsOf(readDoc(file)).find((r) => sameSystem(keyScope(r), scope));
  if (!ring) return given.map((a) => ({ ...a }));
  const known = new Set(ring.map((a) => keyScope([a])));
  return [...ring, ...given.filter((a) => !known.has(keyScope([a])))];
}

/** Keep a ring the servers announced (MACed), replacing the rings it shares a server with. */
export function rememberRing(file: string, ring: readonly Address[]): void {
  const doc = readDoc(file);
  const scope = keyScope(ring);
  const known = ringsOf(doc);
  // Announced again at every handoff: the file is written only when the ring changed.
  if (known.some((r) => r.length === ring.length && r.every((a, i) => sameAddress(a, ring[i]!)))) return;
  const rings = [...known.filter((r) => !sameSystem(keyScope(r), scope)), ring.map((a) => ({ host: a.host, port: a.port }))];
  writeDoc(file, { ...doc, rings });
}

function ringsOf(doc: IdentityDoc): Address[][] {
  if (!Array.isArray(doc.rings)) return [];
  const isAddress = (a: unknown): a is Address =>
    typeof a === 'object' && a !== null && typeof (a as Address).host === 'string' && Number.isInteger((a as Address).port);
  return doc.rings.filter((r): r is Address[] => Array.isArray(r) && r.length > 0 && r.every(isAddress));
}

/** Whether two scopes name one system: they share a server address. */
function sameSystem(x: string | undefined, y: string): boolean {
  if (x === undefined) return false;
  const ours = new Set(x.split(','));
  return y.split(',').some((a) => ours.has(a));
}

function readDoc(file: string): IdentityDoc {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as IdentityDoc;
  } catch {
    return {};
  }
}

/** Replace the file atomically (rename), so commands running at once never see it half written. */
export function writeDoc(file: string, doc: object): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(doc)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * The scope a key group of the file belongs to: earlier versions filed keys
 * under the pair as written (B before A, other spellings of an IP address);
 * those are read as the pair they name. Undefined for a group named by host
 * names, which cannot be resolved here.
 */
function scopeOfGroup(text: string): string | undefined {
  const parts = text.split(',').map((p) => /^\[([^\]]+)\]:(\d+)$/.exec(p) ?? /^([^:]+):(\d+)$/.exec(p));
  if (parts.length < 2 || parts.some((m) => !m || isIP(m[1]!) === 0)) return undefined;
  return pairScope(parts.map((m) => ({ host: m![1]!, port: Number(m![2]) })));
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
    // A name removed here is removed from the other groups of this system too (mapOf read them as well).
    for (const [group, named] of Object.entries(all)) {
      if (sameSystem(scopeOfGroup(group), this.scope)) all[group] = Object.fromEntries(Object.entries(named).filter(([n]) => keys.has(n)));
    }
    all[this.scope] = Object.fromEntries([...keys].map(([n, k]) => [n, k.toString('base64url')]));
    writeDoc(this.file, { ...doc, keys: all });
  }

  private readDoc(): IdentityDoc {
    return readDoc(this.file);
  }

  names(): string[] {
    this.keys = this.read();
    this.readAt = Date.now();
    return [...this.keys.keys()];
  }

  private mapOf(doc: IdentityDoc): Map<string, Buffer> {
    const m = new Map<string, Buffer>();
    // Groups of this system (the pair's older spellings, a ring's other subsets); the canonical group last: its keys win.
    const groups = Object.entries(doc.keys ?? {})
      .filter(([group]) => group !== this.scope && sameSystem(scopeOfGroup(group), this.scope))
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
