/**
 * Server → user messages in the canonical text dialect, one
 * line per datagram, single spaces, no trailing newline:
 *
 *   REGISTERED RQ#                     REGISTER-DENIED RQ# Reason
 *   UPDATE-CONFIRMED RQ# Name IP Port  UPDATE-DENIED RQ# Reason
 *   SUBJECTS-UPDATED RQ# Name Subject...   SUBJECTS-REJECTED RQ# Name Subject...
 *   PUBLISH-DENIED RQ# Reason...       RETRIEVE-DENIED RQ# Reason
 *   MESSAGE Name Subject Text...       RETRIEVED RQ# Name N (after N MESSAGEs)
 *   CHANGE-SERVER IP Port              UPDATE-SERVER IP Port
 *   DE-REGISTER RQ# Name               (confirms a DE-REGISTER: clients wait for it)
 *   ECHO RQ# Name Text...              (answers ECHO with the same line)
 *
 * Placeholders keep every line parseable by token-counting clients:
 * - an empty token field (a name or subject list the server never learned,
 *   e.g. the denial of `SUBJECTS 7` without a name) is written `-`. `-` can
 *   never be a real name or subject (both must start with a letter or
 *   digit), so the client side reads it back as ''/[] without ambiguity —
 *   unlike a word such as `none`, which is a valid subject. This also gives
 *   SUBJECTS-UPDATED its 4 tokens when the list is empty.
 * - an empty reason is written `denied`, so PUBLISH-DENIED has its 3 tokens.
 * Pure: no I/O.
 */
import { ProtocolError } from '../errors';
import type { Push, Reply, StoredText } from './messages';
import {
  TOKEN_BOUNDS, Tokens, checkBytes, datagramText, quote, readBounded, readHost, readPort, readRq, trimLineEnd,
} from './text-lex';

/** Written for an empty name or an empty subject list. */
const EMPTY_TOKEN = '-';
/** Written for an empty reason. */
const DEFAULT_REASON = 'denied';

/** One token: never empty, never containing a separator, CR/LF or NUL (which would shift or cut the line). */
function token(s: string): string {
  return s === '' ? EMPTY_TOKEN : s.replace(/[\u0000-\u0020\u007f]/g, '_');
}

/**
 * A reason ends the line: NUL, CR and LF would cut or split it at the
 * client. It is cut to the schema's 200-byte bound (on a character
 * boundary) so every line we send also decodes on our own client side.
 */
function reasonText(s: string): string {
  let r = s.replace(/[\u0000\r\n]/g, ' ').trim();
  if (Buffer.byteLength(r) > TOKEN_BOUNDS.reason) {
    let bytes = 0;
    let cut = '';
    for (const ch of r) {
      bytes += Buffer.byteLength(ch);
      if (bytes > TOKEN_BOUNDS.reason) break;
      cut += ch;
    }
    r = cut.trimEnd();
  }
  return r === '' ? DEFAULT_REASON : r;
}

/** A text is sent as published, except NUL (a text client stops reading there). */
function bodyText(s: string): string {
  return s.replace(/\u0000/g, '\ufffd');
}

const line = (...parts: (string | number)[]): Buffer => Buffer.from(parts.join(' '), 'utf8');

function messageLine(from: string, subject: string, text: string): Buffer {
  return text === '' ? line('MESSAGE', token(from), token(subject)) : line('MESSAGE', token(from), token(subject), bodyText(text));
}

/**
 * Encode what a server sends to a text client. Returns [] for the messages
 * the dialect does not have (nothing is sent): PUBLISH succeeds silently,
 * and the pickle / native extras have no text form. RETRIEVED becomes one MESSAGE datagram per text, in order,
 * then `RETRIEVED RQ# Name N`.
 */
export function encodeTextReply(msg: Reply | Push): Buffer[] {
  switch (msg.type) {
    case 'REGISTERED': return [line(msg.type, msg.rq)];
    case 'REGISTER-DENIED':
    case 'UPDATE-DENIED':
    case 'PUBLISH-DENIED':
    case 'RETRIEVE-DENIED':
      return [line(msg.type, msg.rq, reasonText(msg.reason))];
    case 'UPDATE-CONFIRMED': return [line(msg.type, msg.rq, token(msg.name), token(msg.host), msg.port)];
    case 'SUBJECTS-UPDATED':
    case 'SUBJECTS-REJECTED': {
      const subjects = msg.subjects.length === 0 ? [EMPTY_TOKEN] : msg.subjects.map(token);
      return [line(msg.type, msg.rq, token(msg.name), ...subjects)];
    }
    case 'RETRIEVED':
      return [
        ...msg.texts.map((t) => messageLine(t.from, t.subject, t.text)),
        line(msg.type, msg.rq, token(msg.name), msg.texts.length),
      ];
    case 'MESSAGE': return [messageLine(msg.from, msg.subject, msg.text)];
    case 'CHANGE-SERVER':
    case 'UPDATE-SERVER':
      return [line(msg.type, token(msg.host), msg.port)];
    // Text clients wait for a line whose first word is DE-REGISTER, or report the server as failed.
    case 'DE-REGISTERED': return [line('DE-REGISTER', msg.rq, token(msg.name))];
    case 'ECHOED': return [msg.text === '' ? line('ECHO', msg.rq, token(msg.name)) : line('ECHO', msg.rq, token(msg.name), bodyText(msg.text))];
    case 'DE-REGISTER-DENIED': case 'PUBLISHED':
    case 'INITIALIZATION-SUCCESS': case 'END-CONNECTION-OK':
    case 'WHO-LIST': case 'WHO-DENIED': case 'STATUS-REPORT': case 'DENIED':
    case 'CHALLENGE': // native only: a text client cannot answer it
      return [];
    default: {
      const never: never = msg; // a new message type must be given a text form (or [])
      return never;
    }
  }
}

const fromToken = (s: string): string => (s === EMPTY_TOKEN ? '' : s);

function readReason(t: Tokens): string {
  const r = t.rest();
  checkBytes(t, 'Reason', r, TOKEN_BOUNDS.reason);
  return r;
}

function readSubjects(t: Tokens): string[] {
  const list = t.all();
  if (list.length === 1 && list[0] === EMPTY_TOKEN) return [];
  if (list.length > TOKEN_BOUNDS.subjects) throw t.error('RSS_TOO_LARGE', `${list.length} subjects exceed ${TOKEN_BOUNDS.subjects}`);
  list.forEach((s, i) => checkBytes(t, `Subject ${i + 1}`, s, TOKEN_BOUNDS.subject));
  return list;
}

/** The first words of the lines a text client can receive. */
const LINE_TYPES: ReadonlySet<string> = new Set([
  'REGISTERED', 'REGISTER-DENIED', 'UPDATE-CONFIRMED', 'UPDATE-DENIED', 'SUBJECTS-UPDATED', 'SUBJECTS-REJECTED',
  'PUBLISH-DENIED', 'RETRIEVED', 'RETRIEVE-DENIED', 'MESSAGE', 'CHANGE-SERVER', 'UPDATE-SERVER', 'DE-REGISTER', 'ECHO',
]);

/** Decode one line, also returning RETRIEVED's N (which the Reply type has no field for). */
function decodeLine(bytes: Uint8Array): { msg: Reply | Push; count?: number } {
  const t = new Tokens(datagramText(bytes));
  const type = t.need('type');
  if (!LINE_TYPES.has(type)) throw new ProtocolError('RSS_UNKNOWN_TYPE', `unknown message type ${quote(type)}`);
  t.type = type;
  switch (type) {
    case 'MESSAGE': {
      const from = fromToken(readBounded(t, 'Name', TOKEN_BOUNDS.name));
      const subject = fromToken(readBounded(t, 'Subject', TOKEN_BOUNDS.subject));
      // No 900-byte check here: a stored text with NULs grows when they become U+FFFD, and the
      // datagram bound already caps what a client must hold.
      const text = t.rest();
      return { msg: { type, seq: 0, from, subject, text, at: 0 } };
    }
    case 'CHANGE-SERVER': {
      const host = readHost(t);
      const port = readPort(t);
      t.end('Port');
      return { msg: { type, host, port } };
    }
    case 'UPDATE-SERVER': {
      const host = readHost(t);
      const port = readPort(t);
      t.end('Port');
      // The text form names no server; 'A' is a placeholder (see textProjection).
      return { msg: { type, host, port, tag: 'A' } };
    }
  }
  const rq = readRq(t);
  switch (type) {
    case 'REGISTERED': t.end('RQ#'); return { msg: { type, rq, name: '' } };
    case 'REGISTER-DENIED':
    case 'UPDATE-DENIED':
    case 'RETRIEVE-DENIED':
      return { msg: { type, rq, name: '', reason: readReason(t) } };
    case 'PUBLISH-DENIED':
      return { msg: { type, rq, name: '', subject: '', text: '', reason: readReason(t) } };
  }
  const name = fromToken(readBounded(t, 'Name', TOKEN_BOUNDS.name));
  switch (type) {
    case 'DE-REGISTER': t.end('Name'); return { msg: { type: 'DE-REGISTERED', rq, name } };
    case 'ECHO': return { msg: { type: 'ECHOED', rq, name, text: t.rest() } };
    case 'UPDATE-CONFIRMED': {
      const host = readHost(t);
      const port = readPort(t);
      t.end('Port');
      return { msg: { type, rq, name, host, port } };
    }
    case 'SUBJECTS-UPDATED': return { msg: { type, rq, name, subjects: readSubjects(t) } };
    case 'SUBJECTS-REJECTED': return { msg: { type, rq, name, subjects: readSubjects(t), reason: '' } };
    case 'RETRIEVED': {
      const tok = t.need('N');
      t.end('N');
      if (!/^[0-9]{1,4}$/.test(tok)) throw t.error('RSS_MALFORMED', `bad N ${quote(tok)}`);
      return { msg: { type, rq, name, texts: [], more: false }, count: Number(tok) };
    }
  }
  throw new Error(`unreachable: ${type} is in LINE_TYPES but has no decoder`);
}

/**
 * Decode one server → user datagram (client side). The text form drops
 * fields; they come back as: name '' where the line has none (REGISTERED,
 * *-DENIED), reason '' for SUBJECTS-REJECTED, subject/text '' for
 * PUBLISH-DENIED, seq/at 0 for MESSAGE, tag 'A' for UPDATE-SERVER, and for
 * RETRIEVED texts [] and more false (its texts are the MESSAGE datagrams
 * before it: use decodeTextReplies to regroup them). `-` reads as ''/[].
 */
export function decodeTextMessage(bytes: Uint8Array): Reply | Push {
  return decodeLine(bytes).msg;
}

/**
 * Decode a sequence of datagrams, folding into each RETRIEVED the N MESSAGE
 * datagrams right before it (fewer if some were lost on the way).
 */
export function decodeTextReplies(datagrams: readonly Uint8Array[]): (Reply | Push)[] {
  const out: (Reply | Push)[] = [];
  for (const d of datagrams) {
    const { msg, count } = decodeLine(d);
    if (msg.type === 'RETRIEVED' && count !== undefined) {
      let first = out.length;
      while (first > 0 && out.length - first < count && out[first - 1]!.type === 'MESSAGE') first--;
      msg.texts = out.splice(first).map((m) => toStored(m as Extract<Push, { type: 'MESSAGE' }>));
    }
    out.push(msg);
  }
  return out;
}

const toStored = (m: { from: string; subject: string; text: string }): StoredText =>
  ({ seq: 0, from: m.from, subject: m.subject, text: m.text, at: 0 });

/** A token field after the trip: sanitized, and `-` read back as ''. */
const tripToken = (s: string): string => fromToken(token(s));
/** A subject list after the trip (a lone `-` is the empty list). */
function tripSubjects(list: readonly string[]): string[] {
  const words = list.map(token);
  return words.length === 1 && words[0] === EMPTY_TOKEN ? [] : words;
}
/** A text after the trip: what the client lexer keeps of the line's end. */
const tripText = (s: string): string => trimLineEnd(bodyText(s));
const tripStored = (t: StoredText): StoredText => toStored({ from: tripToken(t.from), subject: tripToken(t.subject), text: tripText(t.text) });

/**
 * What a message looks like after a trip through the text dialect (encode,
 * then decodeTextReplies): the fields the text form drops take the fill
 * values above, reasons get their default, odd token characters become `_`.
 * Undefined for the messages that have no text form. Byte bounds aside
 * (a 900-byte text stays 900 bytes), decodeTextReplies(encode(m)) equals it.
 */
export function textProjection(msg: Reply | Push): Reply | Push | undefined {
  switch (msg.type) {
    case 'REGISTERED': return { type: msg.type, rq: msg.rq, name: '' };
    case 'REGISTER-DENIED': case 'UPDATE-DENIED': case 'RETRIEVE-DENIED':
      return { type: msg.type, rq: msg.rq, name: '', reason: reasonText(msg.reason) };
    case 'PUBLISH-DENIED':
      return { type: msg.type, rq: msg.rq, name: '', subject: '', text: '', reason: reasonText(msg.reason) };
    case 'UPDATE-CONFIRMED':
      return { type: msg.type, rq: msg.rq, name: tripToken(msg.name), host: tripToken(msg.host), port: msg.port };
    case 'SUBJECTS-UPDATED':
      return { type: msg.type, rq: msg.rq, name: tripToken(msg.name), subjects: tripSubjects(msg.subjects) };
    case 'SUBJECTS-REJECTED':
      return { type: msg.type, rq: msg.rq, name: tripToken(msg.name), subjects: tripSubjects(msg.subjects), reason: '' };
    case 'RETRIEVED': return { type: msg.type, rq: msg.rq, name: tripToken(msg.name), texts: msg.texts.map(tripStored), more: false };
    case 'MESSAGE': return { type: msg.type, ...tripStored(msg) };
    case 'CHANGE-SERVER': return { type: msg.type, host: tripToken(msg.host), port: msg.port };
    case 'UPDATE-SERVER': return { type: msg.type, host: tripToken(msg.host), port: msg.port, tag: 'A' };
    case 'DE-REGISTERED': return { type: msg.type, rq: msg.rq, name: tripToken(msg.name) };
    case 'ECHOED': return { type: msg.type, rq: msg.rq, name: tripToken(msg.name), text: tripText(msg.text) };
    default: return undefined;
  }
}
