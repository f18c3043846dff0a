/**
 * A user's first minutes, through `./bin/rss` as separate processes against
 * `rss demo --console`: the README's flow (register, subjects, listen, then
 * another user publishes: the listener shows it within a second), a
 * restarted menu that gets its pushes, the same identity however --servers
 * is written, the serving server's status, texts shown safely, the demo
 * console's kill messages, and the one-line errors and exit codes of bad
 * input.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RSS_BIN, rss, type Child } from '../helpers/processes';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let home: string;
let env: NodeJS.ProcessEnv;
let demo: Child;
let servers: string;
let portA: number;
let portB: number;
const children: Child[] = [];

function run(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RSS_BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env, ...opts.env }, cwd: opts.cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `rss client` as `user` (one identity file per user, as one person per machine). */
const as = (user: string, args: string[], serversFlag = servers) =>
  run(['client', '--servers', serversFlag, '--identity', join(home, `${user}.json`), ...args]);

function spawnAs(user: string, args: string[]): Child {
  const c = rss(['client', '--servers', servers, '--identity', join(home, `${user}.json`), ...args], env);
  children.push(c);
  return c;
}

const say = (line: string) => void demo.proc.stdin!.write(`${line}\n`);

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'rss-first-'));
  env = { HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config') };
  demo = rss(['demo', '--console', '--engine', 'embedded'], env);
  const ready = await demo.waitFor(/ready/, 20_000);
  const m = /A (\S+):(\d+), B (\S+):(\d+), serving A/.exec(ready)!;
  portA = Number(m[2]);
  portB = Number(m[4]);
  servers = `${m[1]}:${portA},${m[3]}:${portB}`;
}, 30_000);

afterAll(async () => {
  for (const c of children) await c.kill('SIGKILL');
  await demo?.kill('SIGKILL');
  await rm(home, { recursive: true, force: true });
});

describe('the README flow, as separate processes', () => {
  it('register kim; subjects kim news; listen kim; then another user publishes: the listener prints it within a second', async () => {
    expect((await as('kim', ['register', 'kim'])).code).toBe(0);
    expect((await as('kim', ['subjects', 'kim', 'news'])).code).toBe(0);
    expect((await as('ann', ['register', 'ann'])).code).toBe(0);
    expect((await as('ann', ['subjects', 'ann', 'news'])).code).toBe(0);
    // Debug logs on stderr (JSON, not a terminal) say when the listener has caught up and waits.
    const listener = spawnAs('kim', ['--log-level', 'debug', 'listen', 'kim']);
    await listener.waitFor(/"type":"RETRIEVED".*"msg":"datagram received"/);
    const published = await as('ann', ['publish', 'ann', 'news', 'hello kim']);
    expect(published.code, published.stderr).toBe(0);
    const after = Date.now();
    await listener.waitFor(/^\[news\] ann: hello kim$/, 1000);
    expect(Date.now() - after).toBeLessThan(1000);
  });

  it('a restarted menu gets the pushes of the names it registered earlier', async () => {
    const first = spawnAs('mia', []);
    first.proc.stdin!.write('1\nmia\n4\n\nnews\n');
    await first.waitFor(/mia follows news/);
    first.proc.stdin!.end('q\n');
    await new Promise((r) => first.proc.once('exit', r));
    // The menu again, left waiting: it points mia's address at itself without being asked.
    const again = spawnAs('mia', ['--log-level', 'debug']);
    await again.waitFor(/"type":"RETRIEVED".*"msg":"datagram received"/);
    expect((await as('ann', ['publish', 'ann', 'news', 'for the menu'])).code).toBe(0);
    await again.waitFor(/^\[news\] ann: for the menu$/, 2000);
    again.proc.stdin!.end('q\n');
  });
});

describe('identity and servers', () => {
  it('reaches the same identity however --servers names the pair (localhost, B before A)', async () => {
    expect((await as('lou', ['register', 'lou'])).code).toBe(0);
    const spelled = `localhost:${portA},localhost:${portB}`;
    const reversed = `127.0.0.1:${portB},127.0.0.1:${portA}`;
    for (const flag of [spelled, reversed]) {
      const r = await as('lou', ['subjects', 'lou', 'news'], flag);
      expect(r.code, r.stderr).toBe(0);
      // Registering again from the same identity is still the same user, not "name already in use".
      expect((await as('lou', ['register', 'lou'], flag)).code).toBe(0);
    }
    // Another identity file: the denial says why it is not lou's client.
    const other = await as('mallory', ['subjects', 'lou', 'news']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^denied: authentication failed\n {2}\(this client's identity file holds no key for lou on these servers/);
    const unknown = await as('lou', ['subjects', 'lou', 'news'], `no-such-host.invalid:${portA},localhost:${portB}`);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/cannot resolve server host "no-such-host\.invalid"/);
  });

  it('`rss client status` shows the serving server\'s figures as a table, also when the first listed is the standby', async () => {
    say('handoff');
    await demo.waitFor(/B serving \(epoch \d+\): took over at the handoff/, 10_000);
    const r = await as('kim', ['status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^\\s+B 127\\.0\\.0\\.1:${portB}$`, 'm'));
    expect(r.stdout).toMatch(/^role\s+serving$/m);
    expect(r.stdout).toMatch(/^users\s+\d+$/m);
    expect(r.stdout).not.toMatch(/standby|[{}]/);
    const json = await as('kim', ['--json', 'status']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, status: { tag: 'B', role: 'serving' } });
  });
});

describe('texts as a user sees them', () => {
  it('shows control characters escaped; the stored text and --json are exact', async () => {
    const nasty = 'line one\nann: fake line\u001b[31m red \u001b]0;title\u0007 end';
    expect((await as('ann', ['publish', 'ann', 'news', nasty])).code).toBe(0);
    const got = await as('lou', ['retrieve', 'lou']);
    expect(got.code).toBe(0);
    expect(got.stdout).toContain('[news] ann: line one\\nann: fake line\\x1b[31m red \\x1b]0;title\\x07 end\n');
    expect(got.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    const json = await as('lou', ['--json', 'retrieve', 'lou', '--last', '1']);
    expect(JSON.parse(json.stdout.trim()).text).toBe(nasty);
  });

  it('refuses an empty text, and a text too long in one line without the help', async () => {
    const empty = await as('ann', ['publish', 'ann', 'news', '']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/the text is empty/);
    const long = await as('ann', ['publish', 'ann', 'news', 'x'.repeat(1000)]);
    expect(long.code).toBe(2);
    const lines = long.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: the text has 1000 bytes; at most \d+ fit$/);
  });

  it('one-shot retrieve with nothing new says "(no texts)" on a terminal', async () => {
    const script = spawnSync('script', ['--version']);
    if (script.status !== 0) return; // no util-linux `script` here to give the command a terminal
    const cmd = [process.execPath, RSS_BIN, 'client', '--servers', servers, '--identity', join(home, 'kim.json'), 'retrieve', 'kim'].join(' ');
    await as('kim', ['retrieve', 'kim']); // now nothing is new
    const out = execFileSync('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', ...env }, input: '' }).toString();
    expect(out).toMatch(/\(no texts\)/);
  });
});

describe('the menu', () => {
  it('does not offer a name the servers just refused as the default', async () => {
    const c = spawnAs('zoe', []);
    // Refused (kim is taken), then "retrieve" with an empty name: no default to fall back on.
    c.proc.stdin!.end('1\nkim\n6\n\n\nq\n');
    await new Promise((r) => c.proc.once('exit', r));
    const out = c.lines.join('\n');
    expect(out).toMatch(/denied: name already in use/);
    expect(out).toMatch(/name is empty/);
    expect(out).not.toMatch(/RETRIEVE|\(no texts\)/);
  });
});

describe('the demo console', () => {
  it('says who takes over when a server is killed, by who serves', async () => {
    // B serves since the handoff above.
    say('kill A');
    await demo.waitFor(/A killed: B keeps serving/);
    say('kill B');
    await demo.waitFor(/B killed: no server is running now \(start B or start A\)/);
    say('start A');
    await demo.waitFor(/A started again/);
    say('start B');
    await demo.waitFor(/B started again/);
  }, 30_000);
});

describe('bad input: one line, exit 2', () => {
  it.each([
    [['status'], /required option '--servers/],
    [['server'], /required option '--role/],
    [['server', '--role', 'A', '--port', '0'], /give --peer HOST:PORT \(the other server of a pair\) or --peers/],
    [['demo', '--bogus'], /unknown option '--bogus'/],
    [['demo', '--period', '2'], /duration "2" needs a unit: 2s, 2m or 2ms/],
    [['demo', '--period', '1s'], /shorter than the lease \(1500ms\)/],
    [['demo', '--keep-texts', '30s'], /--keep-texts "30s" is shorter than the reply lifetime \(2m\).*or forever/],
    [['server', '--role', 'A', '--peer', '127.0.0.1:9', '--keep-texts', 'always'], /--keep-texts "always": \(use forms like 500ms, 3s, 2m\); or forever/],
    [['client', '--servers', '127.0.0.1:1,127.0.0.1:2', 'bogus'], /unknown client command "bogus"/],
    [['client', '--servers', '127.0.0.1:1,127.0.0.1:2', '--timeout', '10', 'status'], /needs a unit/],
    [['client', 'register', 'émilie'], /ASCII letters/],
  ])('rss %j', async (args, message) => {
    const r = await run(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/Usage:|\n\s+at /);
  });

  it('`rss client help publish` needs no --servers; help shows defaults as durations', async () => {
    const help = await run(['client', 'help', 'publish']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: rss client publish/);
    expect((await run(['demo', '--help'])).stdout).toMatch(/\(default: 2m\)/);
    expect((await run(['server', '--help'])).stdout).toMatch(/\(default: 2m\)/);
  });

  it('--json: the no-answer error is JSON, and says the outcome is unknown', async () => {
    const r = await as('ann', ['--json', '--timeout', '600ms', 'publish', 'ann', 'news', 'lost'], '127.0.0.1:9,127.0.0.1:9');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'RSS_TIMEOUT', error: expect.stringMatching(/outcome is unknown/) });
  });

  it('a port in use: one line naming the address (server, engine, demo)', async () => {
    const udp: Socket = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const tcp: Server = createServer();
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const u = udp.address().port;
    const t = (tcp.address() as { port: number }).port;
    try {
      for (const [args, where] of [
        [['server', '--role', 'A', '--port', String(u), '--peer', '127.0.0.1:9', '--data-dir', join(home, 'taken')], `UDP address 127.0.0.1:${u}`],
        [['engine', '--port', String(t)], `TCP address 127.0.0.1:${t}`],
        [['demo', '--engine', 'embedded', '--port-b', String(u)], `UDP address 127.0.0.1:${u}`],
      ] as const) {
        const r = await run([...args]);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`rss: ${where} is already in use`);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    } finally {
      udp.close();
      await new Promise((r) => tcp.close(r));
    }
  });

  it('--engine mongod that cannot get a binary names the right default', async () => {
    const r = await run(['demo', '--engine', 'mongod'], { env: { MONGOMS_DOWNLOAD_URL: 'http://127.0.0.1:9/mongod.tgz' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/or use --engine embedded \(or auto, the default/);
  });
});

describe('commands printed for the user', () => {
  it('the demo\'s "try:" line runs from where the user is (./bin/rss in a checkout)', async () => {
    const d = rss(['demo', '--engine', 'embedded'], { ...env, PATH: '/usr/bin:/bin' });
    children.push(d);
    // rss() starts the child in the test's cwd, the checkout.
    expect(process.cwd()).toBe(ROOT.replace(/\/$/, ''));
    const tryLine = await d.waitFor(/try: /, 20_000);
    const m = /try: (\S+) client --servers (\S+)/.exec(tryLine)!;
    expect(m[1]).toBe('./bin/rss');
    const r = await run(['client', '--servers', m[2]!, 'status']);
    expect(r.code, r.stderr).toBe(0);
    await d.kill();
  });
});

describe('--log-file', () => {
  it('gets only pino JSON lines', async () => {
    const file = join(home, 'server.log');
    const s = rss(['server', '--role', 'A', '--port', '0', '--peer', '127.0.0.1:9', '--data-dir', join(home, 'logged'), '--log-file', file, '--log-level', 'debug'], env);
    children.push(s);
    await s.waitFor(/A serving/, 20_000);
    await s.kill('SIGTERM');
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
  });
});
