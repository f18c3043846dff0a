/**
 * Bounded retry of store calls on transient errors: the connection was
 * refused, reset or timed out, or a replica set was electing a primary.
 * Anything else (a duplicate key, a bad query, a fenced lease) is a real
 * answer and is never retried. Callers retry only operations that are
 * idempotent, or made so (see Store).
 */
import { MongoError, MongoNetworkError, MongoServerSelectionError } from 'mongodb';
import { StoreStalledError } from '../errors';
import { systemClock, within } from '../util/clock';

export interface RetryPolicy {
  /** Attempts in all (the first one included). */
  attempts: number;
  /** Wait before the first retry, ms; doubled each time, with jitter. */
  firstWait: number;
  /** Longest wait between two attempts, ms. */
  maxWait: number;
  /** Longest one attempt may take before it counts as a lost connection, ms (default ATTEMPT_DEADLINE_MS). */
  attemptDeadline?: number;
}

/**
 * Longest one attempt of a store call may take. A backstop: the driver's
 * own timeouts fail a silent connection within seconds, yet an update
 * through a store that kept dropping its connections once went unanswered
 * for minutes, and the handoff waiting for it held the pair: nobody served.
 * Short enough that a stall under a takeover or a handoff still lets the
 * pair serve again within seconds of the store's return (with 12 s, one
 * chaos run in 40 served again only after 10.7 s); rss's calls are all
 * short, so what is cut is a try the driver would fail anyway (a silent
 * socket after 5 s, behind a server selection or a connect of up to 2 s),
 * or a try it retries on its own. A call cut short is not cancelled: like
 * one whose connection dropped, it is in doubt and may still land, after
 * the retry. Every call retried here is idempotent or made so; a `$set`
 * landing late could undo a later one, which needs a call stalled that
 * long to come back (those seen never did).
 */
export const ATTEMPT_DEADLINE_MS = 6000;

/** About a second of waits between the attempts in all: short enough that a request's client is still retransmitting (each attempt bounded by ATTEMPT_DEADLINE_MS). */
export function defaultRetryPolicy(): RetryPolicy {
  return { attempts: 4, firstWait: 50, maxWait: 400 };
}

/** Socket error codes of a connection lost under a request (the driver sometimes passes them on unwrapped). */
const SOCKET_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

/** MongoDB server codes that mean "try again": elections, stepdowns, shutdowns, exceeded time. */
const RETRYABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
  50, // MaxTimeMSExpired
]);

/** True when `err` says the store could not be reached or could not answer just now (worth another try). */
export function isTransient(err: unknown): boolean {
  if (err instanceof StoreStalledError) return true;
  if (err instanceof MongoNetworkError || err instanceof MongoServerSelectionError) return true;
  if (err instanceof MongoError) {
    if (err.hasErrorLabel('RetryableWriteError') || err.hasErrorLabel('TransientTransactionError')) return true;
    if (typeof err.code === 'number' && RETRYABLE_CODES.has(err.code)) return true;
    // A cleared connection pool and the driver's timeouts surface under these names.
    return /PoolCleared|Timeout|NetworkTimeout/.test(err.name);
  }
  // A socket error the driver passed on unwrapped (seen as a bare `write ECONNRESET`): the connection, not the request.
  if (SOCKET_ERRORS.has((err as NodeJS.ErrnoException | undefined)?.code ?? '')) return true;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return cause !== undefined && cause !== err && isTransient(cause);
}

/**
 * Run `op` until it succeeds, fails with a non-transient error, or the
 * attempts are spent (then its last error is thrown). `onRetry` is told of
 * each retry (for counting).
 */
export async function withRetry<T>(op: () => Promise<T>, policy: RetryPolicy, onRetry?: (err: unknown, attempt: number) => void): Promise<T> {
  let wait = policy.firstWait;
  const deadline = policy.attemptDeadline ?? ATTEMPT_DEADLINE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await within(systemClock, deadline, op(), () => new StoreStalledError(`a store call had no answer within ${deadline} ms`));
    } catch (err) {
      if (attempt >= policy.attempts || !isTransient(err)) throw err;
      onRetry?.(err, attempt);
      // Full jitter: two servers retrying after one outage do not hit the store in step.
      await new Promise((r) => setTimeout(r, wait / 2 + Math.random() * (wait / 2)));
      wait = Math.min(wait * 2, policy.maxWait);
    }
  }
}
