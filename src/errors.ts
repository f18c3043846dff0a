/**
 * The one errors module of rss. Every error rss raises on purpose is an
 * RssError with a stable `code`; callers switch on the code, never on the
 * message. ERROR_CODES documents each code (a test checks they are unique and
 * documented).
 */

export const ERROR_CODES = {
  RSS_MALFORMED: 'a datagram or field does not follow the protocol',
  RSS_TOO_LARGE: 'a datagram or field exceeds a wire limit',
  RSS_UNKNOWN_TYPE: 'a message names a type this dialect does not know',
  RSS_INVALID_ARGUMENT: 'an option or argument given by the caller is invalid',
  RSS_TIMEOUT: 'no answer came within the exchange lifetime',
  RSS_DENIED: 'the server refused the request (the reason says why)',
  RSS_NOT_SERVING: 'this server does not hold the serving lease',
  RSS_STORAGE: 'the store failed or could not be reached',
  RSS_FENCED: 'a text number was fenced by a later lease holder: the text can never be stored under it',
  RSS_AUTH: 'a message failed authentication or replay checks',
  RSS_ENGINE_UNAVAILABLE: 'the requested database engine cannot run here',
  RSS_CLOSED: 'the object was used after close()',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base of every error rss raises deliberately. */
export class RssError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** What a codec could read of a request before it found the defect, so the server can send the matching denial. */
export interface PartialRequest {
  type: string;
  rq: number;
  name?: string;
}

/** A datagram did not decode; `code` says how. Thrown only by codecs. */
export class ProtocolError extends RssError {
  constructor(
    code: 'RSS_MALFORMED' | 'RSS_TOO_LARGE' | 'RSS_UNKNOWN_TYPE',
    message: string,
    /** Set when the request type and RQ# were readable. */
    readonly partial?: PartialRequest,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** No answer within the exchange lifetime. Created when the call starts so the stack names the caller. */
export class TimeoutError extends RssError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RSS_TIMEOUT', message, options);
  }
}

/** The server answered with a *-DENIED / *-REJECTED reply. */
export class DeniedError extends RssError {
  constructor(readonly reply: { type: string; reason?: string }) {
    super('RSS_DENIED', reply.reason ?? reply.type);
  }
}

export class InvalidArgumentError extends RssError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RSS_INVALID_ARGUMENT', message, options);
  }
}

export class StorageError extends RssError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RSS_STORAGE', message, options);
  }
}

/**
 * A store call had no answer within its deadline (store/retry.ts): counted
 * as a lost connection, so it is retried; it may still land (in doubt, as
 * any call a connection dropped).
 */
export class StoreStalledError extends StorageError {}

export class NotServingError extends RssError {
  constructor(message = 'this server does not hold the serving lease', options?: { cause?: unknown }) {
    super('RSS_NOT_SERVING', message, options);
  }
}

/** The text's number holds a fence document (a later holder, or this one settling a doubt, closed it): final, not stored. */
export class FencedError extends RssError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RSS_FENCED', message, options);
  }
}

export class AuthError extends RssError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RSS_AUTH', message, options);
  }
}
