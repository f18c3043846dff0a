/**
 * The messages of rss, independent of any dialect. Every codec (canonical
 * text, pickle, native) decodes to and encodes from these types, and
 * the server core speaks only these. A `const` table of type names keeps the
 * unions and the dispatch tables in step.
 */

/** Which wire dialect a peer speaks; every answer goes out in the dialect of the request. */
export type DialectName = 'text' | 'pickle' | 'native';

/**
 * A server's name: "A" or "B" in a pair, any short name (A, B, C, ... in the
 * demo) in a ring (see SERVER_NAME_RULE).
 */
export type ServerTag = string;

/** Letters, digits, '-' and '_', starting with a letter, at most 16 characters. */
export const SERVER_NAME_RULE = /^[A-Za-z][A-Za-z0-9_-]{0,15}$/;

/** The name of the server at `index` (0, 1, ...) of a list given in order: A, B, C, ... */
export const positionTag = (index: number): ServerTag => String.fromCharCode(65 + index);

/** One server of a ring, as the ring list names it (in ring order). */
export interface RingMember {
  tag: ServerTag;
  host: string;
  port: number;
}

/** A text as stored: `seq` is its place in the one total order of all texts. */
export interface StoredText {
  seq: number;
  from: string;
  subject: string;
  text: string;
  /** Publication time, ms since the epoch. */
  at: number;
}

const REQUEST_TYPES = [
  'REGISTER', 'DE-REGISTER', 'UPDATE', 'SUBJECTS', 'PUBLISH', 'RETRIEVE-TEXTS',
  'ACK', 'INITIALIZATION', 'END-CONNECTION', 'WHO', 'STATUS', 'CHALLENGE-RESPONSE', 'ECHO',
] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

/** user → server. `rq` is the client's request number (RQ#). */
export type Request =
  /** `pub` (native): the client's X25519 public key (base64url) for the user key agreement. */
  | { type: 'REGISTER'; rq: number; name: string; host: string; port: number; pub?: string }
  | { type: 'DE-REGISTER'; rq: number; name: string }
  | { type: 'UPDATE'; rq: number; name: string; host: string; port: number }
  | { type: 'SUBJECTS'; rq: number; name: string; subjects: string[] }
  | { type: 'PUBLISH'; rq: number; name: string; subject: string; text: string }
  /** `last`: the N most recent texts on the user's subjects, seen or not. */
  /** `parts` (native): how many RETRIEVED datagrams the client takes as one answer (default 1). */
  /**
   * `seen` (native): the highest seq the client has shown the user. It says
   * those texts are received, and the answer then marks nothing received
   * itself: the next request (asked until an answer is empty) says what
   * was shown of it, so an answer lost, or answered twice by two servers,
   * loses no text.
   */
  | { type: 'RETRIEVE-TEXTS'; rq: number; name: string; last?: number; before?: number; parts?: number; seen?: number }
  /** native: the client has shown the pushed text `seq`. */
  | { type: 'ACK'; name: string; seq: number }
  /** pickle: "which server serves?" — only the serving server answers. */
  | { type: 'INITIALIZATION' }
  /** pickle: the client is quitting. */
  | { type: 'END-CONNECTION'; rq: number; host: string; port: number }
  /** native: registered users sharing a subject with `name`, with online flags. */
  | { type: 'WHO'; rq: number; name: string }
  /** operators: counters of one server. */
  | { type: 'STATUS'; rq: number }
  /** native: proof, sent from the user's new address and MACed with its key, that the address receives (answers CHALLENGE). */
  | { type: 'CHALLENGE-RESPONSE'; name: string; nonce: string }
  /** canonical text: a liveness check; the serving server answers with the same line. */
  | { type: 'ECHO'; rq: number; name: string; text: string };

const REPLY_TYPES = [
  'REGISTERED', 'REGISTER-DENIED', 'DE-REGISTERED', 'DE-REGISTER-DENIED',
  'UPDATE-CONFIRMED', 'UPDATE-DENIED', 'SUBJECTS-UPDATED', 'SUBJECTS-REJECTED',
  'PUBLISHED', 'PUBLISH-DENIED', 'RETRIEVED', 'RETRIEVE-DENIED',
  'INITIALIZATION-SUCCESS', 'END-CONNECTION-OK', 'WHO-LIST', 'WHO-DENIED', 'STATUS-REPORT', 'DENIED', 'ECHOED',
] as const;
export type ReplyType = (typeof REPLY_TYPES)[number];

/** A user as another user may see it: name and online flag, never its address. */
export interface UserPresence {
  name: string;
  online: boolean;
}

/** server → user, answering the request with the same `rq`. */
export type Reply =
  /** `pub` (native, new name): the server's ephemeral X25519 public key; the reply is MACed with the derived user key. */
  /** `ring` (native, ring of servers only): every server of the ring, in order. */
  | { type: 'REGISTERED'; rq: number; name: string; pub?: string; ring?: RingMember[] }
  | { type: 'REGISTER-DENIED'; rq: number; name: string; reason: string }
  | { type: 'DE-REGISTERED'; rq: number; name: string }
  | { type: 'DE-REGISTER-DENIED'; rq: number; name: string; reason: string }
  | { type: 'UPDATE-CONFIRMED'; rq: number; name: string; host: string; port: number }
  | { type: 'UPDATE-DENIED'; rq: number; name: string; reason: string; host?: string; port?: number }
  | { type: 'SUBJECTS-UPDATED'; rq: number; name: string; subjects: string[] }
  | { type: 'SUBJECTS-REJECTED'; rq: number; name: string; subjects: string[]; reason: string }
  | { type: 'PUBLISHED'; rq: number; name: string; subject: string; text: string; seq: number }
  | { type: 'PUBLISH-DENIED'; rq: number; name: string; subject: string; text: string; reason: string }
  /** `more`: further unseen texts remain (a reply that would not fit carries what fits). */
  /**
   * An answer in several datagrams (native, when asked for) numbers them:
   * `part` of `parts`, texts in part order, all with the same `answer` (an
   * id of that execution: parts of two executions are never mixed).
   */
  | { type: 'RETRIEVED'; rq: number; name: string; texts: StoredText[]; more: boolean; part?: number; parts?: number; answer?: number }
  | { type: 'RETRIEVE-DENIED'; rq: number; name: string; reason: string }
  | { type: 'INITIALIZATION-SUCCESS'; tag: ServerTag }
  | { type: 'END-CONNECTION-OK'; rq: number }
  | { type: 'WHO-LIST'; rq: number; name: string; users: UserPresence[] }
  | { type: 'WHO-DENIED'; rq: number; name: string; reason: string }
  | { type: 'STATUS-REPORT'; rq: number; status: Record<string, unknown> }
  /** A request that could be read far enough to answer but not executed (bad field, rate limit). */
  | { type: 'DENIED'; rq: number; reason: string }
  /** The answer to ECHO: its fields as they came (canonical text writes it as the same ECHO line). */
  | { type: 'ECHOED'; rq: number; name: string; text: string };

/** server → user, unsolicited. */
export type Push =
  /** A text on one of the user's subjects. `seq` lets the native client order and acknowledge it; `to` names the recipient (native). */
  | { type: 'MESSAGE'; seq: number; from: string; subject: string; text: string; at: number; to?: string }
  /**
   * Talk to this server from now on. `epoch` orders changes, `to` names the
   * user whose key MACs it (native only); `ring` (native, ring of servers
   * only) lists every server of the ring in order.
   */
  | { type: 'CHANGE-SERVER'; host: string; port: number; tag?: ServerTag; epoch?: number; to?: string; ring?: RingMember[] }
  /** The address of server `tag` changed; `ring` (native only): the whole ring, in order. */
  | { type: 'UPDATE-SERVER'; host: string; port: number; tag: ServerTag; to?: string; ring?: RingMember[] }
  /**
   * native: "prove you receive datagrams here" — the only thing a new user
   * address gets until the client answers CHALLENGE-RESPONSE from it.
   */
  | { type: 'CHALLENGE'; to: string; nonce: string };

/** server → server (native dialect only). */
export type PeerMessage =
  /** "Serve from now on": sent by the server handing over, after it wrote the new lease. */
  /** `ring` (a ring of servers only): the sender's ring, so a server configured with another one is noticed. */
  | { type: 'TAKEOVER'; from: ServerTag; epoch: number; ring?: RingMember[] }
  /**
   * "Which store do you use?": sent to the configured peer address with a
   * fresh nonce; the answer echoes the nonce (so only whoever receives at
   * that address can answer) and names the answering server's store.
   */
  | { type: 'STORE-CHECK'; from: ServerTag; nonce: string; store: string }
  | { type: 'STORE-CHECK-REPLY'; from: ServerTag; nonce: string; store: string };

/** Everything that travels between rss peers. */
export type Message = Request | Reply | Push | PeerMessage;
export type MessageType = Message['type'];

/** Narrow a union member by its type name. */
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

const DENIAL_TYPES: ReadonlySet<string> = new Set([
  'REGISTER-DENIED', 'DE-REGISTER-DENIED', 'UPDATE-DENIED', 'SUBJECTS-REJECTED',
  'PUBLISH-DENIED', 'RETRIEVE-DENIED', 'WHO-DENIED', 'DENIED',
]);

/** True for the replies that refuse their request. */
export function isDenial(reply: Reply): boolean {
  return DENIAL_TYPES.has(reply.type);
}

/** The denial that answers a request of `type` (the catalog names one per request). */
export function denialFor(type: string, rq: number, name: string, reason: string): Reply {
  switch (type) {
    case 'REGISTER': return { type: 'REGISTER-DENIED', rq, name, reason };
    case 'DE-REGISTER': return { type: 'DE-REGISTER-DENIED', rq, name, reason };
    case 'UPDATE': return { type: 'UPDATE-DENIED', rq, name, reason };
    case 'SUBJECTS': return { type: 'SUBJECTS-REJECTED', rq, name, subjects: [], reason };
    case 'PUBLISH': return { type: 'PUBLISH-DENIED', rq, name, subject: '', text: '', reason };
    case 'RETRIEVE-TEXTS': return { type: 'RETRIEVE-DENIED', rq, name, reason };
    case 'WHO': return { type: 'WHO-DENIED', rq, name, reason };
    default: return { type: 'DENIED', rq, reason };
  }
}

export type RetrievedReply = MessageOf<'RETRIEVED'>;

/** Reasons of the security denials, shared by server and client (the client re-sends on STALE_COUNTER). */
export const DENIAL_REASONS = {
  auth: 'authentication failed',
  staleCounter: 'stale counter',
  rateLimit: 'rate limit exceeded',
  requireAuth: 'this server accepts only authenticated (native rss client) users',
  needKey: 'a native REGISTER must carry a public key',
  tooLarge: 'text too long',
  full: 'too many users',
  crowdedAddress: 'too many users at this address',
} as const;
