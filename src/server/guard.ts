/**
 * The security state of one server: who a native request comes from (MAC
 * with the user's key, replay window), rate limits per source and per user,
 * anti-amplification per address, the user keys (wrapped at rest), and the
 * peer key that authenticates server-to-server messages. Every map here is
 * keyed by something a sender chose, so every one is bounded.
 */
import { randomBytes } from 'node:crypto';
import { deriveServerKey, unwrapUserKey, wrapUserKey } from '../protocol/auth';
import type { Message } from '../protocol/messages';
import { verifyNativeMac, type NativeEnvelope, type NativeFrame } from '../protocol/native';
import type { UserDoc } from '../store/documents';
import { addressKey, normalHost, type Address } from '../transport/types';
import { BoundedMap } from './bounded-map';
import { SendBudgets, defaultAllowance, defaultHostAllowance, type Allowance } from './send-budgets';
import { checkPeerFrame, peerKeyOf } from './peer-key';
import { TokenBuckets, type RateLimit } from './rate-limit';
import { ReplayWindow } from './replay';

export interface SecurityOptions {
  /** Shared by A and B; authenticates TAKEOVER and wraps user keys. Default: a random one kept in the store. */
  peerSecret?: string;
  /** Refuse legacy (canonical text, pickle) registrations. */
  requireAuth: boolean;
  /** Requests per source address (host:port). */
  sourceRate: RateLimit;
  /** Authenticated requests per user (only a request MACed with the user's key is charged to it). */
  userRate: RateLimit;
  /** Unauthenticated requests (legacy dialects, native without a MAC), all sources together. */
  unauthRate: RateLimit;
  /** Unauthenticated requests per source prefix (/24 IPv4, /64 IPv6): what one network may take of `unauthRate`. */
  unauthPrefixRate: RateLimit;
  /** What an unproven address may be sent besides 3 × what it sent (send-budgets.ts). */
  allowance: Allowance;
  /** What all the ports of one host share of their allowances (send-budgets.ts). */
  hostAllowance: Allowance;
  /** Entries of each per-address and per-user map. */
  maxTracked: number;
}

export function defaultSecurityOptions(): SecurityOptions {
  return {
    requireAuth: false,
    sourceRate: { burst: 200, perSecond: 100 },
    userRate: { burst: 200, perSecond: 100 },
    // The server answers several thousand requests/s (docs/BENCHMARKS.md); one prefix may take an eighth of that.
    unauthRate: { burst: 8000, perSecond: 4000 },
    unauthPrefixRate: { burst: 1000, perSecond: 500 },
    allowance: defaultAllowance(),
    hostAllowance: defaultHostAllowance(),
    maxTracked: 20_000,
  };
}

export interface SecurityCounters {
  authFailed: number;
  replays: number;
  staleCounters: number;
  rateLimited: number;
  forgedPeer: number;
  challenges: number;
  validations: number;
}

/** The outcome of checking a native request's MAC and counter. */
export type AuthResult =
  | { ok: true; authed?: string; key?: Buffer }
  | { ok: false; why: 'auth' | 'replay' | 'stale' };

/** The peer secret source when none is configured (Store.peerSecret). */
export interface PeerSecretSource {
  peerSecret(): Promise<string>;
}

export class Guard {
  readonly sendBudgets: SendBudgets;
  readonly counters: SecurityCounters = { authFailed: 0, replays: 0, staleCounters: 0, rateLimited: 0, forgedPeer: 0, challenges: 0, validations: 0 };
  private readonly sources: TokenBuckets;
  private readonly users: TokenBuckets;
  private readonly unauthenticated: TokenBuckets;
  private readonly unauthenticatedPrefixes: TokenBuckets;
  private readonly windows: BoundedMap<string, ReplayWindow>;
  private readonly keys: BoundedMap<string, Buffer>;
  /** When each user was last sent a CHALLENGE, and where (resends to one address are throttled). */
  readonly challenged: BoundedMap<string, { at: number; to: string }>;
  private wrapKey: Buffer | undefined;
  private peerKey: Buffer | undefined;
  /** The last counter accepted from each server (a pair has one peer, a ring several). */
  private readonly lastPeerCtr = new Map<string, number>();
  private lastOwnCtr = 0;
  /** The peer secret's loading (configured, or read from the store); undefined after a failure, to try again. */
  private secretLoad: Promise<void> | undefined;

  constructor(
    readonly opts: SecurityOptions,
    private readonly secrets: PeerSecretSource,
    private readonly now: () => number = Date.now,
  ) {
    this.sendBudgets = new SendBudgets(opts.maxTracked, opts.allowance, now, opts.hostAllowance);
    this.sources = new TokenBuckets(opts.sourceRate, opts.maxTracked, now);
    this.users = new TokenBuckets(opts.userRate, opts.maxTracked, now);
    this.unauthenticated = new TokenBuckets(opts.unauthRate, 1, now);
    this.unauthenticatedPrefixes = new TokenBuckets(opts.unauthPrefixRate, opts.maxTracked, now);
    this.windows = new BoundedMap(opts.maxTracked);
    this.keys = new BoundedMap(opts.maxTracked);
    this.challenged = new BoundedMap(opts.maxTracked);
    // Loaded early; a failure (store down at start) is reported by the takeover that awaits `ready`.
    this.ready.catch(() => {});
  }

  /** Resolves once the peer secret is known; a failed load (the store was down) is tried again by the next caller. */
  get ready(): Promise<void> {
    this.secretLoad ??= (this.opts.peerSecret !== undefined ? Promise.resolve(this.opts.peerSecret) : this.secrets.peerSecret()).then(
      (secret) => {
        this.wrapKey = deriveServerKey(secret, 'rss key wrap');
        this.peerKey = peerKeyOf(secret);
      },
      (err: unknown) => {
        this.secretLoad = undefined;
        throw err;
      },
    );
    return this.secretLoad;
  }

  /** Sizes of every bounded map, for the status report and the fuzz test. */
  sizes(): Record<string, number> {
    return {
      sendBudgets: this.sendBudgets.size, sourceBuckets: this.sources.size, prefixBuckets: this.unauthenticatedPrefixes.size, userBuckets: this.users.size,
      replayWindows: this.windows.size, keyCache: this.keys.size, challenged: this.challenged.size,
    };
  }

  /** One request from `from`; false when the source is over its rate limit. */
  sourceAllowed(from: Address): boolean {
    if (this.sources.take(addressKey(from))) return true;
    this.counters.rateLimited++;
    return false;
  }

  /**
   * One request from `from` that proves no user (legacy, or native without a
   * MAC): a flood of forgeries naming someone drains these buckets, not
   * theirs. Its source prefix is charged first, and only what that allows
   * reaches the global bucket: a flood from a few prefixes is refused there
   * and leaves the global budget to everyone else.
   */
  unauthenticatedAllowed(from: Address): boolean {
    if (this.unauthenticatedPrefixes.take(sourcePrefix(from.host)) && this.unauthenticated.take('')) return true;
    this.counters.rateLimited++;
    return false;
  }

  /** Work that proves no user, from `from`: charged to its source, then as unauthenticated work (both must allow it). */
  unprovenAllowed(from: Address): boolean {
    return this.sourceAllowed(from) && this.unauthenticatedAllowed(from);
  }

  /** One authenticated request of user `name`; false when over its rate limit. */
  userAllowed(name: string): boolean {
    if (this.users.take(name)) return true;
    this.counters.rateLimited++;
    return false;
  }

  /** The user's key in plain form (unwrapped once, then cached), or undefined for a user without one. */
  userKey(user: UserDoc): Buffer | undefined {
    if (user.key === undefined || !this.wrapKey) return undefined;
    const cached = this.keys.get(user._id);
    if (cached) return cached;
    const k = unwrapUserKey(user.key, this.wrapKey, user._id);
    if (k) this.keys.set(user._id, k);
    return k;
  }

  /** Wrap a new user key for the store (and cache it plain). */
  wrapNewKey(name: string, k: Buffer): string {
    if (!this.wrapKey) throw new Error('peer secret not loaded yet');
    this.keys.set(name, k);
    return wrapUserKey(k, this.wrapKey, name);
  }

  /** Forget the per-user state (keys, windows): at a change of role, when the other server may change users. */
  reset(): void {
    this.keys.clear();
    this.windows.clear();
    this.challenged.clear();
  }

  /** Forget everything about a user that is gone. */
  forgetUser(name: string): void {
    this.keys.delete(name);
    this.windows.delete(name);
    this.challenged.delete(name);
  }

  /** Does `frame` carry a valid MAC of `user`'s key? (No replay check: for answering a retransmission again.) */
  macVerifies(frame: NativeFrame, user: UserDoc): boolean {
    const k = frame.mac ? this.userKey(user) : undefined;
    return k !== undefined && verifyNativeMac(frame, k);
  }

  /**
   * Check a native request about `user`: without a MAC (or for a user
   * without a key) it is simply unauthenticated (the handlers refuse what
   * needs proof); with one, the MAC must verify and the ctr be fresh.
   */
  authenticate(frame: NativeFrame, user: UserDoc | undefined): AuthResult {
    if (!frame.mac || !user) return { ok: true };
    const k = this.userKey(user);
    if (!k) return { ok: true };
    if (!verifyNativeMac(frame, k) || frame.envelope.ctr === undefined) {
      this.counters.authFailed++;
      return { ok: false, why: 'auth' };
    }
    let w = this.windows.get(user._id);
    if (!w) this.windows.set(user._id, (w = new ReplayWindow(user.ctrHigh ?? 0)));
    const verdict = w.accept(frame.envelope.ctr);
    if (verdict === 'fresh') return { ok: true, authed: user._id, key: k };
    if (verdict === 'replay') this.counters.replays++;
    else this.counters.staleCounters++;
    return { ok: false, why: verdict };
  }

  /** A request that passed the window was not executed after all: its retransmission must pass again. */
  release(name: string, ctr: number): void {
    this.windows.peek(name)?.forget(ctr);
  }

  /** The replay high-water marks to persist with the users (at a handoff). */
  highMarks(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, w] of this.windows.entriesIterator()) out.set(name, w.high);
    return out;
  }

  /** The envelope and key of a server-to-server message. */
  peerSeal(): { envelope: NativeEnvelope; key: Buffer } | undefined {
    if (!this.peerKey) return undefined;
    this.lastOwnCtr = Math.max(this.lastOwnCtr + 1, Math.floor(this.now() * 1000));
    return { envelope: { ctr: this.lastOwnCtr }, key: this.peerKey };
  }

  /** Is this server-to-server message from the server `sender` claims (MAC with the peer key, fresh counter)? */
  verifyPeer(frame: NativeFrame & { message: Message }, sender = ''): boolean {
    const peer = this.peerKey ? checkPeerFrame(frame, this.peerKey, this.now()) : undefined;
    // Peer messages come from each sender in order: its counter must only grow.
    if (!peer?.ok || peer.ctr <= (this.lastPeerCtr.get(sender) ?? 0)) {
      this.counters.forgedPeer++;
      return false;
    }
    this.lastPeerCtr.set(sender, peer.ctr);
    return true;
  }
}

/** The network a host belongs to for fairness: its /24 (IPv4) or /64 (IPv6), as a key. */
export function sourcePrefix(host: string): string {
  const h = normalHost(host);
  if (!h.includes(':')) return h.split('.').slice(0, 3).join('.');
  const zoneless = h.split('%')[0]!;
  const [head = '', tail] = zoneless.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // '::' stands for as many zero groups as are missing (an embedded IPv4 tail lies beyond the first four).
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':') + '::/64';
}

/** A fresh random peer secret (for the store, or one per demo run). */
export function newPeerSecret(): string {
  return randomBytes(32).toString('base64url');
}
