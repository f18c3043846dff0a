/** pino, configured from --log-level / --log-file: JSON lines for machines (stderr or a file). */
import type { Logger } from '../util/log';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;

export async function createLogger(level: string, file?: string): Promise<Logger> {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    const { InvalidArgumentError } = await import('../errors');
    throw new InvalidArgumentError(`invalid log level "${level}" (${LOG_LEVELS.join(', ')})`);
  }
  const { pino } = await import('pino');
  const dest = file ? pino.destination({ dest: file, mkdir: true, sync: false }) : pino.destination(2);
  return pino({ level, base: undefined }, dest) as unknown as Logger;
}
