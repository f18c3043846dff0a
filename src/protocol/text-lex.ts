/**
 * Lexing shared by both directions of the canonical text dialect: turning a
 * datagram into a trimmed string, splitting it into space-separated tokens
 * and reading the typed fields (RQ#, address, port, bounded strings).
 * Everything here throws only ProtocolError. Pure: no I/O.
 */
import { isIP } from 'node:net'; // a pure string check; no socket is opened here
import { ProtocolError, type PartialRequest } from '../errors';
import { LIMITS } from './limits';

/** Byte bounds of the token fields, the same as schema.ts applies to structured dialects. */
export const TOKEN_BOUNDS = { name: 64, subject: 64, host: 255, subjects: 64, reason: 200 } as const;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Quote a client-supplied value for an error message, cut so a hostile datagram cannot bloat logs. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/**
 * Bytes → the message string. Order matters: the size bound applies to the
 * datagram as received; then the first NUL ends the message (C and Java
 * clients send fixed-size, zero-padded buffers), so bytes after it are never
 * decoded; then trailing CR/LF/spaces are dropped (line-oriented clients).
 */
export function datagramText(bytes: Uint8Array): string {
  if (bytes.length > LIMITS.maxDatagram) {
    throw new ProtocolError('RSS_TOO_LARGE', `datagram of ${bytes.length} bytes exceeds ${LIMITS.maxDatagram}`);
  }
  const nul = bytes.indexOf(0);
  const body = nul === -1 ? bytes : bytes.subarray(0, nul);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new ProtocolError('RSS_MALFORMED', 'datagram is not valid UTF-8');
  }
  text = trimLineEnd(text);
  // Trimmed text ends in a non-space, so it is blank only when empty (leading spaces alone cannot remain).
  if (text.length === 0) throw new ProtocolError('RSS_MALFORMED', 'empty datagram');
  return text;
}

/**
 * Drop trailing CR, LF and spaces. A loop, not /[\r\n ]+$/: that regex
 * retries from every space of a long inner run (quadratic: ~12 ms for one
 * hostile 4 KB datagram), which a client could use to stall the server.
 */
export function trimLineEnd(s: string): string {
  let end = s.length;
  for (let c = s.charCodeAt(end - 1); c === 0x20 || c === 0x0a || c === 0x0d; c = s.charCodeAt(end - 1)) end--;
  return s.slice(0, end);
}

/**
 * A cursor over the space-separated tokens of a message. Only U+0020
 * separates tokens (the catalog's "space-separated"); runs of spaces count as
 * one separator between tokens, so `a  b` and `a b` read the same (the free
 * text ending a line is different: see rest()).
 */
export class Tokens {
  private pos = 0;
  /** Attached to every error once the request type and RQ# are known. */
  partial: PartialRequest | undefined;

  /** The message type, once read; it prefixes every error message. */
  type = '';

  constructor(private readonly src: string) {}

  private skipSpaces(): void {
    while (this.src.charCodeAt(this.pos) === 0x20) this.pos++;
  }

  /** The next token, or undefined at the end. */
  next(): string | undefined {
    this.skipSpaces();
    if (this.pos >= this.src.length) return undefined;
    const end = this.src.indexOf(' ', this.pos);
    const stop = end === -1 ? this.src.length : end;
    const tok = this.src.slice(this.pos, stop);
    this.pos = stop;
    return tok;
  }

  /** The next token; a missing one is a malformed message naming `field`. */
  need(field: string): string {
    const tok = this.next();
    if (tok === undefined) throw this.error('RSS_MALFORMED', `missing ${field}`);
    return tok;
  }

  /**
   * The free text ending a line: everything after the one space that follows
   * the last token, verbatim ('' at the end). Only one space is a separator
   * here, so a text's own leading spaces survive ("preserved exactly as sent").
   */
  rest(): string {
    if (this.src.charCodeAt(this.pos) === 0x20) this.pos++;
    const r = this.src.slice(this.pos);
    this.pos = this.src.length;
    return r;
  }

  /** All remaining tokens. */
  all(): string[] {
    const out: string[] = [];
    for (let t = this.next(); t !== undefined; t = this.next()) out.push(t);
    return out;
  }

  /** Fail when anything is left after the last field. */
  end(lastField: string): void {
    const extra = this.next();
    if (extra !== undefined) throw this.error('RSS_MALFORMED', `unexpected token ${quote(extra)} after ${lastField}`);
  }

  /** A ProtocolError prefixed with the message type and carrying what is known of the request. */
  error(code: 'RSS_MALFORMED' | 'RSS_TOO_LARGE', what: string): ProtocolError {
    return new ProtocolError(code, this.type ? `${this.type}: ${what}` : what, this.partial && { ...this.partial });
  }
}

/** Decimal digits only: no sign, no exponent, no hex, so `1e3` or `+1` never pass as numbers. */
function digits(tok: string, max: number): number | undefined {
  if (!/^[0-9]+$/.test(tok)) return undefined;
  const trimmed = tok.replace(/^0+(?=.)/, '');
  if (trimmed.length > 16) return undefined; // beyond every bound here; avoids precision loss
  const n = Number(trimmed);
  return n <= max ? n : undefined;
}

/** RQ#: decimal 0..LIMITS.maxRq. Clients reuse values, so no uniqueness is implied. */
export function readRq(t: Tokens): number {
  const tok = t.need('RQ#');
  const rq = digits(tok, LIMITS.maxRq);
  if (rq === undefined) throw t.error('RSS_MALFORMED', `bad RQ# ${quote(tok)} (expected decimal 0..${LIMITS.maxRq})`);
  return rq;
}

/** Port: decimal 1..65535 (0 is not an address one can send to). */
export function readPort(t: Tokens): number {
  const tok = t.need('Port');
  const port = digits(tok, 65535);
  if (port === undefined || port === 0) throw t.error('RSS_MALFORMED', `bad Port ${quote(tok)} (expected 1..65535)`);
  return port;
}

/** A non-empty token of at most `max` UTF-8 bytes. */
export function readBounded(t: Tokens, field: string, max: number): string {
  const tok = t.need(field);
  checkBytes(t, field, tok, max);
  return tok;
}

/** Byte bound of one field (the limit is in bytes so it also bounds the datagram). */
export function checkBytes(t: Tokens, field: string, value: string, max: number): void {
  const n = Buffer.byteLength(value);
  if (n > max) throw t.error('RSS_TOO_LARGE', `${field} of ${n} bytes exceeds ${max}`);
}

const HOST_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** A DNS name by RFC 1123 (underscore tolerated: some LAN names use it); an all-numeric dotted string is not a name. */
function isHostname(h: string): boolean {
  if (h.length > 253 || /^[0-9.]+$/.test(h)) return false;
  const labels = h.endsWith('.') ? h.slice(0, -1).split('.') : h.split('.');
  return labels.every((l) => HOST_LABEL.test(l));
}

/**
 * IP field. Java clients send `InetAddress.toString()`, i.e. `host/1.2.3.4`
 * or `/1.2.3.4`: the literal after the slash is the address to use; the
 * hostname before it is only a fallback when no literal follows. IPv6 may be
 * bracketed (`[::1]`, as in URLs); brackets are dropped.
 */
export function readHost(t: Tokens): string {
  const tok = t.need('IP');
  checkBytes(t, 'IP', tok, TOKEN_BOUNDS.host);
  const parts = tok.split('/');
  if (parts.length > 2) throw t.error('RSS_MALFORMED', `bad IP ${quote(tok)} (more than one "/")`);
  let host = parts.length === 2 ? parts[1] || parts[0]! : tok;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '' || (isIP(host) === 0 && !isHostname(host))) {
    throw t.error('RSS_MALFORMED', `bad IP ${quote(tok)} (expected an IPv4/IPv6 literal or a hostname)`);
  }
  return host;
}
