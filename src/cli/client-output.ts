/**
 * How the client command writes: human lines (colored only on a TTY and when
 * NO_COLOR is unset) or one JSON object per line with --json.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import type { ReceivedText } from '../client/client';
import type { DeniedError } from '../errors';
import type { StoredText } from '../protocol/messages';

/** The streams and environment of one command run (process's by default; a test passes its own). */
export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
}

export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** NO_COLOR (https://no-color.org) when set and not empty, or a non-TTY stream: no color. */
export function colorFor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): ChalkInstance {
  const off = (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || !stream.isTTY;
  return new Chalk({ level: off ? 0 : 1 });
}

/**
 * A text as it may be shown on a line: control characters (C0, DEL, C1:
 * newlines, ANSI and OSC escape sequences) written as escapes, so a text
 * can neither fake another line nor drive the reader's terminal. The text
 * itself is unchanged in the store and in --json.
 */
export function showControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** Writes results, texts and problems in the chosen format. */
export class Printer {
  private readonly out: ChalkInstance;
  private readonly err: ChalkInstance;
  /** Where text lines go (the menu routes them above its prompt). */
  writeLine: (line: string) => void;

  constructor(private readonly io: CliIo, readonly json: boolean) {
    this.out = colorFor(io.stdout, io.env);
    this.err = colorFor(io.stderr, io.env);
    this.writeLine = (line) => void io.stdout.write(`${line}\n`);
  }

  /** A request the server accepted: `human` in text mode, the reply object with --json. */
  result(reply: object, human: string): void {
    this.writeLine(this.json ? JSON.stringify({ ok: true, ...reply }) : this.out.green(human));
  }

  /** A plain informational line (no JSON form). */
  info(human: string): void {
    if (!this.json) this.writeLine(human);
  }

  /**
   * A text as `[subject] from: text`; with `recipient`, ` (for NAME)` after
   * it: a menu acting for several users otherwise shows a text twice with
   * nothing to tell whose copy each is.
   */
  text(t: StoredText | ReceivedText, recipient = false): void {
    if (this.json) return this.writeLine(JSON.stringify({ type: 'TEXT', ...t }));
    const to = recipient && 'to' in t ? this.out.dim(` (for ${t.to})`) : '';
    this.writeLine(`${this.out.cyan(`[${t.subject}]`)} ${this.out.bold(t.from)}: ${showControls(t.text)}${to}`);
  }

  /** A denial: the reason on stderr (and the reply on stdout with --json). */
  denied(err: DeniedError, hint?: string): void {
    if (this.json) this.writeLine(JSON.stringify({ ok: false, ...err.reply, ...(hint ? { hint } : {}) }));
    this.io.stderr.write(`${this.err.red('denied:')} ${err.message}\n`);
    if (hint) this.io.stderr.write(`  (${hint})\n`);
  }

  /** A problem that is not the server's answer (timeout, usage); with --json also as a JSON line on stdout. */
  problem(message: string, code?: string): void {
    if (this.json) this.writeLine(JSON.stringify({ ok: false, error: message, ...(code ? { code } : {}) }));
    this.io.stderr.write(`${this.err.red('error:')} ${message}\n`);
  }
}
