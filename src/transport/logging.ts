/**
 * A Transport wrapper that logs every datagram sent and received at `debug`
 * level through the injected Logger: direction, peer, size, the dialect read
 * from the first byte, and a short summary decoded with the dialects' own
 * codecs (message type, RQ#, name, seq). Every message a server or client
 * sends and receives can be logged; this is the one place
 * that does it, so neither the server core nor the client library logs
 * datagrams themselves.
 *
 * Decoding for the log never throws and never changes the datagram: garbage
 * is logged as `{ dialect: undefined, undecodable: "..." }` and passed on
 * untouched. Nothing is decoded when the logger says debug is off.
 */
import { detectDialect } from '../protocol/dialect';
import type { DialectName } from '../protocol/messages';
import { decodeNative } from '../protocol/native';
import { readPickle } from '../protocol/pickle/reader';
import { decodeTextMessage, decodeTextRequest } from '../protocol/text';
import type { Logger } from '../util/log';
import { formatAddress, type Transport } from './types';

/** What the log says about one datagram's content. */
export interface DatagramSummary {
  dialect?: DialectName;
  type?: string;
  rq?: number;
  name?: string;
  seq?: number;
  /** Why the content could not be read (the datagram is still delivered as is). */
  undecodable?: string;
}

/** One log record's fields (the message is "datagram sent" or "datagram received"). */
export interface DatagramRecord extends DatagramSummary {
  dir: 'in' | 'out';
  peer: string;
  bytes: number;
}

/** pino's level check, when the logger has one (a logger without it is treated as debug-enabled). */
function debugEnabled(logger: Logger): boolean {
  const check = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return typeof check === 'function' ? check.call(logger, 'debug') : true;
}

const MAX_FIELD = 64;

/** Keep log fields short: a name or type from a hostile datagram can be long. */
function short(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  return v.length > MAX_FIELD ? `${v.slice(0, MAX_FIELD)}…` : v;
}

function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
}

/** type/rq/name/seq of a decoded message (any dialect's field names). */
function fieldsOf(m: Record<string, unknown>): DatagramSummary {
  const out: DatagramSummary = {};
  const type = short(m.type ?? m.TYPE);
  const rq = int(m.rq ?? m['RQ#']);
  const name = short(m.name ?? m.NAME ?? m.from);
  const seq = int(m.seq);
  if (type !== undefined) out.type = type;
  if (rq !== undefined) out.rq = rq;
  if (name !== undefined) out.name = name;
  if (seq !== undefined) out.seq = seq;
  return out;
}

function reason(err: unknown): string {
  return short(err instanceof Error ? err.message : String(err)) ?? 'unreadable';
}

/**
 * Summarise a datagram in any dialect, request or reply. Never throws.
 * Text datagrams are tried as a request, then as a reply or push; when both
 * fail the first word is still reported as the type.
 */
export function summarizeDatagram(bytes: Uint8Array): DatagramSummary {
  let dialect: DialectName | undefined;
  try {
    dialect = detectDialect(bytes);
    if (dialect === 'native') {
      return { dialect, ...fieldsOf(decodeNative(bytes).message as unknown as Record<string, unknown>) };
    }
    if (dialect === 'pickle') {
      const d = readPickle(bytes);
      if (typeof d !== 'object' || d === null || Array.isArray(d)) return { dialect, undecodable: 'not a dict' };
      return { dialect, ...fieldsOf(d) };
    }
    if (dialect === 'text') {
      try {
        return { dialect, ...fieldsOf(decodeTextRequest(bytes) as unknown as Record<string, unknown>) };
      } catch {
        // not a request: a reply or a push?
      }
      try {
        return { dialect, ...fieldsOf(decodeTextMessage(bytes) as unknown as Record<string, unknown>) };
      } catch (err) {
        const word = /^[A-Z][A-Z-]*/.exec(Buffer.from(bytes.subarray(0, MAX_FIELD)).toString('latin1'))?.[0];
        return { dialect, ...(word ? { type: word } : {}), undecodable: reason(err) };
      }
    }
    return { undecodable: `unknown first byte 0x${(bytes[0] ?? 0).toString(16).padStart(2, '0')}` };
  } catch (err) {
    return { ...(dialect ? { dialect } : {}), undecodable: reason(err) };
  }
}

/** The record logged for one datagram. Never throws. */
export function datagramRecord(dir: 'in' | 'out', bytes: Uint8Array, peer: { host: string; port: number }): DatagramRecord {
  let where: string;
  try {
    where = formatAddress(peer);
  } catch {
    where = '?';
  }
  return { dir, peer: where, bytes: bytes.length, ...summarizeDatagram(bytes) };
}

/**
 * Wrap `inner` so every datagram it sends or receives is logged at debug
 * level on `logger`. close() closes `inner`. A failure of the logger itself
 * is swallowed: logging must never lose or break a datagram.
 */
export function logged(inner: Transport, logger: Logger): Transport {
  const log = (dir: 'in' | 'out', bytes: Uint8Array, peer: { host: string; port: number }) => {
    try {
      if (!debugEnabled(logger)) return;
      logger.debug(datagramRecord(dir, bytes, peer), dir === 'in' ? 'datagram received' : 'datagram sent');
    } catch {
      // a broken log destination is not the network's problem
    }
  };
  return {
    send(bytes, to, failed) {
      log('out', bytes, to);
      inner.send(bytes, to, failed);
    },
    onDatagram(handler) {
      inner.onDatagram((bytes, from) => {
        log('in', bytes, from);
        handler(bytes, from);
      });
    },
    address: () => inner.address(),
    close: () => inner.close(),
  };
}
