/**
 * pino, configured from --log-level / --log-file. With --log-file: JSON lines
 * in that file, for machines. Without it, on a terminal (stderr is a TTY): one
 * readable line per record, `time LEVEL [server/component] message key=value
 * ...`, the level colored unless NO_COLOR is set. Otherwise JSON lines on
 * stderr. The readable form is a small formatter of pino's own JSON lines
 * (no pino-pretty, no worker thread: the bundle and the single executable
 * stay one file).
 */
import type { Logger } from '../util/log';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;

/** pino's numeric levels → names. */
const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** What the readable form needs to paint a level (a chalk instance fits). */
export interface LevelPainter {
  gray(s: string): string;
  blue(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  magenta(s: string): string;
  dim(s: string): string;
}

const PAINT: Record<string, keyof LevelPainter> = {
  trace: 'gray', debug: 'blue', info: 'green', warn: 'yellow', error: 'red', fatal: 'magenta',
};

/** Fields that are part of the line's head, not key=value pairs. */
const HEAD = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'server', 'component']);

/** A value as it reads in key=value: bare when it has no blank or quote, JSON otherwise. */
function valueText(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v === undefined) return 'undefined';
  return JSON.stringify(v) ?? String(v);
}

/** `HH:MM:SS.mmm` in local time. */
function clockTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/**
 * One pino record (already parsed) as a readable line without the newline:
 * `12:00:01.250 DEBUG [A/udp] datagram received dir=in peer=127.0.0.1:5000 bytes=61 type=PUBLISH`.
 */
export function formatRecord(rec: Record<string, unknown>, paint: LevelPainter): string {
  const level = typeof rec.level === 'number' ? LEVEL_NAMES[rec.level] ?? String(rec.level) : String(rec.level ?? 'info');
  const time = typeof rec.time === 'number' ? clockTime(rec.time) : '--:--:--.---';
  const where = [rec.server, rec.component].filter((v) => v !== undefined).map(String).join('/');
  const pairs = Object.entries(rec)
    .filter(([k]) => !HEAD.has(k))
    .map(([k, v]) => `${k}=${valueText(v)}`);
  const head = `${paint.dim(time)} ${paint[PAINT[level] ?? 'gray'](level.toUpperCase().padEnd(5))}`;
  return [head, where ? `[${where}]` : '', String(rec.msg ?? ''), ...pairs].filter((s) => s !== '').join(' ').trimEnd();
}

/** A pino destination that turns each JSON line into a readable line on `out`. */
export function readableDestination(out: { write(s: string): unknown }, paint: LevelPainter): { write(line: string): void } {
  return {
    write(line: string) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      out.write(`${formatRecord(rec, paint)}\n`);
    },
  };
}

export interface LoggerSurroundings {
  stderr: { isTTY?: boolean; write(s: string): unknown };
  env: Record<string, string | undefined>;
}

/**
 * The logger of a command: JSON lines to `file` when given; else readable on
 * a terminal, JSON lines on stderr when it is not one.
 */
export async function createLogger(level: string, file?: string, where: LoggerSurroundings = process): Promise<Logger> {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    const { InvalidArgumentError } = await import('../errors');
    throw new InvalidArgumentError(`invalid log level "${level}" (${LOG_LEVELS.join(', ')})`);
  }
  const { pino } = await import('pino');
  const options = { level, base: undefined };
  if (file) return pino(options, pino.destination({ dest: file, mkdir: true, sync: false })) as unknown as Logger;
  if (where.stderr.isTTY) {
    const { colorFor } = await import('./client-output');
    return pino(options, readableDestination(where.stderr, colorFor(where.stderr, where.env))) as unknown as Logger;
  }
  return pino(options, pino.destination(2)) as unknown as Logger;
}
