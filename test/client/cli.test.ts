import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { runListen } from '../../src/cli/client-actions';
import { parseHostPort, parseServers } from '../../src/cli/client-args';
import { parsePeers } from '../../src/cli/args';
import { resolveTopology } from '../../src/cli/server';
import { runMenu } from '../../src/cli/client-menu';
import { registerClientCommand } from '../../src/cli/client';
import { autoAnswer, FakeServer, text, type Received } from './fake-server';
import { memoryIo } from '../helpers/memory-io';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((c) => c()));
});

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Run `rss client ...args` in-process; resolves with the exit code and the output. */
async function cli(args: string[], identityFile?: string) {
  if (!identityFile) {
    const dir = await mkdtemp(join(tmpdir(), 'rss-cli-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    identityFile = join(dir, 'id', 'client-id.json');
  }
  const idFile = identityFile;
  const m = memoryIo();
  let code: number | undefined;
  const helpOut: string[] = [];
  const program = new Command('rss')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void helpOut.push(s), writeErr: (s) => void m.io.stderr.write(s) });
  registerClientCommand(program, {
    io: m.io, done: (c) => (code = c), exit: (c) => { throw new Exit(c); }, identityFile: async () => idFile,
  });
  try {
    await program.parseAsync(['client', ...args], { from: 'user' });
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    code = e.code;
  }
  return { code, out: m.out() + helpOut.join(''), err: m.err() };
}

async function servers() {
  const a = await FakeServer.open();
  const b = await FakeServer.open();
  cleanup.push(() => a.close(), () => b.close());
  return { a, b, flag: `${a.address.host}:${a.address.port},${b.address.host}:${b.address.port}` };
}

describe('argument parsers', () => {
  it.each([
    ['localhost', /"localhost" is not HOST:PORT/],
    [':4000', /host is empty/],
    ['h:70000', /port "70000"/],
    ['h:x1', /port "x1"/],
    ['::1:4000', /brackets/],
    ['a b:1', /"a b" is not a host/],
  ])('parseHostPort(%s) names the bad part', (s, msg) => {
    expect(() => parseHostPort(s)).toThrow(msg);
  });

  it('reads IPv4, names and bracketed IPv6', () => {
    expect(parseHostPort('127.0.0.1:4000')).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(parseHostPort('[::1]:5')).toEqual({ host: '::1', port: 5 });
    expect(parseServers('a:1, b:2')).toEqual([{ host: 'a', port: 1 }, { host: 'b', port: 2 }]);
    expect(() => parseServers('a:1')).toThrow(/two addresses.*got 1/);
    expect(parseServers('a:1,b:2,c:3')).toHaveLength(3);
  });

  it('--peers reads a ring in order; --role picks this server, which --peers may leave out (then ordered by name)', () => {
    const ring = parsePeers('A=h1:1, B=h2:2 ,c=h3:3');
    expect(ring).toEqual([{ tag: 'A', host: 'h1', port: 1 }, { tag: 'B', host: 'h2', port: 2 }, { tag: 'C', host: 'h3', port: 3 }]);
    const b = resolveTopology({ role: 'B', host: '0.0.0.0', peers: ring });
    expect(b).toEqual({ port: 2, peer: { host: 'h3', port: 3 }, ring });
    const c = resolveTopology({ role: 'C', host: 'h3', port: 3, peers: parsePeers('B=h2:2,A=h1:1') });
    expect(c.ring?.map((m) => m.tag)).toEqual(['A', 'B', 'C']);
    expect(c.peer).toEqual({ host: 'h1', port: 1 });
    expect(() => resolveTopology({ role: 'B', host: 'h', port: 7, peers: ring })).toThrow(/--port 7 differs from B's port 2/);
    expect(() => resolveTopology({ role: 'A', host: 'h', port: 1, peers: parsePeers('A=h1:1') })).toThrow(/at least one other server/);
    expect(() => resolveTopology({ role: 'D', host: '0.0.0.0', port: 4, peers: ring })).toThrow(/name this server in --peers \(D=HOST:PORT\)/);
    // The pair is as before.
    expect(resolveTopology({ role: 'A', host: 'h', port: 5, peer: { host: 'p', port: 6 } })).toEqual({ port: 5, peer: { host: 'p', port: 6 } });
  });
});

describe('rss client one-shot commands', () => {
  it('register prints the result and exits 0; later requests follow the server that answered', async () => {
    const { b, flag } = await servers();
    autoAnswer(b);
    const r = await cli(['--servers', flag, 'register', 'bob']);
    expect(r).toMatchObject({ code: 0, out: 'registered bob\n', err: '' });
    expect(b.of('REGISTER')[0]!.message).toMatchObject({ name: 'bob', host: '0.0.0.0' });
  });

  it('a denial exits 1 with the reason on stderr', async () => {
    const { a, flag } = await servers();
    autoAnswer(a, () => ({ type: 'PUBLISH-DENIED', name: 'bob', subject: 'x', text: 't', reason: 'subject not in your list' }));
    const r = await cli(['publish', 'bob', 'x', 't', '--servers', flag]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('subject not in your list');
  });

  it('--json prints one object per result, the text words joined', async () => {
    const { a, flag } = await servers();
    autoAnswer(a, (q) => (q.message.type === 'PUBLISH' ? { type: 'PUBLISHED', name: 'bob', subject: 'news', text: (q.message as { text: string }).text, seq: 42 } : undefined));
    const r = await cli(['--servers', flag, '--json', 'publish', 'bob', 'news', 'hello', 'world']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, type: 'PUBLISHED', seq: 42, text: 'hello world' });
  });

  it('retrieve prints [subject] from: text, and passes --last', async () => {
    const { a, flag } = await servers();
    autoAnswer(a, (q) => (q.message.type === 'RETRIEVE-TEXTS' ? { type: 'RETRIEVED', name: 'bob', texts: [text(1), text(2, 'tech', 'carol')], more: false } : undefined));
    const r = await cli(['--servers', flag, 'retrieve', 'bob', '--last', '2']);
    expect(r).toMatchObject({ code: 0, out: '[news] alice: text 1\n[tech] carol: text 2\n' });
    expect(a.of('RETRIEVE-TEXTS')[0]!.message).toMatchObject({ last: 2 });
  });

  it('subjects, update, deregister and who reach the server with their fields', async () => {
    const { a, flag } = await servers();
    autoAnswer(a, (q) => (q.message.type === 'WHO' ? { type: 'WHO-LIST', name: 'bob', users: [{ name: 'al', online: false }] } : undefined));
    expect((await cli(['--servers', flag, 'subjects', 'bob', 'news,tech'])).out).toBe('bob follows news, tech\n');
    expect((await cli(['--servers', flag, 'update', 'bob', '10.0.0.2:7000'])).out).toBe('bob is now at 10.0.0.2:7000\n');
    expect((await cli(['--servers', flag, 'deregister', 'bob'])).out).toBe('de-registered bob\n');
    expect((await cli(['--servers', flag, 'who', 'bob'])).out).toBe('al offline\n');
    expect(a.of('SUBJECTS')[0]!.message).toMatchObject({ subjects: ['news', 'tech'] });
    expect(a.of('UPDATE')[0]!.message).toMatchObject({ host: '10.0.0.2', port: 7000 });
  });

  it('keeps one client id across commands in the identity file', async () => {
    const { a, flag } = await servers();
    autoAnswer(a);
    const dir = await mkdtemp(join(tmpdir(), 'rss-cli-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'client-id.json');
    await cli(['--servers', flag, 'register', 'bob'], file);
    await cli(['--servers', flag, 'subjects', 'bob', 'news'], file);
    const cids = a.received.map((r) => r.envelope.cid);
    expect(new Set(cids).size).toBe(1);
    await cli(['--servers', flag, '--identity', join(dir, 'other.json'), 'who', 'bob'], file);
    expect(a.received.at(-1)!.envelope.cid).not.toBe(cids[0]);
    await writeFile(file, 'garbage');
    const r = await cli(['--servers', flag, 'status'], file);
    expect(r.code).toBe(2);
    expect(r.err).toContain('is not JSON');
  });

  it('no answer exits 2; a request that went out unanswered has an unknown outcome, and --json says so in JSON', async () => {
    const { flag } = await servers();
    const r = await cli(['--servers', flag, '--timeout', '150ms', 'status']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no server answered');
    const started = Date.now();
    const p = await cli(['--servers', flag, '--timeout', '1500ms', '--json', 'publish', 'bob', 'news', 'hi']);
    // --timeout is honoured: the client keeps trying until it runs out, not earlier.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(p.code).toBe(2);
    expect(p.err).toMatch(/no answer to PUBLISH within 1500 ms: the outcome is unknown/);
    expect(JSON.parse(p.out.trim())).toMatchObject({ ok: false, code: 'RSS_TIMEOUT', error: expect.stringMatching(/outcome is unknown/) });
  });

  it.each([
    [['register', 'bob'], /--servers/],
    [['--servers', '127.0.0.1:99999,b:1', 'register', 'bob'], /port "99999"/],
    [['--servers', 'a:1', 'register', 'bob'], /two addresses/],
    [['--servers', 'a:1,b:2', 'register', 'bad name!'], /may hold only ASCII letters/],
    [['--servers', 'a:1,b:2', 'retrieve', 'bob', '--last', '0'], /"0" is not a number/],
    [['--servers', 'a:1,b:2', 'update', 'bob', 'nowhere'], /"nowhere" is not HOST:PORT/],
    [['--servers', 'a:1,b:2', 'publish', 'bob', 'news'], /missing required argument/],
    [['--servers', 'a:1,b:2', 'bogus'], /unknown client command "bogus"/],
  ])('usage error %j exits 2', async (args, msg) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
  });

  it('--help works on every command and exits 0', async () => {
    for (const args of [['--help'], ['register', '--help'], ['publish', '--help'], ['listen', '--help']]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(r.out).toContain('Usage: rss client');
    }
  });
});

describe('rss client listen', () => {
  it('updates the address, gap-fills, prints pushed texts, and exits 0 when stopped', async () => {
    const { a, flag } = await servers();
    autoAnswer(a, (q) => (q.message.type === 'RETRIEVE-TEXTS' ? { type: 'RETRIEVED', name: 'bob', texts: [text(1)], more: false } : undefined));
    // Pushes are believed only with bob's key: register first, keeping it in the identity file.
    const dir = await mkdtemp(join(tmpdir(), 'rss-cli-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const identityFile = join(dir, 'client-id.json');
    expect((await cli(['--servers', flag, 'register', 'bob'], identityFile)).code).toBe(0);
    const m = memoryIo();
    const stop = new AbortController();
    const running = runListen({ servers: parseServers(flag), identityFile }, m.io, 'bob', stop.signal);
    const fill = await a.nextOf('RETRIEVE-TEXTS');
    expect(a.of('UPDATE')[0]!.message).toMatchObject({ name: 'bob', host: '0.0.0.0' });
    a.send({ type: 'MESSAGE', ...text(2, 'tech', 'carol') }, fill.from);
    await expect.poll(() => m.out()).toBe('[news] alice: text 1\n[tech] carol: text 2\n');
    await a.nextOf('ACK');
    stop.abort();
    expect(await running).toBe(0);
  });

  it('started again, does not show a text the servers push again (their cursor write lost in a crash); a new key starts afresh', async () => {
    const { a, flag } = await servers();
    autoAnswer(a, (q) => (q.message.type === 'RETRIEVE-TEXTS' ? { type: 'RETRIEVED', name: 'bob', texts: [], more: false } : undefined));
    const dir = await mkdtemp(join(tmpdir(), 'rss-cli-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const identityFile = join(dir, 'client-id.json');
    expect((await cli(['--servers', flag, 'register', 'bob'], identityFile)).code).toBe(0);
    /** One `listen bob` run: the servers push `seqs`; resolves with what it printed. */
    const listenOnce = async (seqs: number[], printed: number) => {
      const m = memoryIo();
      const stop = new AbortController();
      const since = a.received.length;
      const running = runListen({ servers: parseServers(flag), identityFile }, m.io, 'bob', stop.signal);
      const fill = await a.nextOf('RETRIEVE-TEXTS', since);
      const acked = a.of('ACK').length;
      for (const seq of seqs) a.send({ type: 'MESSAGE', ...text(seq) }, fill.from);
      // Every push is acknowledged, shown or not, so the servers stop pushing it.
      await expect.poll(() => a.of('ACK').length).toBe(acked + seqs.length);
      await expect.poll(() => m.out().split('\n').filter(Boolean).length).toBe(printed);
      stop.abort();
      expect(await running).toBe(0);
      return m.out();
    };
    expect(await listenOnce([2, 3], 2)).toBe('[news] alice: text 2\n[news] alice: text 3\n');
    expect(await listenOnce([3, 4], 1)).toBe('[news] alice: text 4\n');
    // De-registered and registered again: a new key, so the numbers shown under the old one no longer hold.
    expect((await cli(['--servers', flag, 'deregister', 'bob'], identityFile)).code).toBe(0);
    expect((await cli(['--servers', flag, 'register', 'bob'], identityFile)).code).toBe(0);
    expect(await listenOnce([1], 1)).toBe('[news] alice: text 1\n');
  });

  it('exits 1 when the user is unknown', async () => {
    const { a, flag } = await servers();
    autoAnswer(a, () => ({ type: 'UPDATE-DENIED', name: 'bob', reason: 'unknown user' }));
    const m = memoryIo();
    expect(await runListen({ servers: parseServers(flag) }, m.io, 'bob', new AbortController().signal)).toBe(1);
    expect(m.err()).toContain('unknown user');
  });
});

describe('rss client menu', () => {
  it('runs the six operations from piped lines and shows pushed texts while waiting', async () => {
    const { a, flag } = await servers();
    autoAnswer(a, (q) => (q.message.type === 'RETRIEVE-TEXTS' && (q.message as { last?: number }).last
      ? { type: 'RETRIEVED', name: 'bob', texts: [text(1)], more: false } : undefined));
    const m = memoryIo({ NO_COLOR: '1' });
    const running = runMenu({ servers: parseServers(flag) }, m.io);
    const since = (type: string) => a.received.filter((r: Received) => r.message.type === type).length;
    m.stdin.write('1\nbob\n');
    await a.nextOf('RETRIEVE-TEXTS'); // registered, now listening
    a.send({ type: 'MESSAGE', ...text(7, 'tech', 'carol') }, a.of('REGISTER')[0]!.from);
    await expect.poll(() => m.out()).toContain('[tech] carol: text 7');
    m.stdin.write('4\n\nnews,tech\n5\n\nnews\nhello there\n6\n\n3\n3\nbob\n\n2\n\nx\n');
    await expect.poll(() => since('DE-REGISTER')).toBe(1);
    m.stdin.end('q\n');
    expect(await running).toBe(0);
    const out = m.out();
    expect(out).toContain('registered bob');
    expect(out).toContain('bob follows news, tech');
    expect(out).toContain('published on news');
    expect(out).toContain('[news] alice: text 1');
    expect(out).toContain('is now at');
    expect(out).toContain('de-registered bob');
    expect(m.err()).toContain('"x" is not a menu choice');
    expect(a.of('PUBLISH')[0]!.message).toMatchObject({ name: 'bob', subject: 'news', text: 'hello there' });
    expect(a.of('ACK')[0]!.message).toMatchObject({ name: 'bob', seq: 7 });
  });

  it('quits at end of input in the middle of an operation', async () => {
    const { flag } = await servers();
    const m = memoryIo();
    const running = runMenu({ servers: parseServers(flag) }, m.io);
    m.stdin.end('5\nbob\n');
    expect(await running).toBe(0);
  });

  it('on a terminal, keys typed while a request is in flight answer no prompt; Ctrl-D ends the line', async () => {
    const { a, flag } = await servers();
    const m = memoryIo({ NO_COLOR: '1' });
    Object.assign(m.io.stdin, { isTTY: true });
    Object.assign(m.io.stdout, { isTTY: true, columns: 80 });
    const running = runMenu({ servers: parseServers(flag) }, m.io);
    m.stdin.write('7\rbob\r');
    const who = await a.nextOf('WHO');
    // Typed while WHO is unanswered: without a prompt on screen, this is no answer to "choice>".
    m.stdin.write('x\r');
    await expect.poll(() => m.out()).toMatch(/x/);
    a.answer(who, { type: 'WHO-LIST', name: 'bob', users: [] });
    await expect.poll(() => m.out()).toContain('(ignored 1 line typed while the request was in flight)');
    m.stdin.write('\x04'); // Ctrl-D at the prompt
    expect(await running).toBe(0);
    expect(m.err()).not.toContain('is not a menu choice');
    // The prompt's line is ended (after readline's cursor move): the shell's prompt starts on a line of its own.
    expect(m.out()).toMatch(/choice \(\? for the menu\)> (\x1b\[\d+G)?\n$/);
  });

  it('on a terminal, prints a pushed text above the prompt and redraws the line being typed', async () => {
    const { a, flag } = await servers();
    autoAnswer(a);
    const m = memoryIo({ NO_COLOR: '1' });
    Object.assign(m.io.stdin, { isTTY: true });
    Object.assign(m.io.stdout, { isTTY: true, columns: 80 });
    const plain = () => m.out().replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''); // without cursor moves
    const running = runMenu({ servers: parseServers(flag) }, m.io);
    m.stdin.write('1\rbob\r');
    await a.nextOf('RETRIEVE-TEXTS');
    await expect.poll(() => m.out().split('choice').length).toBe(3); // the prompt is back after register
    m.stdin.write('pub'); // typed, not yet entered
    await expect.poll(plain).toMatch(/> pub/);
    a.send({ type: 'MESSAGE', ...text(3, 'tech', 'carol') }, a.of('REGISTER')[0]!.from);
    await expect.poll(plain).toMatch(/\[tech\] carol: text 3\n[^]*choice \(\? for the menu\)> pub/);
    m.stdin.write('\x03'); // Ctrl-C quits
    expect(await running).toBe(0);
  });
});
