/** Parsers for command-line values; each names the bad value in its error. */
import type { Address } from '../client';
import { InvalidArgumentError } from '../errors';
import { defaultRoleTiming } from '../server/role';
import { DEFAULT_REPLY_LIFETIME_MS, LIMITS } from '../protocol/limits';
import { SERVER_NAME_RULE, type RingMember, type ServerTag } from '../protocol/messages';

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

/**
 * How long texts everyone has are kept (server/retention.ts): `forever`
 * (Infinity: none is deleted), or a duration of at least the reply lifetime
 * (a PUBLISH sent again within it must still find its text).
 */
export function parseKeepTexts(text: string): number {
  if (text.trim() === 'forever') return Infinity;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (err) {
    throw new InvalidArgumentError(`--keep-texts "${text}": ${(err as Error).message.replace(/^(invalid )?duration "[^"]*"\s*/, '')}; or forever`);
  }
  const min = DEFAULT_REPLY_LIFETIME_MS;
  if (ms < min) throw new InvalidArgumentError(`--keep-texts "${text}" is shorter than the reply lifetime (${durationText(min)}): a publish sent again must still find its text; use at least ${durationText(min)}, or forever`);
  return ms;
}

/** A port 0..65535 (0 picks a free one). */
export function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new InvalidArgumentError(`invalid port "${text}" (0-65535)`);
  return n;
}

/** The host and the port's digits of "host:port" or "[v6]:port"; undefined when it is neither. */
export function splitHostPort(text: string): [host: string, port: string] | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:\s]+):(\d+)$/.exec(text);
  return m ? [m[1]!, m[2]!] : undefined;
}

/** "host:port" or "[v6]:port" → Address; the port must be 1..65535. */
export function parseHostPort(text: string): Address {
  const m = splitHostPort(text);
  if (!m) throw new InvalidArgumentError(`invalid address "${text}" (expected HOST:PORT)`);
  const port = parsePort(m[1]);
  if (port === 0) throw new InvalidArgumentError(`invalid address "${text}": port must be 1-65535`);
  return { host: m[0], port };
}

/** A server's name: "A" or "B" of a pair, or a ring member's name (any case; kept upper-case). */
export function parseRole(text: string): ServerTag {
  if (!SERVER_NAME_RULE.test(text)) {
    throw new InvalidArgumentError(`invalid server name "${text}" (A or B for a pair; a ring's names are letters, digits, "-" and "_", at most 16, starting with a letter)`);
  }
  return text.toUpperCase();
}

/**
 * "A=h1:5001,B=h2:5002,C=h3:5003" → the ring in order. Names and addresses
 * must be unique; 2 to 16 servers.
 */
export function parsePeers(text: string): RingMember[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const ring = parts.map((p) => {
    const eq = p.indexOf('=');
    if (eq < 0) throw new InvalidArgumentError(`invalid ring member "${p}" (expected NAME=HOST:PORT)`);
    return { tag: parseRole(p.slice(0, eq)), ...parseHostPort(p.slice(eq + 1)) };
  });
  if (ring.length < 1 || ring.length > LIMITS.maxRingSize) throw new InvalidArgumentError(`--peers names ${ring.length} servers (1 to ${LIMITS.maxRingSize})`);
  const dupName = ring.find((m, i) => ring.findIndex((x) => x.tag === m.tag) !== i);
  if (dupName) throw new InvalidArgumentError(`--peers names server ${dupName.tag} twice`);
  const dupAddr = ring.find((m, i) => ring.findIndex((x) => x.host === m.host && x.port === m.port) !== i);
  if (dupAddr) throw new InvalidArgumentError(`--peers gives two servers the address ${dupAddr.host}:${dupAddr.port}`);
  return ring;
}
