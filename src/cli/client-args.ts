/**
 * Parsing and validation of the client command's words and options. Each
 * parser throws commander's InvalidArgumentError with a message naming the
 * bad part, which commander prints after the option or argument name.
 */
import { InvalidArgumentError } from 'commander';
import { checkName, checkSubjects, LIMITS } from '../protocol/limits';
import type { Address } from '../client';

/** "host:port" or "[v6]:port" → Address. `allowPortZero` for a bind address. */
export function parseHostPort(text: string, allowPortZero = false): Address {
  const s = text.trim();
  let host: string;
  let port: string;
  const v6 = /^\[([^\]]*)\]:(.*)$/.exec(s);
  if (v6) {
    [, host, port] = v6 as unknown as [string, string, string];
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) throw new InvalidArgumentError(`"${s}" is not HOST:PORT (no ":PORT")`);
    host = s.slice(0, colon);
    port = s.slice(colon + 1);
    if (host.includes(':')) throw new InvalidArgumentError(`"${s}": write an IPv6 host in brackets, e.g. [::1]:4000`);
  }
  if (host === '') throw new InvalidArgumentError(`"${s}": the host is empty`);
  if (!/^[A-Za-z0-9.:_%-]+$/.test(host)) throw new InvalidArgumentError(`"${s}": "${host}" is not a host name or IP address`);
  const n = Number(port);
  const min = allowPortZero ? 0 : 1;
  if (!/^\d+$/.test(port) || n < min || n > 65535) {
    throw new InvalidArgumentError(`"${s}": port "${port}" is not a number ${min}-65535`);
  }
  return { host, port: n };
}

/** "A,B" (a pair) or "A,B,C,..." (a ring, in ring order) → the server addresses. */
export function parseServers(text: string): Address[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length < 2 || parts.length > LIMITS.maxRingSize) {
    throw new InvalidArgumentError(
      `expected two addresses HOST:PORT,HOST:PORT (server A, then server B) or up to ${LIMITS.maxRingSize} (a ring, in order), got ${parts.length}`,
    );
  }
  return parts.map((p) => parseHostPort(p));
}

export function parseBind(text: string): Address {
  return parseHostPort(text, true);
}

/** A user name, checked against the protocol's rule so the user hears why before anything is sent. */
export function parseName(text: string): string {
  const why = checkName(text);
  if (why) throw new InvalidArgumentError(`"${text.slice(0, 40)}": ${why}`);
  return text;
}

/** "a,b,c" → ["a", "b", "c"]; an empty string is the empty list (no subjects). */
export function parseSubjects(text: string): string[] {
  const list = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const why = checkSubjects(list);
  if (why) throw new InvalidArgumentError(why);
  return list;
}

export function parseSubject(text: string): string {
  const why = checkSubjects([text]);
  if (why) throw new InvalidArgumentError(why);
  return text;
}

/** The words of a text, joined by single spaces, within the wire limit. */
export function joinText(words: readonly string[]): string {
  const text = words.join(' ');
  if (text.trim() === '') throw new InvalidArgumentError('the text is empty: write something to publish');
  const bytes = Buffer.byteLength(text);
  if (bytes > LIMITS.maxTextBytes) throw new InvalidArgumentError(`the text has ${bytes} bytes; at most ${LIMITS.maxTextBytes} fit`);
  return text;
}

export function parseLast(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > LIMITS.maxRetrieveLast) {
    throw new InvalidArgumentError(`"${text}" is not a number 1-${LIMITS.maxRetrieveLast}`);
  }
  return n;
}
