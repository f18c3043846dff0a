/**
 * `rss demo`: the database engine, server A and server B in one process on
 * 127.0.0.1, talking over real UDP sockets. Prints one `ready` line, then
 * every handoff and takeover as it happens; on a terminal (or with
 * --console) it reads console commands.
 */
import type { Command } from 'commander';
import type { EngineChoice } from '../app/database';
import type { StartedPair } from '../app/pair';
import { InvalidArgumentError } from '../errors';
import { parseDuration, parsePort } from './args';
import { createLogger } from './logger';
import { fail, onShutdown } from './run';

interface DemoOptions {
  portA: number;
  portB: number;
  period: number;
  engine: EngineChoice;
  mongo?: string;
  chaos?: string;
  console?: boolean;
  logLevel: string;
  logFile?: string;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the database, server A and server B in one process on 127.0.0.1')
    .option('--port-a <n>', 'UDP port of server A (0 picks a free one)', parsePort, 0)
    .option('--port-b <n>', 'UDP port of server B (0 picks a free one)', parsePort, 0)
    .option('--period <duration>', 'serving period before each handoff (e.g. 3s, 500ms, 2m)', parseDuration, 120_000)
    .option('--engine <kind>', 'auto, embedded or mongod', parseEngine, 'auto')
    .option('--mongo <uri>', 'use this MongoDB instead of starting one')
    .option('--chaos <spec>', 'inject faults into both servers\' datagrams (e.g. drop=0.1,dup=0.05,reorder=0.1,seed=1)')
    .option('--console', 'read console commands from stdin even when it is not a terminal')
    .option('--log-level <level>', 'trace, debug, info, warn, error or silent', 'warn')
    .option('--log-file <path>', 'write logs to this file instead of stderr')
    .action(async (o: DemoOptions) => {
      try {
        await runDemo(o);
      } catch (err) {
        fail(err);
      }
    });
}

function parseEngine(v: string): EngineChoice {
  if (v !== 'auto' && v !== 'embedded' && v !== 'mongod') throw new InvalidArgumentError(`invalid engine "${v}" (auto, embedded or mongod)`);
  return v;
}

async function runDemo(o: DemoOptions): Promise<void> {
  const started = performance.now();
  const logger = await createLogger(o.logLevel, o.logFile);
  const { openDatabase } = await import('../app/database');
  const db = await openDatabase({ engine: o.engine, ...(o.mongo ? { mongo: o.mongo } : {}) });
  const { startPair } = await import('../app/pair');
  const pair = await startPair({
    mongoUri: db.uri, portA: o.portA, portB: o.portB, period: o.period, logger,
    dbName: `rss_demo_${Date.now().toString(36)}`,
    ...(o.chaos ? { chaos: o.chaos } : {}),
  });
  const close = async () => {
    await pair.close();
    await db.close();
  };
  // Handlers first: a signal sent right after the ready line must still stop cleanly.
  onShutdown(close);
  const a = pair.a.server.address;
  const b = pair.b.server.address;
  const serving = pair.a.server.serving ? 'A' : 'B';
  const ms = Math.round(performance.now() - started);
  process.stdout.write(
    `rss demo ready in ${ms} ms: A ${a.host}:${a.port}, B ${b.host}:${b.port}, serving ${serving}; ` +
      `store ${db.kind}; period ${o.period} ms${o.chaos ? `; chaos ${o.chaos}` : ''}\n` +
      `  try: rss client --servers ${a.host}:${a.port},${b.host}:${b.port}\n`,
  );
  watchEvents(pair);
  if (process.stdin.isTTY || o.console) await runConsole(pair, close);
}

function stamp(): string {
  return new Date().toISOString().slice(11, 23);
}

function watchEvents(pair: StartedPair): void {
  for (const s of [pair.a.server, pair.b.server]) {
    s.on('handoff', (e) => process.stdout.write(`${stamp()} handoff ${e.from} → ${e.to} (epoch ${e.epoch + 1}), ${e.users} users told to switch\n`));
    s.on('serving', (e) => {
      if (e.reason !== 'initial') process.stdout.write(`${stamp()} ${e.tag} serving (epoch ${e.epoch}, ${e.reason})\n`);
    });
  }
}

async function runConsole(pair: StartedPair, close: () => Promise<void>): Promise<void> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: Boolean(process.stdin.isTTY) });
  const servers = { A: pair.a.server, B: pair.b.server };
  const commands: Record<string, { help: string; run: () => Promise<void> | void }> = {
    status: {
      help: 'role, epoch and counters of both servers',
      run: () => {
        for (const s of Object.values(servers)) process.stdout.write(`${JSON.stringify(s.status())}\n`);
      },
    },
    handoff: {
      help: 'end the serving period now',
      run: async () => {
        const current = Object.values(servers).find((s) => s.serving);
        if (!current || !(await current.handoff())) process.stdout.write('no server is serving right now\n');
      },
    },
    quit: { help: 'stop the demo', run: async () => { rl.close(); await close(); process.exit(0); } },
    help: { help: 'this list', run: () => { for (const [n, c] of Object.entries(commands)) process.stdout.write(`  ${n.padEnd(8)} ${c.help}\n`); } },
  };
  if (process.stdin.isTTY) process.stdout.write('console: status, handoff, quit (help for more)\n');
  rl.setPrompt('rss> ');
  rl.prompt();
  rl.on('line', async (line) => {
    const word = line.trim();
    if (word) {
      const cmd = commands[word];
      if (cmd) await cmd.run();
      else process.stdout.write(`unknown command "${word}" (help lists them)\n`);
    }
    rl.prompt();
  });
  rl.on('close', () => {
    if (process.stdin.isTTY) void close().then(() => process.exit(0));
  });
}
