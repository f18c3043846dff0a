/**
 * The pickle dialect: each datagram is a
 * pickled Python dict with capitalised keys. Requests are read with the
 * strict reader (never a general unpickler), renamed to rss fields and
 * checked by schema.ts `toMessage`, so bounds match every other dialect.
 * Replies are written at pickle protocol 2 with exactly the dialect's TYPE names
 * and keys, RQ# and PORT as ints.
 *
 * Decisions:
 * - The pickle dialect has no push and no generic denial: MESSAGE, DENIED (it
 *   names no request type, and pickle clients know only per-request denials),
 *   END-CONNECTION-OK, WHO-*, STATUS-REPORT encode to [] (nothing is sent;
 *   the client sees silence, as from a server that does not serve).
 * - Fields the pickle dialect has no key for are dropped: `reason` of the denials other
 *   than REGISTER-DENIED, `seq`, `tag`/`epoch` of CHANGE-SERVER.
 * - UPDATE-DENIED without host/port sends IP "" and PORT 0 (pickle clients
 *   always read the four keys).
 * - Every reply fits a pickle client's recvfrom(1024). A text a PUBLISH may carry
 *   (LIMITS.maxTextBytes) always fits whole, echoed in PUBLISH-* or as the
 *   one post of a RETRIEVE-SUCCESS, with the longest names and subject.
 *   Only what no PUBLISH accepts today is cut and marked "..." (a denial's
 *   echo of an over-long text, or a text stored when the limit was higher);
 *   a SUBJECT-LIST keeps the whole subjects that fit.
 * - RETRIEVED: fitRetrieved returns the prefix of texts that fits, but at
 *   least 1 when there is a text, so the server always makes progress; the
 *   reply says `MORE: True` when texts that did not fit remain owed. A
 *   RETRIEVED of two or more texts that does not fit throws RSS_TOO_LARGE:
 *   the server must call fitRetrieved first, and encode never drops texts
 *   the server would then count as seen.
 */
import { ProtocolError, type PartialRequest } from '../../errors';
import type { Dialect } from '../dialect';
import { LIMITS } from '../limits';
import type { Push, Reply, Request, RequestType, RetrievedReply, StoredText } from '../messages';
import { toMessage } from '../schema';
import { fitSubjectList, fitsReply, fitText } from './fit';
import { type PickleDict, readPickle } from './reader';
import { type PickleInput, writePickle } from './writer';

/** ProtocolError's constructor codes (its `code` field is typed as any ErrorCode). */
type ProtocolCode = ConstructorParameters<typeof ProtocolError>[0];

/** Pickle request TYPE → rss request type. */
const REQUEST_TYPE: Readonly<Record<string, RequestType>> = {
  INITIALIZATION: 'INITIALIZATION',
  REGISTER: 'REGISTER',
  'DE-REGISTER': 'DE-REGISTER',
  'UPDATE-SOCKET': 'UPDATE',
  SUBJECTS: 'SUBJECTS',
  PUBLISH: 'PUBLISH',
  'RETRIEVE-TEXTS': 'RETRIEVE-TEXTS',
  'END-CONNECTION': 'END-CONNECTION',
};

/** RQ# and PORT come as int or, from some pickle clients' code paths, as a digit string. */
function asInt(v: unknown): unknown {
  if (typeof v === 'string' && /^[0-9]{1,10}$/.test(v)) return Number(v);
  return v;
}

/** SUBJECT-LIST is one comma-separated string (pickle); blanks around commas and empty entries are dropped. */
function splitSubjects(v: unknown): string[] {
  if (typeof v !== 'string') throw new ProtocolError('RSS_MALFORMED', 'field SUBJECT-LIST: expected a comma-separated string');
  return v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Rename pickle keys to rss fields; toMessage then checks kinds and bounds. */
function renamed(type: RequestType, d: PickleDict): Record<string, unknown> {
  const out: Record<string, unknown> = { type };
  if (type === 'INITIALIZATION') return out; // its MESSAGE: "New Client!" carries nothing
  out.rq = asInt(d['RQ#']);
  if (type !== 'END-CONNECTION') out.name = d.NAME;
  if (type === 'REGISTER' || type === 'UPDATE' || type === 'END-CONNECTION') {
    out.host = d.IP;
    out.port = asInt(d.PORT);
  }
  if (type === 'SUBJECTS') out.subjects = splitSubjects(d['SUBJECT-LIST']);
  if (type === 'PUBLISH') {
    out.subject = d.SUBJECT;
    out.text = d.TEXT;
  }
  return out;
}

/** What the server may answer with when the rest of the request is bad: type and RQ#, and NAME when well-formed. */
function partialOf(type: RequestType, d: PickleDict): PartialRequest | undefined {
  const rq = asInt(d['RQ#']);
  if (typeof rq !== 'number' || !Number.isSafeInteger(rq) || rq < 0 || rq > LIMITS.maxRq) return undefined;
  const name = d.NAME;
  // Same bound as schema.ts 'name', so a denial that echoes NAME still fits a 1024-byte reply.
  if (typeof name === 'string' && name.length > 0 && Buffer.byteLength(name) <= 64) return { type, rq, name };
  return { type, rq };
}

function decodeRequest(bytes: Uint8Array): Request {
  const d = readPickle(bytes);
  if (typeof d !== 'object' || d === null || Array.isArray(d)) {
    throw new ProtocolError('RSS_MALFORMED', 'pickle request is not a dict');
  }
  const wireType = d.TYPE;
  const type = typeof wireType === 'string' && Object.prototype.hasOwnProperty.call(REQUEST_TYPE, wireType)
    ? REQUEST_TYPE[wireType]!
    : undefined;
  if (type === undefined) {
    throw new ProtocolError('RSS_UNKNOWN_TYPE', `unknown pickle request TYPE ${JSON.stringify(String(wireType)).slice(0, 40)}`);
  }
  const partial = type === 'INITIALIZATION' ? undefined : partialOf(type, d);
  try {
    return toMessage(renamed(type, d)) as Request;
  } catch (err) {
    if (err instanceof ProtocolError && partial && !err.partial) throw new ProtocolError(err.code as ProtocolCode, err.message, partial);
    throw err;
  }
}

function post(t: StoredText): PickleInput {
  // In a post, NAME is the publisher (pickle clients show "NAME: TEXT" under SUBJECT).
  return { NAME: t.from, SUBJECT: t.subject, TEXT: t.text };
}

/**
 * `MORE: True` when texts remain owed that did not fit (a key existing
 * clients do not read, so they are unaffected; the texts come with the next
 * RETRIEVE-TEXTS).
 */
function retrieveSuccess(reply: RetrievedReply, texts: readonly StoredText[], more = reply.more): PickleInput {
  return { TYPE: 'RETRIEVE-SUCCESS', 'RQ#': reply.rq, NAME: reply.name, POSTS: texts.map(post), ...(more ? { MORE: true } : {}) };
}

function retrieved(reply: RetrievedReply): PickleInput {
  const full = retrieveSuccess(reply, reply.texts);
  if (fitsReply(full)) return full;
  if (reply.texts.length === 1) {
    const only = reply.texts[0]!;
    return fitText((text) => retrieveSuccess(reply, [{ ...only, text }]), only.text, 'RETRIEVE-SUCCESS');
  }
  throw new ProtocolError('RSS_TOO_LARGE', `RETRIEVE-SUCCESS with ${reply.texts.length} texts exceeds ${LIMITS.maxPickleReply} bytes: call fitRetrieved first`);
}

/** The pickle dict for a reply or push, or undefined when the pickle dialect has no such message. */
function pickleDict(msg: Reply | Push): PickleInput | undefined {
  switch (msg.type) {
    case 'REGISTERED': return { TYPE: 'REGISTER-SUCCESS', 'RQ#': msg.rq };
    case 'REGISTER-DENIED': return { TYPE: 'REGISTER-DENIED', 'RQ#': msg.rq, REASON: msg.reason };
    case 'DE-REGISTERED': return { TYPE: 'DE-REGISTER-SUCCESS', 'RQ#': msg.rq };
    case 'DE-REGISTER-DENIED': return { TYPE: 'DE-REGISTER-DENIED', 'RQ#': msg.rq };
    case 'UPDATE-CONFIRMED':
      return { TYPE: 'UPDATE-SOCKET-SUCCESS', 'RQ#': msg.rq, NAME: msg.name, IP: msg.host, PORT: msg.port };
    case 'UPDATE-DENIED':
      return { TYPE: 'UPDATE-SOCKET-DENIED', 'RQ#': msg.rq, NAME: msg.name, IP: msg.host ?? '', PORT: msg.port ?? 0 };
    case 'SUBJECTS-UPDATED':
    case 'SUBJECTS-REJECTED': {
      const TYPE = msg.type === 'SUBJECTS-UPDATED' ? 'UPDATE-SUBJECTS-SUCCESS' : 'UPDATE-SUBJECTS-DENIED';
      return fitSubjectList((list) => ({ TYPE, 'RQ#': msg.rq, NAME: msg.name, 'SUBJECT-LIST': list }), msg.subjects);
    }
    case 'PUBLISHED':
    case 'PUBLISH-DENIED': {
      const TYPE = msg.type === 'PUBLISHED' ? 'PUBLISH-SUCCESS' : 'PUBLISH-DENIED';
      const make = (text: string): PickleInput => ({ TYPE, 'RQ#': msg.rq, NAME: msg.name, SUBJECT: msg.subject, TEXT: text });
      return fitText(make, msg.text, TYPE);
    }
    case 'RETRIEVED': return retrieved(msg);
    case 'RETRIEVE-DENIED': return { TYPE: 'RETRIEVE-DENIED', 'RQ#': msg.rq };
    case 'INITIALIZATION-SUCCESS': return { TYPE: 'INITIALIZATION-SUCCESS', 'SERVER-TAG': msg.tag };
    case 'CHANGE-SERVER': return { TYPE: 'CHANGE-SERVER', IP: msg.host, PORT: msg.port };
    case 'UPDATE-SERVER': return { TYPE: 'UPDATE-SERVER', IP: msg.host, PORT: msg.port, 'SERVER-TAG': msg.tag };
    case 'END-CONNECTION-OK':
    case 'WHO-LIST':
    case 'WHO-DENIED':
    case 'STATUS-REPORT':
    case 'DENIED':
    case 'ECHOED': // a canonical text liveness check
    case 'MESSAGE':
    case 'CHALLENGE': // native only: a pickle client cannot answer it
      return undefined;
    default: {
      const unreachable: never = msg;
      return unreachable;
    }
  }
}

function encode(msg: Reply | Push): Buffer[] {
  const dict = pickleDict(msg);
  if (dict === undefined) return [];
  const bytes = writePickle(dict);
  // Guard for any field not fitted above (all bounded by schema.ts): never send what a pickle client would cut.
  if (bytes.length > LIMITS.maxPickleReply) {
    throw new ProtocolError('RSS_TOO_LARGE', `${msg.type} pickles to ${bytes.length} bytes, more than ${LIMITS.maxPickleReply}`);
  }
  return [bytes];
}

/** The longest prefix of texts whose RETRIEVE-SUCCESS fits 1024 bytes; at least 1 when there is a text (see above). */
function fitRetrieved(reply: RetrievedReply): number {
  const n = reply.texts.length;
  let k = 0;
  // Each post costs at least ~50 bytes, so this stops after a few dozen small size computations.
  // Sized with MORE: whether texts remain is known only once the answer is packed.
  while (k < n && fitsReply(retrieveSuccess(reply, reply.texts.slice(0, k + 1), true))) k++;
  return n === 0 ? 0 : Math.max(1, k);
}

/** The pickled-dict dialect. */
export const pickleDialect: Dialect = {
  name: 'pickle',
  decodeRequest,
  encode,
  fitRetrieved,
};
