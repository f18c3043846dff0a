/**
 * Requests (user → server) in the canonical text dialect:
 *
 *   REGISTER RQ# Name IP Port          DE-REGISTER RQ# Name
 *   UPDATE RQ# Name IP Port            SUBJECTS RQ# Name Subject...
 *   PUBLISH RQ# Name Subject Text...   RETRIEVE-TEXTS RQ# Name [N]
 *   ECHO RQ# Name Text...              (a liveness check some clients offer)
 *
 * Decoding checks syntax and byte bounds only; the server applies the name
 * and subject rules so it can deny with a reason. Pure: no I/O.
 */
import { ProtocolError } from '../errors';
import { LIMITS } from './limits';
import type { Request } from './messages';
import {
  TOKEN_BOUNDS, Tokens, checkBytes, datagramText, quote, readBounded, readHost, readPort, readRq,
} from './text-lex';

/** The request types a text client may send; everything else is RSS_UNKNOWN_TYPE. */
export const TEXT_REQUEST_TYPES = ['REGISTER', 'DE-REGISTER', 'UPDATE', 'SUBJECTS', 'PUBLISH', 'RETRIEVE-TEXTS', 'ECHO'] as const;
type TextRequestType = (typeof TEXT_REQUEST_TYPES)[number];

const isTextRequestType = (t: string): t is TextRequestType => (TEXT_REQUEST_TYPES as readonly string[]).includes(t);

/**
 * Decode one text request datagram. Throws ProtocolError; once the type and
 * RQ# are read, errors carry `partial: {type, rq, name?}` for the denial.
 */
export function decodeTextRequest(bytes: Uint8Array): Request {
  const t = new Tokens(datagramText(bytes));
  const type = t.need('type');
  if (!isTextRequestType(type)) {
    throw new ProtocolError('RSS_UNKNOWN_TYPE', `unknown request type ${quote(type)}`);
  }
  t.type = type;
  const rq = readRq(t);
  t.partial = { type, rq };
  const name = readBounded(t, 'Name', TOKEN_BOUNDS.name);
  t.partial.name = name;

  switch (type) {
    case 'REGISTER':
    case 'UPDATE': {
      const host = readHost(t);
      const port = readPort(t);
      t.end('Port');
      return { type, rq, name, host, port };
    }
    case 'DE-REGISTER':
      t.end('Name');
      return { type, rq, name };
    case 'SUBJECTS': {
      // Zero or more subjects; a trailing space after the last one is already trimmed.
      const subjects = t.all();
      if (subjects.length > TOKEN_BOUNDS.subjects) {
        throw t.error('RSS_TOO_LARGE', `${subjects.length} subjects exceed ${TOKEN_BOUNDS.subjects}`);
      }
      subjects.forEach((s, i) => checkBytes(t, `Subject ${i + 1}`, s, TOKEN_BOUNDS.subject));
      return { type, rq, name, subjects };
    }
    case 'PUBLISH': {
      const subject = readBounded(t, 'Subject', TOKEN_BOUNDS.subject);
      // The text is the rest of the line as sent (its own spaces kept, trailing CR/LF/spaces trimmed); it may be empty.
      const text = t.rest();
      // Bounded like any text field; the server refuses with a reason what exceeds what a PUBLISH may carry.
      checkBytes(t, 'Text', text, LIMITS.maxTextField);
      return { type, rq, name, subject, text };
    }
    case 'ECHO': {
      const text = t.rest();
      checkBytes(t, 'Text', text, LIMITS.maxTextField);
      return { type, rq, name, text };
    }
    case 'RETRIEVE-TEXTS': {
      const tok = t.next();
      t.end('N');
      if (tok === undefined) return { type, rq, name };
      if (!/^[0-9]{1,10}$/.test(tok) || Number(tok) > LIMITS.maxRetrieveLast) {
        throw t.error('RSS_MALFORMED', `bad N ${quote(tok)} (expected 0..${LIMITS.maxRetrieveLast})`);
      }
      return { type, rq, name, last: Number(tok) };
    }
  }
}

/**
 * Encode a request as a text client would send it (client side, tests and
 * tools). Only the catalog requests and ECHO exist in this dialect; others throw
 * RSS_UNKNOWN_TYPE. Fields are written as given: a name containing a space
 * yields a datagram that decodes differently, which is the caller's bug.
 */
export function encodeTextRequest(req: Request): Buffer {
  const parts: (string | number)[] = [];
  switch (req.type) {
    case 'REGISTER':
    case 'UPDATE':
      parts.push(req.type, req.rq, req.name, req.host, req.port);
      break;
    case 'DE-REGISTER':
      parts.push(req.type, req.rq, req.name);
      break;
    case 'SUBJECTS':
      parts.push(req.type, req.rq, req.name, ...req.subjects);
      break;
    case 'PUBLISH':
      parts.push(req.type, req.rq, req.name, req.subject);
      if (req.text !== '') parts.push(req.text);
      break;
    case 'RETRIEVE-TEXTS':
      parts.push(req.type, req.rq, req.name);
      if (req.last !== undefined) parts.push(req.last);
      break;
    case 'ECHO':
      parts.push(req.type, req.rq, req.name);
      if (req.text !== '') parts.push(req.text);
      break;
    default:
      throw new ProtocolError('RSS_UNKNOWN_TYPE', `the text dialect has no ${req.type} request`);
  }
  return Buffer.from(parts.join(' '), 'utf8');
}
