/**
 * Field specifications of every message type, shared by the decoders of
 * structured dialects (native JSON, pickle dicts): `toMessage`
 * checks each field's kind and bound and builds a typed Message, so no
 * decoder hands the server an unchecked value.
 */
import { ProtocolError } from '../errors';
import { LIMITS } from './limits';
import { SERVER_NAME_RULE, type Message, type MessageType } from './messages';

type FieldKind =
  | 'rq' | 'name' | 'host' | 'port' | 'subject' | 'subjects' | 'text' | 'reason'
  | 'seq' | 'count' | 'tag' | 'texts' | 'users' | 'bool' | 'object' | 'epoch' | 'key' | 'nonce' | 'parts' | 'part' | 'ring';

/** `?` after a kind makes the field optional. */
type Spec = Record<string, `${FieldKind}` | `${FieldKind}?`>;

const MESSAGE_FIELDS: Record<MessageType, Spec> = {
  REGISTER: { rq: 'rq', name: 'name', host: 'host', port: 'port', pub: 'key?' },
  'DE-REGISTER': { rq: 'rq', name: 'name' },
  UPDATE: { rq: 'rq', name: 'name', host: 'host', port: 'port' },
  SUBJECTS: { rq: 'rq', name: 'name', subjects: 'subjects' },
  PUBLISH: { rq: 'rq', name: 'name', subject: 'subject', text: 'text' },
  'RETRIEVE-TEXTS': { rq: 'rq', name: 'name', last: 'count?', before: 'seq?', parts: 'parts?', seen: 'seq?' },
  ACK: { name: 'name', seq: 'seq' },
  INITIALIZATION: {},
  'END-CONNECTION': { rq: 'rq', host: 'host', port: 'port' },
  WHO: { rq: 'rq', name: 'name' },
  STATUS: { rq: 'rq' },
  'CHALLENGE-RESPONSE': { name: 'name', nonce: 'nonce' },
  ECHO: { rq: 'rq', name: 'name', text: 'text' },
  REGISTERED: { rq: 'rq', name: 'name', pub: 'key?', ring: 'ring?' },
  'REGISTER-DENIED': { rq: 'rq', name: 'name', reason: 'reason' },
  'DE-REGISTERED': { rq: 'rq', name: 'name' },
  'DE-REGISTER-DENIED': { rq: 'rq', name: 'name', reason: 'reason' },
  'UPDATE-CONFIRMED': { rq: 'rq', name: 'name', host: 'host', port: 'port' },
  'UPDATE-DENIED': { rq: 'rq', name: 'name', reason: 'reason', host: 'host?', port: 'port?' },
  'SUBJECTS-UPDATED': { rq: 'rq', name: 'name', subjects: 'subjects' },
  'SUBJECTS-REJECTED': { rq: 'rq', name: 'name', subjects: 'subjects', reason: 'reason' },
  PUBLISHED: { rq: 'rq', name: 'name', subject: 'subject', text: 'text', seq: 'seq' },
  'PUBLISH-DENIED': { rq: 'rq', name: 'name', subject: 'subject', text: 'text', reason: 'reason' },
  RETRIEVED: { rq: 'rq', name: 'name', texts: 'texts', more: 'bool', part: 'part?', parts: 'parts?', answer: 'seq?' },
  'RETRIEVE-DENIED': { rq: 'rq', name: 'name', reason: 'reason' },
  'INITIALIZATION-SUCCESS': { tag: 'tag' },
  'END-CONNECTION-OK': { rq: 'rq' },
  'WHO-LIST': { rq: 'rq', name: 'name', users: 'users' },
  'WHO-DENIED': { rq: 'rq', name: 'name', reason: 'reason' },
  'STATUS-REPORT': { rq: 'rq', status: 'object' },
  DENIED: { rq: 'rq', reason: 'reason' },
  ECHOED: { rq: 'rq', name: 'name', text: 'text' },
  MESSAGE: { seq: 'seq', from: 'name', subject: 'subject', text: 'text', at: 'seq', to: 'name?' },
  'CHANGE-SERVER': { host: 'host', port: 'port', tag: 'tag?', epoch: 'epoch?', to: 'name?', ring: 'ring?' },
  'UPDATE-SERVER': { host: 'host', port: 'port', tag: 'tag', to: 'name?', ring: 'ring?' },
  CHALLENGE: { to: 'name', nonce: 'nonce' },
  TAKEOVER: { from: 'tag', epoch: 'epoch', ring: 'ring?' },
  // A store id is a random base64url string, as a nonce is.
  'STORE-CHECK': { from: 'tag', nonce: 'nonce', store: 'nonce' },
  'STORE-CHECK-REPLY': { from: 'tag', nonce: 'nonce', store: 'nonce' },
};

const isKnownType = (t: unknown): t is MessageType =>
  typeof t === 'string' && Object.prototype.hasOwnProperty.call(MESSAGE_FIELDS, t);

function bad(field: string, what: string): never {
  throw new ProtocolError('RSS_MALFORMED', `field ${field}: ${what}`);
}

function boundedString(v: unknown, field: string, max: number, allowEmpty = false): string {
  if (typeof v !== 'string') bad(field, 'expected a string');
  if (!allowEmpty && v.length === 0) bad(field, 'is empty');
  if (Buffer.byteLength(v) > max) throw new ProtocolError('RSS_TOO_LARGE', `field ${field}: longer than ${max} bytes`);
  return v;
}

function uint(v: unknown, field: string, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) bad(field, `expected an integer 0..${max}`);
  return v;
}

/** Syntax only: names and subjects are checked against their rules by the server, so it can deny with a reason. */
function checkField(kind: FieldKind, v: unknown, field: string): unknown {
  switch (kind) {
    case 'rq': return uint(v, field, LIMITS.maxRq);
    case 'seq': case 'epoch': return uint(v, field, Number.MAX_SAFE_INTEGER);
    case 'count': return uint(v, field, LIMITS.maxRetrieveLast);
    case 'parts': {
      if (v === 0) bad(field, 'at least 1');
      return uint(v, field, LIMITS.maxRetrieveParts);
    }
    case 'part': return uint(v, field, LIMITS.maxRetrieveParts - 1);
    case 'port': {
      const p = uint(v, field, 65535);
      if (p === 0) bad(field, 'port 0 is not an address');
      return p;
    }
    case 'name': case 'subject': return boundedString(v, field, 64);
    case 'host': return boundedString(v, field, 255);
    case 'text': return boundedString(v, field, LIMITS.maxTextField, true);
    case 'reason': return boundedString(v, field, 200, true);
    case 'key':
      // An X25519 public key: 32 bytes, base64url without padding.
      if (typeof v !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(v)) bad(field, 'expected a 32-byte base64url key');
      return v;
    case 'nonce':
      if (typeof v !== 'string' || !/^[A-Za-z0-9_-]{16,64}$/.test(v)) bad(field, 'expected a base64url nonce');
      return v;
    case 'tag':
      if (typeof v !== 'string' || !SERVER_NAME_RULE.test(v)) bad(field, 'expected a server name');
      return v;
    case 'ring': {
      if (!Array.isArray(v) || v.length < 1 || v.length > LIMITS.maxRingSize) bad(field, `expected a list of 1..${LIMITS.maxRingSize} servers`);
      return v.map((m, i) => toPlain(m, `${field}[${i}]`, RING_MEMBER_FIELDS));
    }
    case 'bool':
      if (typeof v !== 'boolean') bad(field, 'expected a boolean');
      return v;
    case 'subjects': {
      if (!Array.isArray(v) || v.length > 64) bad(field, 'expected a list of at most 64 subjects');
      return v.map((s, i) => boundedString(s, `${field}[${i}]`, 64));
    }
    case 'texts': {
      if (!Array.isArray(v) || v.length > 1000) bad(field, 'expected a list of texts');
      return v.map((t, i) => toPlain(t, `${field}[${i}]`, TEXT_FIELDS));
    }
    case 'users': {
      if (!Array.isArray(v) || v.length > 10000) bad(field, 'expected a list of users');
      return v.map((u, i) => toPlain(u, `${field}[${i}]`, USER_FIELDS));
    }
    case 'object':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(field, 'expected an object');
      return v;
  }
}

/**
 * A spec's field, ready for checking: its kind, whether it may be absent,
 * and its name in errors when that is the same wherever the spec is used
 * (a message type's; a list element's names its index, so is made then).
 */
interface CompiledField {
  field: string;
  kind: FieldKind;
  optional: boolean;
  label?: string;
}

function compile(spec: Spec, where?: string): CompiledField[] {
  return Object.entries(spec).map(([field, kindSpec]) => {
    const optional = kindSpec.endsWith('?');
    const kind = (optional ? kindSpec.slice(0, -1) : kindSpec) as FieldKind;
    return { field, kind, optional, ...(where !== undefined ? { label: `${where}.${field}` } : {}) };
  });
}

// Every spec compiled once, at load: the message types' and those of the list elements (each text, user, ring member).
const COMPILED = Object.fromEntries(Object.entries(MESSAGE_FIELDS).map(([type, spec]) => [type, compile(spec, type)])) as Record<MessageType, CompiledField[]>;
const TEXT_FIELDS = compile({ seq: 'seq', from: 'name', subject: 'subject', text: 'text', at: 'seq' });
const USER_FIELDS = compile({ name: 'name', online: 'bool' });
const RING_MEMBER_FIELDS = compile({ tag: 'tag', host: 'host', port: 'port' });

/** `obj`'s fields as `fields` say, checked; `where` names it in errors. */
function toPlain(obj: unknown, where: string, fields: CompiledField[], out: Record<string, unknown> = {}): Record<string, unknown> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) bad(where, 'expected an object');
  const src = obj as Record<string, unknown>;
  for (const f of fields) {
    const v = src[f.field];
    const label = f.label ?? `${where}.${f.field}`;
    if (v === undefined || v === null) {
      if (f.optional) continue;
      bad(label, 'is missing');
    }
    out[f.field] = checkField(f.kind, v, label);
  }
  return out;
}

/** Build a typed Message from a decoded object with a `type` field; unknown fields are dropped. */
export function toMessage(obj: Record<string, unknown>): Message {
  const type = obj.type;
  if (!isKnownType(type)) {
    throw new ProtocolError('RSS_UNKNOWN_TYPE', `unknown message type ${JSON.stringify(String(type)).slice(0, 40)}`);
  }
  return toPlain(obj, type, COMPILED[type], { type }) as Message;
}
