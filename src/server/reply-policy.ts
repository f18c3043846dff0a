/**
 * How each request type's answer is kept, so that a retransmission is
 * answered again and never executed twice: one row per request type.
 *
 * - `answered`: the request carries an RQ# and gets an answer; a
 *   retransmission is looked up in the reply cache. (ACK and
 *   CHALLENGE-RESPONSE are never answered, so never looked up.)
 * - `store`: 'before-reply' for a state change: the answer is stored
 *   (`requests`, so a retransmission at the other server finds it and does
 *   not run the change again) before it is sent, and cached once stored;
 *   'never' for what changes nothing, or is idempotent by construction.
 * - `recordsItself`: the handler records its answer (ctx.remember: cached
 *   at once, stored right after it is sent and before any later step).
 * - `memory`: an answer not stored is kept in memory only: 'always';
 *   'sealed' when it is MACed with a user's key (an authenticated
 *   retransmission must find its answer: its ctr is no longer fresh); or
 *   'sealed-or-legacy' (also in the legacy dialects).
 * - `brief`: kept in memory only PUBLISH_ANSWER_MEMORY_MS (limits.ts), in a
 *   cache of its own, unless it is a denial: a later copy is answered by
 *   what the request stored (the text, found by its request key).
 *
 * An answer sent elsewhere than the request's source is never stored: a
 * retransmission must not bring it to the source.
 */
import type { DialectName } from '../protocol/messages';
import type { HandledRequest, HandledType } from './handlers';

export type StoreRule = 'before-reply' | 'never';
export type MemoryRule = 'always' | 'sealed' | 'sealed-or-legacy';

export interface ReplyPolicy<T extends HandledType> {
  readonly answered: boolean;
  readonly store: StoreRule | ((req: Extract<HandledRequest, { type: T }>) => StoreRule);
  readonly recordsItself?: true;
  readonly memory: MemoryRule;
  readonly brief?: true;
}

/** A state change: stored before it is answered. */
const STATE_CHANGE = { answered: true, store: 'before-reply', memory: 'sealed' } as const;
/** Changes nothing: kept in memory only, when sealed. */
const READ_ONLY = { answered: true, store: 'never', memory: 'sealed' } as const;
/** Carries no RQ#: never answered, never looked up. */
const UNANSWERED = { answered: false, store: 'never', memory: 'sealed' } as const;

export const REPLY_POLICIES: { readonly [T in HandledType]: ReplyPolicy<T> } = {
  REGISTER: STATE_CHANGE,
  'DE-REGISTER': STATE_CHANGE,
  UPDATE: STATE_CHANGE,
  SUBJECTS: STATE_CHANGE,
  // Idempotent by its stored text (found again by its request key): kept in memory only, always, and briefly.
  PUBLISH: { answered: true, store: 'never', memory: 'always', brief: true },
  // The unreceived texts: recorded by the handler (they count as received only once the answer is stored); a
  // denial is stored before it is sent; the N most recent (`last`) change nothing. A legacy RETRIEVE-TEXTS N sent
  // again is answered from memory, within the budget, not read and sent again.
  'RETRIEVE-TEXTS': {
    answered: true,
    store: (req) => (req.last === undefined ? 'before-reply' : 'never'),
    recordsItself: true,
    memory: 'sealed-or-legacy',
  },
  ACK: UNANSWERED,
  INITIALIZATION: READ_ONLY,
  'END-CONNECTION': READ_ONLY,
  WHO: READ_ONLY,
  'CHALLENGE-RESPONSE': UNANSWERED,
  ECHO: READ_ONLY,
};

export function policyOf<T extends HandledType>(type: T): ReplyPolicy<T> {
  return REPLY_POLICIES[type];
}

/** Where an executed request's answer goes. */
export type Keeping =
  /** The handler recorded it (ctx.remember): nothing more to do. */
  | 'recorded'
  /** Stored, then cached, then sent. */
  | 'stored'
  /** Cached in memory only. */
  | 'memory'
  /** Not kept: a retransmission is executed again. */
  | 'none';

/** The circumstances of one answer that decide how it is kept. */
export interface AnswerFacts {
  /** How many replies the handler returned. */
  readonly replies: number;
  readonly dialect: DialectName;
  /** MACed with a user's key (ctx.macKey). */
  readonly sealed: boolean;
  /** Sent elsewhere than the request's source (ctx.replyTo). */
  readonly elsewhere: boolean;
  /** The handler recorded it already (ctx.remember). */
  readonly recordedByHandler: boolean;
}

/** How the answer to `req` is kept, by its type's policy. */
export function keepingOf(req: HandledRequest, facts: AnswerFacts): Keeping {
  if (facts.recordedByHandler) return 'recorded';
  if (facts.replies === 0) return 'none';
  const policy = policyOf(req.type) as ReplyPolicy<HandledType>;
  const store = typeof policy.store === 'function' ? policy.store(req as never) : policy.store;
  if (store === 'before-reply' && !facts.elsewhere) return 'stored';
  const memory = policy.memory === 'always' || facts.sealed || (policy.memory === 'sealed-or-legacy' && facts.dialect !== 'native');
  return memory ? 'memory' : 'none';
}
