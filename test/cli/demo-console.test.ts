/**
 * The demo console driven through its input stream (`rss demo --console`):
 * two users registered with one-shot clients, `kill A`, the users keep
 * working through B, `start A`, `status` shows both servers, `users` lists
 * them, `quit` exits 0. Runs the built CLI (dist/), rebuilt when a source
 * file is newer.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rss, type Child } from '../helpers/processes';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Newest modification time of the files under `dir`. */
async function newest(dir: string): Promise<number> {
  let max = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    max = Math.max(max, e.isDirectory() ? await newest(p) : (await stat(p)).mtimeMs);
  }
  return max;
}

let home: string;
let env: NodeJS.ProcessEnv;
let demo: Child | undefined;

beforeAll(async () => {
  const built = await stat(join(ROOT, 'dist/rss.cjs')).then((s) => s.mtimeMs, () => 0);
  if (built < (await newest(join(ROOT, 'src')))) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
  // The client CLI keeps its identity in the env-paths data folder: keep it out of the real home.
  home = await mkdtemp(join(tmpdir(), 'rss-demo-console-'));
  env = { HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config') };
}, 60_000);

afterAll(async () => {
  await demo?.kill('SIGKILL');
  await rm(home, { recursive: true, force: true });
});

/** Run one `rss client` operation to its end. */
async function client(servers: string, ...args: string[]): Promise<{ code: number | null; out: string }> {
  const c = rss(['client', '--servers', servers, ...args], env);
  const code = await new Promise<number | null>((resolve) => c.proc.once('exit', (n) => resolve(n)));
  return { code, out: c.lines.join('\n') };
}

/** `from` publishes `text` on news and `to` retrieves it, both with one-shot clients. */
async function publishAndRetrieve(servers: string, from: string, to: string, text: string): Promise<void> {
  const published = await client(servers, 'publish', from, 'news', text);
  expect(published.code, published.out).toBe(0);
  const retrieved = await client(servers, 'retrieve', to);
  expect(retrieved.code, retrieved.out).toBe(0);
  expect(retrieved.out).toContain(`[news] ${from}: ${text}`);
}

describe('rss demo --console', () => {
  it('kill A: the users keep working through B; start A; status; users; quit', async () => {
    demo = rss(['demo', '--console', '--period', '1m', '--engine', 'embedded'], env);
    const ready = await demo.waitFor(/ready/, 20_000);
    const m = /A (\S+):(\d+), B (\S+):(\d+), serving A/.exec(ready);
    expect(m, ready).not.toBeNull();
    const servers = `${m![1]}:${m![2]},${m![3]}:${m![4]}`;
    const say = (line: string) => void demo!.proc.stdin!.write(`${line}\n`);

    for (const args of [['register', 'alice'], ['register', 'bob'], ['subjects', 'alice', 'news'], ['subjects', 'bob', 'news,sport']]) {
      const r = await client(servers, ...args);
      expect(r.code, r.out).toBe(0);
    }

    say('kill A');
    await demo.waitFor(/A killed: no handoff/);
    await demo.waitFor(/B serving \(epoch \d+\): failover/, 10_000);

    await publishAndRetrieve(servers, 'alice', 'bob', 'hello through B');

    say('start A');
    await demo.waitFor(/A started again on .*:\d+ \(standby/);
    say('status');
    await demo.waitFor(/^role\s+standby\s+serving$/);
    await demo.waitFor(/^users\s+\d+\s+2$/);
    await demo.waitFor(/^chaos: off; store: up$/);
    say('users');
    await demo.waitFor(/^alice\s+native\s+news\s/);
    await demo.waitFor(/^bob\s+native\s+news,sport\s/);
    say('chaos drop=0.2,seed=4');
    await demo.waitFor(/chaos on both servers: drop=0\.2,seed=4/);
    say('chaos off');
    await demo.waitFor(/chaos off$/);
    // The store goes away and comes back: nobody crashes, and the pair serves again without a restart.
    say('store down');
    await demo.waitFor(/store: down$/);
    await demo.waitFor(/standby \(epoch \d+, fenced\)/, 10_000);
    say('store up');
    await demo.waitFor(/store: up$/);
    const after = await client(servers, 'publish', 'alice', 'news', 'after the store came back');
    expect(after.code, after.out).toBe(0);
    say('store slow 50');
    await demo.waitFor(/store: slow \(\+50 ms per chunk\)$/);
    say('store sideways');
    await demo.waitFor(/error: unknown store fault "sideways"/);
    say('kill C');
    await demo.waitFor(/error: which server\? \(A or B\)/);

    const exited = new Promise<number | null>((resolve) => demo!.proc.once('exit', (n) => resolve(n)));
    say('quit');
    expect(await exited).toBe(0);
  }, 90_000);

  it('--servers 3: turns cycle A → B → C → A; kill B: the ring skips it; start B: it rejoins and gets its turn', async () => {
    demo = rss(['demo', '--console', '--servers', '3', '--period', '1500ms', '--engine', 'embedded'], env);
    const ready = await demo.waitFor(/ready/, 20_000);
    const m = /A (\S+:\d+), B (\S+:\d+), C (\S+:\d+), serving A/.exec(ready);
    expect(m, ready).not.toBeNull();
    const servers = `${m![1]},${m![2]},${m![3]}`;
    await demo.waitFor(new RegExp(`try: .* client --servers ${servers.replace(/\./g, '\\.')}$`));
    const say = (line: string) => void demo!.proc.stdin!.write(`${line}\n`);
    const handoffs = () => demo!.lines.flatMap((l) => /handoff (\w) → (\w)/.exec(l)?.slice(1, 3).join('→') ?? []);
    await expect.poll(handoffs, { timeout: 15_000 }).toEqual(expect.arrayContaining(['A→B', 'B→C', 'C→A']));
    expect(handoffs().slice(0, 3)).toEqual(['A→B', 'B→C', 'C→A']);

    for (const args of [['register', 'ann'], ['register', 'ben'], ['subjects', 'ann', 'news'], ['subjects', 'ben', 'news']]) {
      const r = await client(servers, ...args);
      expect(r.code, r.out).toBe(0);
    }
    say('kill B');
    await demo.waitFor(/B killed: (A|C) keeps serving|B killed: no handoff; the next live server takes over/);
    const afterKill = handoffs().length;
    // With B down, A hands to C and C to A.
    await expect.poll(() => handoffs().slice(afterKill + 1), { timeout: 15_000 }).toEqual(expect.arrayContaining(['A→C', 'C→A']));
    expect(handoffs().slice(afterKill + 1).filter((h) => h.includes('B'))).toEqual([]);
    await publishAndRetrieve(servers, 'ann', 'ben', 'around the ring');

    say('start B');
    await demo.waitFor(/B started again on .*:\d+ \(standby/);
    await demo.waitFor(/B serving \(epoch \d+\): took over at the handoff/, 15_000);
    say('status');
    await demo.waitFor(/^\s+A \S+\s+B \S+\s+C \S+$/);
    say('kill D');
    await demo.waitFor(/error: which server\? \(A, B, C\)/);
    const exited = new Promise<number | null>((resolve) => demo!.proc.once('exit', (n) => resolve(n)));
    say('quit');
    expect(await exited).toBe(0);
  }, 90_000);
});
