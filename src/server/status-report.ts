/**
 * The status report (STATUS, `rss status`, /metrics, the dashboard): one
 * server's role, period, rates, users, counters and failures, read from its
 * parts. `statusOf` reads memory only; `statusReportOf` adds what only the
 * store knows, without waiting long for it.
 */
import type { RingMember, ServerTag } from '../protocol/messages';
import type { StorePort } from './store-port';
import { formatAddress, type Address } from '../transport/types';
import { within, type Clock } from '../util/clock';
import type { ServerCounters } from './context';
import type { Cursors } from './cursors';
import type { Delivery } from './delivery';
import type { Directory } from './directory';
import type { Faults } from './faults';
import type { Guard } from './guard';
import type { LegacyContacts } from './legacy-contacts';
import type { Presence } from './presence';
import type { RateSampler } from './rates';
import type { ReplyCache } from './reply-cache';
import type { Role } from './role';
import type { Succession } from './ring';
import { mismatchText, type StoreMismatch } from './store-check';
import type { Telemetry } from './telemetry';

/** How long the report waits for the store's counts before answering without them. */
export const STATUS_STORE_WAIT_MS = 500;

/** What a report is read from: the server's parts, as they are at that moment. */
export interface StatusSources {
  readonly tag: ServerTag;
  /** Serving and allowed to act right now. */
  readonly serving: boolean;
  readonly clock: Clock;
  readonly role: Role;
  /** When the current serving period ends (server clock), while serving. */
  readonly periodEndsAt: number | undefined;
  readonly rates: RateSampler;
  /** The other server names another store (this one refuses to serve). */
  readonly storeMismatch: StoreMismatch | undefined;
  /** What the report names as the store (hosts and database, never credentials). */
  readonly storeLabel: string | undefined;
  readonly address: Address;
  readonly ring: readonly RingMember[] | undefined;
  readonly succession: Succession;
  readonly peer: Address;
  readonly directory: Directory;
  /** WHO's online flag for a user. */
  online(name: string): boolean;
  readonly telemetry: Telemetry;
  readonly faults: Faults;
  /** When the process started this server (wall clock, ms). */
  readonly startedAt: number;
  readonly guard: Guard;
  readonly counters: ServerCounters;
  readonly delivery: Delivery;
  readonly cursors: Cursors;
  readonly replies: ReplyCache;
  readonly briefReplies: ReplyCache;
  readonly presence: Presence;
  readonly contacts: LegacyContacts;
  readonly store: Pick<StorePort, 'retries' | 'countTexts' | 'countUsers'>;
}

/** The report from memory alone (answers at once, whatever the store does). */
export function statusOf(s: StatusSources): Record<string, unknown> {
  const now = s.clock.now();
  const left = s.serving
    ? s.periodEndsAt === undefined ? undefined : Math.max(0, s.periodEndsAt - now)
    : s.role.leaseTimeLeft();
  const rates = s.rates.perSecond();
  return {
    tag: s.tag,
    role: s.serving ? 'serving' : s.storeMismatch ? 'refusing' : 'standby',
    ...(s.storeMismatch ? { refusing: mismatchText(s.storeMismatch, s.storeLabel) } : {}),
    epoch: s.serving ? s.role.epoch : Math.max(s.role.epoch, s.role.lastSeenEpoch),
    ...(left !== undefined ? { timeLeftMs: Math.round(left), timeLeftOf: s.serving ? 'period' : 'lease' } : {}),
    requestsPerSecond: rates.requests,
    pushesPerSecond: rates.pushes,
    ...(s.storeLabel ? { store: s.storeLabel } : {}),
    address: formatAddress(s.address),
    ...(s.ring
      ? { ring: s.ring.map((m) => m.tag).join(' '), live: [s.tag, ...s.succession.liveOthers()].join(' ') }
      : { peer: formatAddress(s.peer) }),
    users: s.directory.size,
    usersOnline: usersOnline(s),
    handoffs: s.telemetry.handoffs,
    failovers: s.telemetry.takeovers.failover,
    // How long the latest handoff and takeover took (ms; each step in the log line and /metrics): the pause users saw.
    ...(s.telemetry.lastHandoff ? { lastHandoffMs: s.telemetry.lastHandoff.totalMs } : {}),
    ...(s.telemetry.lastTakeover ? { lastTakeoverMs: s.telemetry.lastTakeover.totalMs } : {}),
    storeErrors: caughtFailures(s.faults),
    uptimeSeconds: Math.round((Date.now() - s.startedAt) / 1000),
    requireAuth: s.guard.opts.requireAuth,
    ...s.counters,
    ...s.delivery.stats,
    ...s.cursors.stats,
    ...s.guard.counters,
    ...s.guard.sendBudgets.stats,
    tracked: { ...s.guard.sizes(), replyCache: s.replies.size + s.briefReplies.size, presence: s.presence.size, legacyContacts: s.contacts.size },
    // Failures caught, by where they happened, and store calls retried after a transient error.
    errors: s.faults.snapshot(),
    storeRetries: s.store.retries,
  };
}

/**
 * statusOf plus what needs the store: texts stored, and users registered
 * (what the store holds, so the standby reports the same figure as the
 * serving server). A store that fails, or takes longer than
 * STATUS_STORE_WAIT_MS (it is away: an operator asking gets the rest at
 * once), leaves those out (the serving server still reports the users it
 * has loaded).
 */
export async function statusReportOf(s: StatusSources): Promise<Record<string, unknown>> {
  const report = statusOf(s);
  // Each started inside a promise: a store that throws at once still yields a report.
  const counted = (count: () => Promise<number>, what: string) =>
    Promise.resolve().then(count).catch((err: unknown) => {
      s.faults.report('status', err, { counting: what });
      return undefined;
    });
  // One that comes too late is left out, not counted as a failure (the store is slow, an operator is waiting).
  const soon = (count: () => Promise<number>, what: string) =>
    within(s.clock, STATUS_STORE_WAIT_MS, counted(count, what), () => new Error(`counting ${what} took over ${STATUS_STORE_WAIT_MS} ms`)).catch(() => undefined);
  const [texts, users] = await Promise.all([soon(() => s.store.countTexts(), 'texts'), soon(() => s.store.countUsers(), 'users')]);
  if (texts !== undefined) report.texts = texts;
  if (users !== undefined) report.users = users;
  else if (!s.serving) delete report.users;
  return report;
}

/** Users the serving server has heard from within the presence window. */
function usersOnline(s: StatusSources): number {
  if (!s.serving) return 0;
  let online = 0;
  for (const user of s.directory.all()) if (s.online(user._id)) online++;
  return online;
}

/** Failures caught (mostly of the store: lease checks, requests, takeovers, handoffs), from the one error channel. */
function caughtFailures(faults: Faults): number {
  return Object.values(faults.counts).reduce((sum, n) => sum + (n ?? 0), 0);
}
