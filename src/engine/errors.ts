/**
 * The engine's errors. Command errors carry MongoDB's numeric `code` and
 * `codeName`, so the driver raises the same MongoServerError a real mongod
 * would produce; failures of the engine's own files (lock, journal) are
 * EngineStorageError. The engine is standalone: it defines its own errors
 * and imports none from the application.
 */

/** MongoDB error codes used by the engine (values from mongod's error_codes.yml). */
export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  NotImplemented: 238,
  CannotIndexParallelArrays: 171,
  Location31254: 31254,
  Location17419: 17419,
  InvalidIdField: 53,
  DuplicateKey: 11000,
  Location15974: 15974,
  UnknownPipelineStage: 40324,
  ProtocolError: 17,
} as const;

/** A MongoDB error name (key of {@link ErrorCodes}). */
export type CodeName = keyof typeof ErrorCodes;

/** An error reported to the client as `{ok: 0, errmsg, code, codeName}`. */
export class EngineError extends Error {
  readonly code: number;
  readonly codeName: string;
  /** Extra fields copied into the error reply (e.g. `keyPattern`, `keyValue`). */
  readonly extra: Record<string, unknown>;

  constructor(codeName: CodeName, message: string, extra: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.code = ErrorCodes[codeName];
    this.codeName = codeName;
    this.extra = extra;
  }
}

/** Converts anything thrown while serving a command into an EngineError. */
export function toEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  // mingo reports unknown operators with plain Errors; map them to MongoDB's codes.
  if (/unknown query operator|unregistered .*operator|unknown .*operator/i.test(msg)) {
    return new EngineError('BadValue', msg, {}, { cause: err });
  }
  return new EngineError('InternalError', msg, {}, { cause: err });
}

/** Stable codes of {@link EngineStorageError}: callers switch on these, never on the message. */
export type EngineStorageCode =
  /** A data directory, journal write or fsync failed; the journal must be reopened. */
  | 'ENGINE_STORAGE'
  /** The journal was used after close(). */
  | 'ENGINE_CLOSED';

/** The engine's own files failed (data directory lock, journal) or were used after close; never sent to a client as such. */
export class EngineStorageError extends Error {
  constructor(
    readonly code: EngineStorageCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EngineStorageError';
  }
}
