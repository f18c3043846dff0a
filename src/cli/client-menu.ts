/**
 * The interactive menu of `rss client` (seed 000's six operations, WHO,
 * the serving server's status, and quit).
 * Pushed texts are printed above the prompt as they arrive without breaking
 * the line being typed. When stdin is not a TTY it reads plain lines and
 * prints only results, so a script or a test can drive it.
 */
import { createInterface, clearLine, cursorTo, type Interface } from 'node:readline';
import { InvalidArgumentError as UsageError } from 'commander';
import type { RssClient } from '../client/client';
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

  constructor(readonly rl: Interface, private readonly interactive: boolean) {
    rl.on('line', (line) => {
      if (this.waiter) this.take(line);
      else this.lines.push(line);
    });
    rl.on('close', () => {
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
  const reader = new LineReader(rl, Boolean(io.stdin.isTTY));
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
  client.on('message', (t) => printer.text(t));
  let lastName = '';
  const need = async (prompt: string): Promise<string> => {
    const line = await reader.ask(prompt);
    if (line === undefined) throw new EndOfInput();
    return line;
  };
  const askName = async (): Promise<string> => {
    const line = await need(lastName ? `name [${lastName}]: ` : 'name: ');
    lastName = parseName(line === '' ? lastName : line);
    return lastName;
  };
  // Quiet when driven by a script: the menu and prompts are for a person at a terminal.
  if (io.stdin.isTTY) print(MENU);
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
        await operate(choice, client, printer, askName, need);
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

async function operate(
  choice: string,
  client: RssClient,
  p: Printer,
  askName: () => Promise<string>,
  need: (prompt: string) => Promise<string>,
): Promise<void> {
  switch (choice) {
    case '1': {
      const name = await askName();
      printRegistered(p, await client.register(name), name);
      // Texts for this user now come to this socket: show them as they arrive.
      await client.listen(name);
      return;
    }
    case '2': {
      const name = await askName();
      printDeregistered(p, await client.deregister(name), name);
      return;
    }
    case '3': {
      const name = await askName();
      const line = await need('new address HOST:PORT [this client]: ');
      printUpdated(p, await client.update(name, line === '' ? client.reachableAt : parseHostPort(line)), name);
      return;
    }
    case '4': {
      const name = await askName();
      const list = parseSubjects(await need('subjects, comma separated: '));
      printSubjects(p, await client.subjects(name, list), name);
      return;
    }
    case '5': {
      const name = await askName();
      const subject = parseSubject(await need('subject: '));
      const text = joinText([await need('text: ')]);
      printPublished(p, await client.publish(name, subject, text), subject);
      return;
    }
    case '6': {
      const name = await askName();
      const line = await need('how many recent texts [all unseen]: ');
      // The menu always says when there is nothing (the one-shot command only on a terminal).
      printRetrieved(p, await client.retrieve(name, line === '' ? {} : { last: parseLast(line) }), true);
      return;
    }
    case '7': {
      const name = await askName();
      printWho(p, await client.who(name), true);
      return;
    }
    case '8':
      printStatus(p, await client.status());
      return;
    default:
      p.problem(`"${choice}" is not a menu choice`);
  }
}
