/**
 * `rss demo`: the database engine and servers A and B (or, with --servers N,
 * a ring A, B, C, ...) in one process on 127.0.0.1, talking over real UDP
 * sockets. Prints one `ready` line, then every event as it happens (handoff,
 * takeover, failover, standby, pushes retried), time-stamped and colored
 * (NO_COLOR respected). On a terminal, or with --console, it reads console
 * commands: status, handoff, kill NAME, start NAME, chaos SPEC|off, users,
 * store down|up|slow|flap, help, quit.
 */
import { clearLine, createInterface, cursorTo } from 'node:readline';
import { Option, type Command } from 'commander';
import type { EngineChoice } from '../app/database';
import type { StartedGroup, StartedServer } from '../app/pair';
import type { TcpFaultProxy } from '../app/store-faults';
import { InvalidArgumentError } from '../errors';
import type { ServerTag } from '../protocol/messages';
import { durationText, parseKeepTexts, parsePeriod, parsePort } from './args';
import { createLogger } from './logger';
import { parseSecret } from './server';
import { commandName } from './invocation';
import { fail, onShutdown } from './run';
import { checkHttp, httpOption, httpTokenOption, noHttpOption, startHttp, type HttpCliOptions } from './http-options';
import type { OpsHost } from '../ops/host';

interface DemoOptions extends HttpCliOptions {
  servers: number;
  portA: number;
  portB: number;
  period: number;
  keepTexts: number;
  engine: EngineChoice;
  mongo?: string;
  chaos?: string;
  console?: boolean;
  logLevel: string;
  logFile?: string;
  peerSecret?: string;
  requireAuth?: boolean;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the database and servers A and B (or a ring of N: --servers N) in one process on 127.0.0.1')
    .option('--servers <n>', 'how many servers take turns: 2 is the pair A, B; 3 to 9 a ring A, B, C, ...', parseServerCount, 2)
    .option('--port-a <n>', 'UDP port of server A (0 picks a free one)', parsePort, 0)
    .option('--port-b <n>', 'UDP port of server B (0 picks a free one)', parsePort, 0)
    .addOption(new Option('--period <duration>', 'serving period before each handoff (e.g. 3s, 2m; at least the 1.5s lease)').argParser(parsePeriod).default(120_000, '2m'))
    .addOption(new Option('--keep-texts <duration>', 'texts every reader of their subject has received are deleted once this old (the newest 1000 per subject stay); forever keeps them all').argParser(parseKeepTexts).default(120_000, '2m'))
    .option('--engine <kind>', 'auto, embedded or mongod', parseEngine, 'auto')
    .option('--mongo <uri>', 'use this MongoDB instead of starting one')
    .option('--chaos <spec>', 'inject faults into both servers\' datagrams (e.g. drop=0.1,dup=0.05,reorder=0.1,seed=1)')
    .option('--console', 'read console commands from stdin even when it is not a terminal')
    .option('--log-level <level>', 'trace, debug (every datagram), info, warn, error or silent', 'warn')
    .option('--log-file <path>', 'write logs to this file (JSON lines) instead of stderr')
    .option('--peer-secret <secret>', 'secret of both servers (authenticates TAKEOVER and `rss status`, wraps user keys); default: a random one per run, and `rss status` over loopback only', parseSecret)
    .option('--require-auth', 'refuse registrations from the unauthenticated legacy dialects (canonical text, pickle)')
    .addOption(httpOption('127.0.0.1:0'))
    .addOption(noHttpOption())
    .addOption(httpTokenOption())
    .action(async (o: DemoOptions) => {
      try {
        await runDemo(o);
      } catch (err) {
        fail(err);
      }
    });
}

/** 2..9 servers (A to I). */
export function parseServerCount(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 2 || n > 9) throw new InvalidArgumentError(`invalid server count "${v}" (2 to 9)`);
  return n;
}

function parseEngine(v: string): EngineChoice {
  if (v !== 'auto' && v !== 'embedded' && v !== 'mongod') throw new InvalidArgumentError(`invalid engine "${v}" (auto, embedded or mongod)`);
  return v;
}

/** The colors of the demo's lines (a chalk instance, or identity functions without color). */
type Paint = Record<'cyan' | 'green' | 'yellow' | 'red' | 'magenta' | 'dim' | 'bold', (s: string) => string>;

/** Writes event and answer lines; on a terminal it keeps the console's prompt below them. */
interface Screen {
  paint: Paint;
  /** A console answer. */
  say(line: string): void;
  /** An event: time-stamped. */
  event(line: string): void;
}

async function runDemo(o: DemoOptions): Promise<void> {
  const started = performance.now();
  checkHttp(o);
  const logger = await createLogger(o.logLevel, o.logFile);
  const { openDatabase } = await import('../app/database');
  const db = await openDatabase({ engine: o.engine, ...(o.mongo ? { mongo: o.mongo } : {}) });
  // The servers reach the store through a fault proxy, so the console can take the store away (`store down`).
  const { proxyInFront } = await import('../app/store-faults');
  const front = await proxyInFront(db.uri).catch(() => undefined);
  const { startGroup } = await import('../app/pair');
  const ports = [o.portA, o.portB, ...Array<number>(o.servers - 2).fill(0)];
  const group = await startGroup({
    mongoUri: front?.uri ?? db.uri, ports, period: o.period, logger,
    retention: { keepMs: o.keepTexts },
    dbName: `rss_demo_${Date.now().toString(36)}`,
    ...(o.chaos ? { chaos: o.chaos } : {}),
    security: { requireAuth: Boolean(o.requireAuth), ...(o.peerSecret !== undefined ? { peerSecret: o.peerSecret } : {}) },
  });
  const addresses = group.tags.map((t) => group.get(t).server.address);
  const listed = group.tags.map((t, i) => `${t} ${addresses[i]!.host}:${addresses[i]!.port}`).join(', ');
  const serving = group.tags.find((t) => group.get(t).server.serving) ?? '?';
  const { colorFor } = await import('./client-output');
  const screen = plainScreen(colorFor(process.stdout, process.env));
  const demo = new Demo(group, screen, o.chaos, front?.proxy);
  const http = await startHttp(o, demo.opsHost());
  const ms = Math.round(performance.now() - started);
  process.stdout.write(
    `rss demo ready in ${ms} ms: ${listed}, serving ${serving}; ` +
      `store ${db.kind}; period ${durationText(o.period)}${o.chaos ? `; chaos ${o.chaos}` : ''}` +
      `${o.requireAuth ? '; legacy registrations refused' : ''}${o.peerSecret ? '; peer secret set' : ''}` +
      `${http ? `; dashboard ${http.url}` : ''}\n` +
      `  try: ${commandName()} client --servers ${addresses.map((a) => `${a.host}:${a.port}`).join(',')}\n`,
  );
  const close = async () => {
    await http?.close();
    demo.stop();
    await group.close();
    await front?.proxy.close();
    await db.close();
  };
  onShutdown(close);
  if (process.stdin.isTTY || o.console) await runConsole(demo, screen, close);
}

function stamp(): string {
  return new Date().toISOString().slice(11, 23);
}

function plainScreen(paint: Paint): Screen {
  return {
    paint,
    say: (line) => void process.stdout.write(`${line}\n`),
    event: (line) => void process.stdout.write(`${paint.dim(stamp())} ${line}\n`),
  };
}

/** What each serving reason means to someone watching. */
const SERVING_REASON: Record<string, string> = {
  initial: 'first to take the lease',
  handoff: 'took over at the handoff',
  failover: 'failover: the serving server\'s lease expired',
  resume: 'resumed its own lease after a restart',
};

/** A server of the group, as the console drives it (its events, role and actions). */
type Server = StartedServer['server'];

/** The demo's state and actions, shared by the console commands. */
class Demo {
  private chaosText: string | undefined;
  private readonly poller: NodeJS.Timeout;
  /** Push counters last reported, per server instance. */
  private readonly seen = new Map<Server, { retransmissions: number; givenUp: number }>();

  constructor(readonly group: StartedGroup, private readonly screen: Screen, chaos?: string, private readonly storeProxy?: TcpFaultProxy) {
    this.chaosText = chaos;
    for (const tag of group.tags) this.watch(this.server(tag));
    // Delivery has no retry event: report its counters' growth once a second.
    this.poller = setInterval(() => this.reportRetries(), 1000);
    this.poller.unref();
  }

  server(tag: ServerTag): Server {
    return this.group.get(tag).server;
  }

  /** A console's server name, checked against this demo's servers. */
  tag(word: string | undefined): ServerTag {
    const t = word?.toUpperCase();
    const names = this.group.tags.length === 2 ? 'A or B' : this.group.tags.join(', ');
    if (!t || !this.group.tags.includes(t)) throw new InvalidArgumentError(`which server? (${names})`);
    return t;
  }

  stop(): void {
    clearInterval(this.poller);
  }

  private watch(s: Server): void {
    const { paint } = this.screen;
    s.on('handoff', (e) =>
      this.screen.event(paint.cyan(`handoff ${e.from} → ${e.to} (epoch ${e.epoch + 1}), ${e.users} users${e.others > 0 ? ` and ${e.others} other client${e.others === 1 ? '' : 's'}` : ''} told to switch in ${e.took.totalMs} ms`)),
    );
    s.on('serving', (e) => {
      const line = `${e.tag} serving (epoch ${e.epoch}): ${SERVING_REASON[e.reason] ?? e.reason}, in ${e.took.totalMs} ms`;
      this.screen.event(e.reason === 'failover' ? paint.red(paint.bold(line)) : paint.green(line));
    });
    s.on('standby', (e) => {
      if (e.reason !== 'start') this.screen.event(paint.yellow(`${e.tag} standby (epoch ${e.epoch}, ${e.reason})`));
    });
    this.seen.set(s, { retransmissions: 0, givenUp: 0 });
  }

  private reportRetries(): void {
    for (const tag of this.group.tags) {
      if (!this.group.running(tag)) continue;
      const { server: s, inspect } = this.group.get(tag);
      const before = this.seen.get(s);
      if (!before) continue;
      const { retransmissions, givenUp } = inspect().pushes;
      const retried = retransmissions - before.retransmissions;
      const gaveUp = givenUp - before.givenUp;
      if (retried > 0) this.screen.event(this.screen.paint.magenta(`${tag} retried ${retried} push${retried === 1 ? '' : 'es'} not acknowledged in time`));
      if (gaveUp > 0) this.screen.event(this.screen.paint.magenta(`${tag} gave up pushing to ${gaveUp} user${gaveUp === 1 ? '' : 's'} (the texts wait for RETRIEVE)`));
      this.seen.set(s, { retransmissions, givenUp });
    }
  }

  async status(): Promise<void> {
    const { formatStatusTable } = await import('./status');
    const results = await Promise.all(this.group.tags.map(async (tag) => {
      const s = this.server(tag);
      return this.group.running(tag)
        ? { tag, address: s.address, status: await s.statusReport() }
        : { tag, address: s.address, error: 'stopped (start it with: start ' + tag + ')' };
    }));
    this.screen.say(formatStatusTable(results, this.screen.paint).trimEnd());
    this.screen.say(`chaos: ${this.chaosText ?? 'off'}; store: ${this.storeProxy?.describe() ?? 'direct'}`);
  }

  /*
   * The steering actions, for the console and the dashboard alike: each says
   * why it could not be taken (undefined when it was), and prints its event.
   */

  /** End the serving period now; the server that handed over (or why none did). */
  async handoff(): Promise<{ from: ServerTag } | { refused: string }> {
    const tag = this.group.tags.find((t) => this.group.running(t) && this.server(t).serving);
    if (tag === undefined || !(await this.server(tag).handoff())) return { refused: 'no server is serving right now' };
    return { from: tag };
  }

  async kill(tag: ServerTag): Promise<string | undefined> {
    if (!(await this.group.stopServer(tag))) return `${tag} is not running`;
    // What happens next depends on who serves: say that, not always "the other takes over".
    const ttl = this.group.get(tag).inspect().leaseTtl;
    const others = this.group.tags.filter((t) => t !== tag && this.group.running(t));
    const serving = others.find((t) => this.server(t).serving);
    const next = others.length === 0
      ? `no server is running now (start ${[tag, ...this.group.tags.filter((t) => t !== tag)].join(' or start ')})`
      : serving
        ? `${serving} keeps serving`
        : `no handoff; ${others.length === 1 ? others[0] : 'the next live server'} takes over when the lease expires (~${(ttl / 1000).toFixed(1)} s)`;
    this.screen.event(this.screen.paint.red(`${tag} killed: ${next}`));
    return undefined;
  }

  async start(tag: ServerTag): Promise<string | undefined> {
    if (this.group.running(tag)) return `${tag} is running already`;
    const started = await this.group.startServer(tag);
    this.watch(started.server);
    const a = started.server.address;
    this.screen.event(this.screen.paint.green(`${tag} started again on ${a.host}:${a.port} (standby until it gets the lease)`));
    return undefined;
  }

  /** Chaos on every server (or off); what it did, in words. */
  chaos(spec: string): string {
    const off = spec === 'off';
    this.group.setChaos(off ? undefined : spec);
    this.chaosText = off ? undefined : spec;
    const said = off ? 'chaos off' : `chaos on ${this.group.tags.length === 2 ? 'both' : 'all'} servers: ${spec}`;
    this.screen.event(this.screen.paint.magenta(said));
    return said;
  }

  /**
   * The servers and steering actions, for the HTTP endpoints and the
   * dashboard: the console's actions, refused with the reason when they
   * cannot be taken (the page shows it).
   */
  opsHost(): OpsHost {
    const refuse = (why: string): never => {
      throw new InvalidArgumentError(why);
    };
    const refuseIf = (why: string | undefined): undefined => (why === undefined ? undefined : refuse(why));
    return {
      servers: () => this.group.tags.map((tag) => ({ tag, server: this.server(tag), running: this.group.running(tag) })),
      control: {
        handoff: async () => {
          const done = await this.handoff();
          return 'refused' in done ? refuse(done.refused) : `handoff from ${done.from} asked`;
        },
        kill: async (tag) => refuseIf(await this.kill(tag)) ?? `${tag} killed (no handoff)`,
        start: async (tag) => refuseIf(await this.start(tag)) ?? `${tag} started again (standby until it gets the lease)`,
        chaos: async (spec) => this.chaos(spec),
        chaosSpec: () => this.chaosText,
        ...(this.storeProxy ? { store: (fault: string) => this.storeFault(this.storeProxy!, fault) } : {}),
      },
    };
  }

  async store(fault: string): Promise<void> {
    if (!this.storeProxy) return this.screen.say('the store is not behind a fault proxy here (a URI with several hosts?)');
    await this.storeFault(this.storeProxy, fault);
  }

  /** Put a fault on the store proxy (or take it away); printed as an event, and said back to the dashboard. */
  private async storeFault(proxy: TcpFaultProxy, fault: string): Promise<string> {
    const { applyStoreFault } = await import('../app/store-faults');
    const said = `store: ${applyStoreFault(proxy, fault)}`;
    this.screen.event(this.screen.paint.magenta(said));
    return said;
  }

  async users(): Promise<void> {
    const listing = await this.group.users();
    if (!listing) return this.screen.say('no server is running');
    if (listing.users.length === 0) return this.screen.say('(no users)');
    const rows = listing.users.map((u) => [u.name, u.dialect, u.subjects.length ? u.subjects.join(',') : '-', u.online === undefined ? '?' : u.online ? 'online' : 'offline']);
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['name', 'dialect', 'subjects'][i]!.length));
    const fmt = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ');
    this.screen.say(this.screen.paint.bold(fmt(['name', 'dialect', 'subjects', 'online'])));
    for (const r of rows) this.screen.say(fmt(r));
    if (!listing.live) this.screen.say(this.screen.paint.dim('(online: ? while no server serves)'));
  }
}

async function runConsole(demo: Demo, screen: Screen, close: () => Promise<void>): Promise<void> {
  const terminal = Boolean(process.stdin.isTTY);
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal });
  rl.setPrompt('rss> ');
  if (terminal) {
    // Events and answers go above the prompt without breaking the line being typed.
    const above = (text: string) => {
      clearLine(process.stdout, 0);
      cursorTo(process.stdout, 0);
      process.stdout.write(text);
      rl.prompt(true);
    };
    screen.say = (line) => above(`${line}\n`);
    screen.event = (line) => above(`${screen.paint.dim(stamp())} ${line}\n`);
  }
  const names = demo.group.tags.length <= 3 ? demo.group.tags.join('|') : `${demo.group.tags[0]}..${demo.group.tags.at(-1)}`;
  let quitting = false;
  const quit = async () => {
    if (quitting) return;
    quitting = true;
    rl.close();
    await close();
    process.exit(0);
  };
  const sayIf = (line: string | undefined) => {
    if (line !== undefined) screen.say(line);
  };
  const commands: Record<string, { args?: string; help: string; run: (arg: string | undefined) => Promise<void> | void }> = {
    status: { help: 'role, epoch, time left, users, texts, rates and counters of every server', run: () => demo.status() },
    handoff: {
      help: 'end the serving period now',
      run: async () => {
        const done = await demo.handoff();
        if ('refused' in done) screen.say(done.refused);
      },
    },
    kill: { args: names, help: 'stop a server abruptly (no handoff: another takes over when the lease expires)', run: async (w) => sayIf(await demo.kill(demo.tag(w))) },
    start: { args: names, help: 'start a killed server again on the same port', run: async (w) => sayIf(await demo.start(demo.tag(w))) },
    chaos: {
      args: 'SPEC|off',
      help: 'lose/duplicate/reorder/delay datagrams, e.g. chaos drop=0.1,dup=0.05,seed=7',
      run: (w) => {
        if (!w) throw new InvalidArgumentError('chaos needs a spec (e.g. drop=0.1,dup=0.05) or off');
        demo.chaos(w);
      },
    },
    store: {
      args: 'FAULT',
      help: 'take the store away and back: down, up, slow [MS], flap [MS], reset, blackhole',
      run: (w) => demo.store(w ?? ''),
    },
    users: { help: 'registered users: name, dialect, subjects, online', run: () => demo.users() },
    help: {
      help: 'this list',
      run: () => {
        for (const [n, c] of Object.entries(commands)) screen.say(`  ${`${n} ${c.args ?? ''}`.padEnd(14)} ${c.help}`);
      },
    },
    quit: { help: 'stop the demo', run: () => quit() },
  };
  if (terminal) screen.say(`console: status, handoff, kill ${names}, start ${names}, chaos SPEC|off, store down|up|slow|flap, users, quit (help for more)`);
  if (terminal) rl.prompt();
  // One command at a time, in order: piped input delivers lines faster than kill/start complete.
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      const [word, ...rest] = line.trim().split(/\s+/);
      const arg = rest.length > 0 ? rest.join(' ') : undefined;
      if (!word) return;
      const cmd = commands[word.toLowerCase()];
      try {
        if (cmd) await cmd.run(arg);
        else screen.say(`unknown command "${word}" (help lists them)`);
      } catch (err) {
        screen.say(screen.paint.red(`error: ${err instanceof Error ? err.message : String(err)}`));
      }
      if (terminal && !quitting) rl.prompt();
    });
  });
  rl.on('close', () => {
    if (terminal) void quit();
  });
}
