/**
 * The interactive menu of `rss client` (the six operations of the pickle clients, WHO,
 * the serving server's status, and quit).
 * Pushed texts are printed above the prompt as they arrive without breaking
 * the line being typed. When stdin is not a TTY it reads plain lines and
 * prints only results, so a script or a test can drive it.
 */
import { createInterface, clearLine, cursorTo, type Interface } from 'node:readline';
import { InvalidArgumentError as UsageError } from 'commander';
import { EXCHANGE_LIFETIME_MS, type RssClient } from '../client';
import type { RssError } from '../errors';
import {
  EXIT, openClient, printDeregistered, printPublished, printRegistered, printRetrieved, printStatus, printSubjects,
  printUpdated, printWho, report, type ConnectOptions,
} from './client-actions';
import { joinText, parseHostPort, parseLast, parseName, parseSubject, parseSubjects } from './client-args';
import { Printer, type CliIo } from './client-output';

const MENU = [
  '1) register   2) de-register   3) update address',
  '4) subjects of interest   5) publish   6) retrieve texts',
  '7) who shares my subjects   8) server status   q) quit',
].join('\n');

/** Lines from readline, queued: a piped stdin delivers lines before anyone asks for them. */
class LineReader {
  private readonly lines: string[] = [];
  private waiter: ((line: string | undefined) => void) | undefined;
  private ended = false;
  /** True while the menu waits for the user to type (pushed texts must then redraw the prompt). */
  waiting = false;
  /** True while a request is in flight (set by the menu around its calls). */
  busy = false;
  /** Lines a person typed while a request was in flight: dropped, never the answer to a prompt not yet shown. */
  ignored = 0;

  constructor(readonly rl: Interface, private readonly interactive: boolean, private readonly output: NodeJS.WritableStream) {
    rl.on('line', (line) => {
      if (this.waiter) this.take(line);
      // A script's lines are its answers in order; a person's keys typed ahead answer no prompt.
      else if (this.interactive && this.busy) this.ignored++;
      else this.lines.push(line);
    });
    rl.on('close', () => {
      // Ctrl-D / Ctrl-C leave the cursor after the prompt: end that line so the shell's prompt starts on its own.
      if (this.interactive && !this.ended) this.output.write('\n');
      this.ended = true;
      this.take(undefined);
    });
    // Ctrl-C at the prompt quits like "q".
    rl.on('SIGINT', () => rl.close());
  }

  private take(line: string | undefined): void {
    const w = this.waiter;
    this.waiter = undefined;
    this.waiting = false;
    w?.(line);
  }

  /** The next line after showing `prompt` (shown only to a person: `interactive`); undefined at end of input. */
  ask(prompt: string): Promise<string | undefined> {
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift()!.trim());
    if (this.ended) return Promise.resolve(undefined);
    this.rl.setPrompt(this.interactive ? prompt : '');
    if (this.interactive) this.rl.prompt();
    this.waiting = true;
    return new Promise((resolve) => (this.waiter = (l) => resolve(l?.trim())));
  }
}

/** Stops an operation when the input ends halfway through it. */
class EndOfInput extends Error {}

/** Run the menu until "q" or end of input; returns the exit code. */
export async function runMenu(conn: ConnectOptions, io: CliIo): Promise<number> {
  const printer = new Printer(io, conn.json ?? false);
  let client: RssClient;
  try {
    client = await openClient(conn);
  } catch (err) {
    return report(err, printer);
  }
  const terminal = Boolean(io.stdin.isTTY && io.stdout.isTTY);
  const rl = createInterface({ input: io.stdin, output: io.stdout, terminal });
  const reader = new LineReader(rl, Boolean(io.stdin.isTTY), io.stdout);
  const print = printer.writeLine;
  // Pushed texts go above the prompt: clear the prompt line, print, redraw prompt and typed text.
  printer.writeLine = (line) => {
    if (terminal && reader.waiting) {
      clearLine(io.stdout as NodeJS.WriteStream, 0);
      cursorTo(io.stdout as NodeJS.WriteStream, 0);
      print(line);
      rl.prompt(true);
    } else {
      print(line);
    }
  };
  // Acting for several users (every name it holds a key for), a text shared by them comes once for each: say whose.
  client.on('message', (t) => printer.text(t, client.knownUsers().length > 1));
  // The default name: the last one the servers accepted (never one they just refused).
  const names = { last: '' };
  const need = async (prompt: string): Promise<string> => {
    const line = await reader.ask(prompt);
    if (line === undefined) throw new EndOfInput();
    return line;
  };
  const askName = async (): Promise<string> => {
    const line = await need(names.last ? `name [${names.last}]: ` : 'name: ');
    return parseName(line === '' ? names.last : line);
  };
  // Quiet when driven by a script: the menu and prompts are for a person at a terminal.
  if (io.stdin.isTTY) print(MENU);
  void announce(client, printer, names, Boolean(io.stdin.isTTY));
  try {
    for (;;) {
      const choice = await reader.ask('choice (? for the menu)> ');
      if (choice === undefined || choice === 'q' || choice === 'quit' || choice === '0') break;
      if (choice === '?' || choice === 'h' || choice === 'help') {
        print(MENU);
        continue;
      }
      if (choice === '') continue;
      try {
        const inFlight = <T>(request: Promise<T>): Promise<T> => {
          reader.busy = true;
          return request.finally(() => (reader.busy = false));
        };
        const name = await operate(choice, client, printer, { askName, need, inFlight }, conn.timeoutMs ?? EXCHANGE_LIFETIME_MS);
        if (name !== undefined) names.last = name;
        if (reader.ignored > 0) {
          printer.info(`(ignored ${reader.ignored} line${reader.ignored === 1 ? '' : 's'} typed while the request was in flight)`);
          reader.ignored = 0;
        }
      } catch (err) {
        if (err instanceof EndOfInput) break;
        if (err instanceof UsageError) printer.problem(err.message);
        else report(err, printer);
      }
    }
    return EXIT.ok;
  } finally {
    rl.close();
    await client.close();
  }
}

/**
 * Point the users this client acts for (the names it holds keys for) at
 * this menu's socket, as `listen` does, so a restarted menu gets their
 * pushes. Runs beside the menu: a person need not wait for it.
 */
async function announce(client: RssClient, p: Printer, names: { last: string }, person: boolean): Promise<void> {
  const announced: string[] = [];
  await Promise.all(client.knownUsers().map(async (name) => {
    try {
      await client.update(name);
      await client.listen(name);
      announced.push(name);
    } catch (err) {
      if ((err as RssError).code === 'RSS_CLOSED') return;
      p.problem(`texts for ${name} will not come here: ${(err as Error).message}`);
    }
  }));
  if (announced.length === 0) return;
  if (announced.length === 1 && names.last === '') names.last = announced[0]!;
  if (person) p.info(`texts for ${announced.sort().join(', ')} come here`);
}

/** Run one menu choice; returns the name the servers accepted a request for, if any ('' after a de-registration). */
async function operate(
  choice: string,
  client: RssClient,
  p: Printer,
  ask: { askName: () => Promise<string>; need: (prompt: string) => Promise<string>; inFlight: <T>(r: Promise<T>) => Promise<T> },
  timeoutMs: number,
): Promise<string | undefined> {
  const { askName, need, inFlight } = ask;
  switch (choice) {
    case '1': {
      const name = await askName();
      printRegistered(p, await inFlight(client.register(name)), name);
      // Texts for this user now come to this socket: show them as they arrive.
      await inFlight(client.listen(name));
      return name;
    }
    case '2': {
      const name = await askName();
      printDeregistered(p, await inFlight(client.deregister(name)), name);
      return '';
    }
    case '3': {
      const name = await askName();
      const line = await need('new address HOST:PORT [this client]: ');
      printUpdated(p, await inFlight(client.update(name, line === '' ? client.reachableAt : parseHostPort(line))), name);
      return name;
    }
    case '4': {
      const name = await askName();
      const list = parseSubjects(await need('subjects, comma separated: '));
      printSubjects(p, await inFlight(client.subjects(name, list)), name);
      return name;
    }
    case '5': {
      const name = await askName();
      const subject = parseSubject(await need('subject: '));
      const text = joinText([await need('text: ')]);
      printPublished(p, await inFlight(client.publish(name, subject, text)), subject);
      return name;
    }
    case '6': {
      const name = await askName();
      const line = await need('how many recent texts [all unseen]: ');
      // The menu always says when there is nothing (the one-shot command only on a terminal).
      printRetrieved(p, await inFlight(client.retrieve(name, line === '' ? {} : { last: parseLast(line) })), true);
      return name;
    }
    case '7': {
      const name = await askName();
      printWho(p, await inFlight(client.who(name)), true);
      return name;
    }
    case '8':
      await inFlight(printStatus(p, client.servers, timeoutMs));
      return undefined;
    default:
      p.problem(`"${choice}" is not a menu choice`);
      return undefined;
  }
}
