/**
 * `rss client`: commander wiring only. Without a further word it runs the
 * interactive menu; with one it runs that one operation and exits 0 when the
 * server accepted, 1 when it denied, 2 on a usage error or no answer.
 */
import { InvalidArgumentError as UsageError, type Command } from 'commander';
import type { Address } from '../client';
import { parseDuration } from './args';
import {
  EXIT, runDeregister, runListen, runPublish, runRegister, runRetrieve, runStatus, runSubjects, runUpdate, runWho,
  type ConnectOptions,
} from './client-actions';
import { joinText, parseBind, parseHostPort, parseLast, parseName, parseServers, parseSubject, parseSubjects } from './client-args';
import { defaultIdentityFile } from './client-identity';
import { runMenu } from './client-menu';
import { createLogger, LOG_LEVELS } from './logger';
import { processIo, type CliIo } from './client-output';

/** What the command needs from its surroundings (the process by default; tests inject their own). */
export interface ClientCommandDeps {
  io?: CliIo;
  /** Called with the exit code once an operation ends (default: sets process.exitCode). */
  done?: (code: number) => void;
  /** Called on a usage error or --help; must not return (default: process.exit). A test throws. */
  exit?: (code: number) => never;
  /** Ends `listen` (default: SIGINT or SIGTERM). */
  stopSignal?: () => AbortSignal;
  /** The identity file when --identity is not given (default: in the rss data folder). */
  identityFile?: () => Promise<string>;
}

interface ClientOptions {
  servers?: Address[];
  bind?: Address;
  json?: boolean;
  timeout?: number;
  identity?: string;
  logLevel: string;
  logFile?: string;
}

function signalStop(): AbortSignal {
  const ac = new AbortController();
  const stop = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    ac.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return ac.signal;
}

/** --timeout: a duration (a bare number is refused: "10" could mean seconds or ms). */
function parseTimeout(v: string): number {
  let ms: number;
  try {
    ms = parseDuration(v);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (ms > 600_000) throw new UsageError(`"${v}" is longer than the longest timeout, 10m`);
  return ms;
}

function parseLogLevel(v: string): string {
  if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new UsageError(`invalid log level "${v}" (${LOG_LEVELS.join(', ')})`);
  return v;
}

/** Add `client` and its sub-commands to the program. */
export function registerClientCommand(program: Command, deps: ClientCommandDeps = {}): void {
  const io = deps.io ?? processIo();
  const done = deps.done ?? ((code: number) => void (process.exitCode = code));
  const exit = deps.exit ?? ((code: number): never => process.exit(code));
  const stopSignal = deps.stopSignal ?? signalStop;
  const identityFile = deps.identityFile ?? defaultIdentityFile;

  const client = program
    .command('client')
    .description('talk to the rss servers: an interactive menu, or one operation (see the commands below)')
    // Checked when an operation runs (not by commander), so `rss client help publish` needs no servers.
    .option('--servers <A,B,...>', 'servers A and B (or every server of a ring, in order) as HOST:PORT,HOST:PORT,... (required)', parseServers)
    .option('--bind <HOST:PORT>', 'local address of the client socket (default: any address, a free port)', parseBind)
    .option('--json', 'print one JSON object per result or text line')
    .option('--timeout <duration>', 'give up when no server answered within this time (e.g. 3s, 500ms; default 10s)', parseTimeout)
    .option('--identity <file>', 'file keeping this client\'s id: users belong to the client that registered them (default: in the rss data folder)')
    .option('--log-level <level>', 'trace, debug (every datagram), info, warn, error or silent', parseLogLevel, 'silent')
    .option('--log-file <path>', 'write logs to this file (JSON lines) instead of stderr')
    .addHelpText('after', '\nExit codes: 0 accepted, 1 denied by the server (reason on stderr), 2 usage error or no answer.')
    // A word that names no sub-command reaches this action (rather than commander's "too many arguments").
    .allowExcessArguments()
    .action(async (_opts: ClientOptions, cmd: Command) => {
      const word = cmd.args[0];
      // `rss client help publish`: the sub-command's help, no servers needed.
      if (word === 'help') {
        const topic = cmd.args[1];
        const target = topic === undefined ? client : client.commands.find((c) => c.name() === topic || c.aliases().includes(topic));
        if (target) target.help();
      }
      // A word that is none of the sub-commands lands here.
      if (word !== undefined) {
        const known = client.commands.map((c) => c.name()).join(', ');
        const what = word === 'help' ? `no client command "${cmd.args[1]}" to explain` : `unknown client command "${word}"`;
        return cmd.error(`error: ${what} (commands: ${known}; rss client --help)`, { exitCode: EXIT.usage });
      }
      done(await runMenu(await conn(cmd), io));
    });

  /** Options of `client` as seen from any sub-command (they may come before or after its name). */
  const conn = async (cmd: Command): Promise<ConnectOptions> => {
    const o = cmd.optsWithGlobals<ClientOptions>();
    if (!o.servers) cmd.error("error: required option '--servers <A,B>' not specified", { exitCode: EXIT.usage });
    // No logger at all unless asked for: the one-shot commands stay as fast as they were.
    const logger = o.logLevel !== 'silent' || o.logFile ? await createLogger(o.logLevel, o.logFile) : undefined;
    return {
      ...(logger ? { logger } : {}),
      servers: o.servers!,
      ...(o.bind ? { bind: o.bind } : {}),
      json: Boolean(o.json),
      ...(o.timeout ? { timeoutMs: o.timeout } : {}),
      identityFile: o.identity ?? (await identityFile()),
    };
  };
  const sub = (name: string, description: string) =>
    client.command(name).description(description).configureHelp({ showGlobalOptions: true });

  sub('register', 'register a user, reachable at this client (or --at)')
    .argument('<name>', 'user name', parseName)
    .option('--at <HOST:PORT>', 'address where the user receives texts', (s) => parseHostPort(s))
    .action(async (name: string, o: { at?: Address }, cmd: Command) => done(await runRegister(await conn(cmd), io, name, o.at)));

  sub('deregister', 'remove a user and all its data')
    .alias('de-register')
    .argument('<name>', 'user name', parseName)
    .action(async (name: string, _o: object, cmd: Command) => done(await runDeregister(await conn(cmd), io, name)));

  sub('update', 'tell the servers where a user is reachable now')
    .argument('<name>', 'user name', parseName)
    .argument('<HOST:PORT>', 'the new address', (s: string) => parseHostPort(s))
    .action(async (name: string, at: Address, _o: object, cmd: Command) => done(await runUpdate(await conn(cmd), io, name, at)));

  sub('subjects', "replace a user's subjects of interest")
    .argument('<name>', 'user name', parseName)
    .argument('<S1,S2...>', 'comma-separated subjects ("" for none)', parseSubjects)
    .action(async (name: string, list: string[], _o: object, cmd: Command) => done(await runSubjects(await conn(cmd), io, name, list)));

  sub('publish', 'publish a text on one of the user\'s subjects')
    .argument('<name>', 'user name', parseName)
    .argument('<subject>', 'subject', parseSubject)
    .argument('<text...>', 'the text (the words are joined by spaces)')
    .action(async (name: string, subject: string, words: string[], _o: object, cmd: Command) => {
      let text: string;
      try {
        text = joinText(words);
      } catch (err) {
        // The command was right, the text is not: one line saying why, not the whole help.
        io.stderr.write(`error: ${(err as Error).message}\n`);
        return exit(EXIT.usage);
      }
      done(await runPublish(await conn(cmd), io, name, subject, text));
    });

  sub('retrieve', 'print the texts a user has not seen yet, as [subject] from: text')
    .argument('<name>', 'user name', parseName)
    .option('--last <N>', 'the N most recent texts instead, seen or not', parseLast)
    .action(async (name: string, o: { last?: number }, cmd: Command) => done(await runRetrieve(await conn(cmd), io, name, o.last)));

  sub('listen', 'receive a user\'s texts on this socket and print them until Ctrl-C')
    .argument('<name>', 'user name', parseName)
    .action(async (name: string, _o: object, cmd: Command) => done(await runListen(await conn(cmd), io, name, stopSignal())));

  sub('who', 'users sharing a subject with this user, online or not')
    .argument('<name>', 'user name', parseName)
    .action(async (name: string, _o: object, cmd: Command) => done(await runWho(await conn(cmd), io, name)));

  sub('status', "the serving server's counters")
    .action(async (_o: object, cmd: Command) => done(await runStatus(await conn(cmd), io)));

  // Usage errors exit 2 (commander's default is 1, which here means "denied"); --help exits 0.
  for (const c of [client, ...client.commands]) c.exitOverride((err) => exit(err.exitCode === 0 ? 0 : EXIT.usage));
}
