/** Parsers for command-line values; each names the bad value in its error. */
import { InvalidArgumentError } from '../errors';
import type { Address } from '../transport/types';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "3s", "2m", "1h", "1.5s" or plain milliseconds → ms. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`invalid duration "${text}" (use forms like 500ms, 3s, 2m)`);
  const ms = Number(m[1]) * UNITS[m[2] ?? 'ms']!;
  if (ms <= 0 || !Number.isFinite(ms)) throw new InvalidArgumentError(`duration "${text}" must be positive`);
  return Math.round(ms);
}

/** A port 0..65535 (0 picks a free one). */
export function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new InvalidArgumentError(`invalid port "${text}" (0-65535)`);
  return n;
}

/** "host:port" or "[v6]:port" → Address; the port must be 1..65535. */
export function parseHostPort(text: string): Address {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:\s]+):(\d+)$/.exec(text);
  if (!m) throw new InvalidArgumentError(`invalid address "${text}" (expected HOST:PORT)`);
  const port = parsePort(m[2]!);
  if (port === 0) throw new InvalidArgumentError(`invalid address "${text}": port must be 1-65535`);
  return { host: m[1]!, port };
}

/** "A" or "B" (any case). */
export function parseRole(text: string): 'A' | 'B' {
  const t = text.toUpperCase();
  if (t !== 'A' && t !== 'B') throw new InvalidArgumentError(`invalid role "${text}" (A or B)`);
  return t;
}
