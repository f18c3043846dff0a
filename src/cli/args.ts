/** Parsers for command-line values; each names the bad value in its error. */
import type { Address } from '../client';
import { InvalidArgumentError } from '../errors';
import { defaultRoleTiming } from '../server/role';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "3s", "2m", "1h", "1.5s" → ms. A bare number is refused: "2" could mean 2 ms or 2 s. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(t)) throw new InvalidArgumentError(`duration "${text}" needs a unit: ${t}s, ${t}m or ${t}ms`);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(t);
  if (!m) throw new InvalidArgumentError(`invalid duration "${text}" (use forms like 500ms, 3s, 2m)`);
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (ms <= 0 || !Number.isFinite(ms)) throw new InvalidArgumentError(`duration "${text}" must be positive`);
  return Math.round(ms);
}

/** A duration as help shows it: "2m", "3s", "500ms". */
export function durationText(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** The serving period: at least the lease's lifetime (a shorter period would hand over before a failover could even be seen). */
export function parsePeriod(text: string): number {
  const ms = parseDuration(text);
  const min = defaultRoleTiming().leaseTtl;
  if (ms < min) throw new InvalidArgumentError(`period "${text}" is shorter than the lease (${durationText(min)}); use at least ${durationText(min)}`);
  return ms;
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
