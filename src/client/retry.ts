/**
 * The client's retransmission policy: every timing constant of the client in
 * one module, in the style of CoAP's retransmission (RFC 7252) scaled to
 * the network rss targets: a LAN or a loopback, where a round trip takes
 * well under a millisecond and the server's own work (one store write) a
 * few ms.
 *
 * An exchange sends the request, waits ~ACK_TIMEOUT (randomised by
 * ACK_RANDOM_FACTOR so clients that lost the same burst do not retransmit in
 * lockstep), then resends the IDENTICAL bytes, doubling the wait each time up
 * to MAX_WAIT, at most MAX_RETRANSMIT times, and gives up after
 * EXCHANGE_LIFETIME whatever happens. After BOTH_AFTER_SILENT_TRIES
 * unanswered transmissions it sends to both servers: the silent one may have
 * handed over and its CHANGE-SERVER may have been lost.
 */
import { InvalidArgumentError } from '../errors';
import type { RoundTrips } from '../util/round-trips';

/** Base wait for an answer. CoAP uses 2 s for constrained radio links; a LAN answers in < 1 ms and
 * a store write takes a few ms, so 200 ms is ~10x the worst normal case yet short enough for a person at
 * the menu to barely notice one lost datagram. */
export const ACK_TIMEOUT_MS = 200;
/** Each wait is stretched by a random factor in [1, ACK_RANDOM_FACTOR) (RFC 7252 value). */
export const ACK_RANDOM_FACTOR = 1.5;
/** Retransmissions after the first transmission (CoAP uses 4; one more here because a handover
 * costs one or two silent tries before the client turns to both servers). */
export const MAX_RETRANSMIT = 5;
/** Cap on one wait, so a long exchange keeps probing (doubling alone would reach 6.4 s). */
export const MAX_WAIT_MS = 2_000;
/** Hard bound of one call: with the values above the last wait ends at 7.0–8.1 s (before a first wait is
 * measured longer than ACK_TIMEOUT_MS: then this ends the exchange, with fewer retransmissions); this also
 * bounds policies a caller tunes. */
export const EXCHANGE_LIFETIME_MS = 10_000;
/** Unanswered transmissions to the current server before retransmissions go to both servers. */
export const BOTH_AFTER_SILENT_TRIES = 2;
/** A listening client that heard nothing from the servers for this long asks for missed texts
 * (a lost CHANGE-SERVER leaves it talking to a silent server). */
export const LISTEN_SILENCE_MS = 30_000;

/** How long a one-shot command that just pointed a user's address at its own socket waits for the
 * server's CHALLENGE before it exits (it comes right after the reply; the wait only bounds a lost one). */
export const CHALLENGE_WAIT_MS = 1_000;

/**
 * The retransmission settings that make an exchange give up exactly at
 * `deadlineMs` (a command's --timeout): enough retransmissions at the capped
 * wait that the lifetime, not the retransmission count, ends the exchange.
 */
export function policyForDeadline(deadlineMs: number): Pick<RetryPolicy, 'exchangeLifetimeMs' | 'maxRetransmit'> {
  return { exchangeLifetimeMs: deadlineMs, maxRetransmit: Math.max(MAX_RETRANSMIT, Math.ceil(deadlineMs / MAX_WAIT_MS) + 3) };
}

/** The tunable timing of one client (a fresh object per client: no shared mutable state). */
export interface RetryPolicy {
  ackTimeoutMs: number;
  ackRandomFactor: number;
  maxRetransmit: number;
  maxWaitMs: number;
  exchangeLifetimeMs: number;
  bothAfterSilentTries: number;
  listenSilenceMs: number;
}

/** The default policy, as a fresh object. */
export function defaultRetryPolicy(): RetryPolicy {
  return {
    ackTimeoutMs: ACK_TIMEOUT_MS,
    ackRandomFactor: ACK_RANDOM_FACTOR,
    maxRetransmit: MAX_RETRANSMIT,
    maxWaitMs: MAX_WAIT_MS,
    exchangeLifetimeMs: EXCHANGE_LIFETIME_MS,
    bothAfterSilentTries: BOTH_AFTER_SILENT_TRIES,
    listenSilenceMs: LISTEN_SILENCE_MS,
  };
}

/**
 * The wait after transmission `attempt` (0 = the first send) before the next
 * transmission, or before giving up when attempt = maxRetransmit.
 * `first`: the wait after the first transmission before jitter (the
 * policy's ackTimeoutMs, or firstWait of the round trips measured). `random` returns
 * values in [0, 1). Pure.
 */
export function retransmitWait(policy: RetryPolicy, attempt: number, random: () => number, first = policy.ackTimeoutMs): number {
  const base = first * 2 ** Math.max(0, attempt);
  const jitter = 1 + random() * (policy.ackRandomFactor - 1);
  return Math.min(Math.round(base * jitter), policy.maxWaitMs);
}

/**
 * True when transmission `attempt` (0-based), `elapsed` ms after the first,
 * goes to both servers rather than the current one: after
 * bothAfterSilentTries silent tries, or once a retransmission comes as late
 * as that many would with the unmeasured waits (a first wait measured long
 * must not delay finding the other server when this one went silent).
 */
export function sendsToBoth(policy: RetryPolicy, attempt: number, elapsed = 0): boolean {
  const unmeasured = policy.ackTimeoutMs * (2 ** policy.bothAfterSilentTries - 1);
  return attempt >= policy.bothAfterSilentTries || (attempt > 0 && elapsed >= unmeasured);
}

/** Merge caller overrides into the defaults, naming the first bad value. */
export function resolveRetryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const p = { ...defaultRetryPolicy(), ...overrides };
  for (const [key, v] of Object.entries(p)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new InvalidArgumentError(`retry policy: ${key} must be a finite number >= 0`);
    }
  }
  if (p.ackRandomFactor < 1) throw new InvalidArgumentError('retry policy: ackRandomFactor must be >= 1');
  if (p.ackTimeoutMs <= 0) throw new InvalidArgumentError('retry policy: ackTimeoutMs must be > 0');
  return p;
}

/**
 * The first wait of a request after `roundTrips` (util/round-trips.ts):
 * never below ackTimeoutMs, so on a LAN nothing changes; longer when the
 * server answers slowly, so a loaded server is not sent copies of
 * requests it is still working on, each of which would be more work for
 * it (with a fixed first wait, a server that fell 200 ms behind got a copy
 * of every request and could not catch up); at most what leaves the
 * jitter room under maxWaitMs, so clients of one slow server still spread
 * their retransmissions.
 */
export function firstWait(roundTrips: RoundTrips, policy: RetryPolicy): number {
  return roundTrips.wait(policy.ackTimeoutMs, Math.max(policy.ackTimeoutMs, policy.maxWaitMs / policy.ackRandomFactor));
}
