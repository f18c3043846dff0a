/**
 * Send budgets: what may be sent to each UDP address, so that the server
 * cannot be used to amplify a spoofed request into a flood (as QUIC limits
 * what it sends on a new path, and DNS response-rate limiting for spoofed
 * sources).
 *
 * Only what a blind spoofer cannot cause goes out uncharged: a native
 * user's pushes, and the replies to its MACed requests, at the address where
 * it answered its CHALLENGE (the user's `addrOk`: the callers decide, per
 * user, not per address). Everything else sent to any address, proven or
 * not, is charged here: legacy replies and pushes (the canonical text and
 * pickle dialects cannot prove anything), denials, CHALLENGEs, and anything
 * others' requests make the server send to a native user's address (a
 * proof is the user's, not a licence for strangers to reflect through it).
 *
 * Each address's budget: three
 * times the bytes received from it (or in requests naming it as a user's
 * address), plus a small allowance refilling at `perSecond` up to `burst`,
 * within a larger one that all the ports of its host share.
 * Earned credit is capped too, so it cannot be banked for a later burst.
 * Over any stretch of time t, an address therefore receives at most
 * 3 × what was sent from it (or in its name) + burst + perSecond × t, and
 * a host, whatever its ports, 3 × what was sent from them + the host's
 * burst + its perSecond × t.
 * What a budget holds back is the caller's to keep owed (a text stays
 * owed for RETRIEVE-TEXTS). The state is soft: an evicted entry starts
 * again with a full allowance.
 */
import { addressKey, type Address } from '../transport/types';
import { BoundedMap } from './bounded-map';

export const AMPLIFICATION = 3;

/** The slowly refilling allowance of each address. */
export interface Allowance {
  burst: number;
  perSecond: number;
}

/** About two kilobytes a second per address, two seconds' worth at once. */
export function defaultAllowance(): Allowance {
  return { burst: 4096, perSecond: 2048 };
}

/**
 * What all the ports of one host share of their allowances (four
 * addresses' worth): a spoofer who names N ports of a victim host does not
 * get it N allowances.
 */
export function defaultHostAllowance(): Allowance {
  return { burst: 16_384, perSecond: 8192 };
}

/** Earned credit (3 × bytes received) is kept up to this much. */
const MAX_EARNED = 3 * 16 * 1024;

/** An allowance not spent yet, refilled at its `perSecond` since `at`. */
interface Refill {
  allowance: number;
  at: number;
}

interface AddressBudget extends Refill {
  /** Unspent credit earned by bytes received (3 × each). */
  earned: number;
}

export interface SendBudgetStats {
  /** Datagrams not sent because they would have exceeded an address's budget. */
  amplificationDrops: number;
}

/** The budget of every address heard from or named lately, and of their hosts. */
export class SendBudgets {
  private readonly addresses: BoundedMap<string, AddressBudget>;
  /** The allowance each host shares among its ports. */
  private readonly hosts: BoundedMap<string, Refill>;
  readonly stats: SendBudgetStats = { amplificationDrops: 0 };

  constructor(
    maxAddresses: number,
    private readonly limit: Allowance = defaultAllowance(),
    private readonly now: () => number = Date.now,
    private readonly hostLimit: Allowance = defaultHostAllowance(),
  ) {
    this.addresses = new BoundedMap(maxAddresses);
    this.hosts = new BoundedMap(maxAddresses);
  }

  get size(): number {
    return this.addresses.size;
  }

  private state(a: Address): AddressBudget {
    const k = addressKey(a);
    let s = this.addresses.get(k);
    if (!s) this.addresses.set(k, (s = { earned: 0, allowance: this.limit.burst, at: this.now() }));
    refill(s, this.limit, this.now());
    return s;
  }

  private host(a: Address): Refill {
    let h = this.hosts.get(a.host);
    if (!h) this.hosts.set(a.host, (h = { allowance: this.hostLimit.burst, at: this.now() }));
    refill(h, this.hostLimit, this.now());
    return h;
  }

  /** What `a` may spend of allowances now: its own, within what its host has left. */
  private free(a: Address, s: AddressBudget): { host: Refill; bytes: number } {
    const host = this.host(a);
    return { host, bytes: s.earned + Math.min(s.allowance, host.allowance) };
  }

  /** A datagram of `bytes` came from `a` (or named `a` as a user's address): credit for what may go back. */
  received(a: Address, bytes: number): void {
    const s = this.state(a);
    s.earned = Math.min(MAX_EARNED, s.earned + AMPLIFICATION * bytes);
  }

  /** Bytes `a` may be sent now. */
  available(a: Address): number {
    return Math.floor(this.free(a, this.state(a)).bytes);
  }

  /** May `bytes` go to `a` now? Charges them when they may; counts a drop when not. */
  allow(a: Address, bytes: number): boolean {
    const s = this.state(a);
    const free = this.free(a, s);
    if (bytes > free.bytes) {
      this.stats.amplificationDrops++;
      return false;
    }
    spend(s, free.host, bytes);
    return true;
  }

  /**
   * Take `bytes` from `a`'s budget now, for an answer sized to fit it
   * (available() just before) and sent uncharged right after: nothing that
   * runs in between can make that answer fall short of its own budget.
   */
  reserve(a: Address, bytes: number): void {
    const s = this.state(a);
    const free = this.free(a, s);
    spend(s, free.host, Math.min(bytes, free.bytes));
  }
}

function refill(r: Refill, limit: Allowance, now: number): void {
  r.allowance = Math.min(limit.burst, r.allowance + ((now - r.at) / 1000) * limit.perSecond);
  r.at = now;
}

/** Earned credit first; the rest from the address's allowance and its host's alike. */
function spend(s: AddressBudget, host: Refill, bytes: number): void {
  const fromEarned = Math.min(s.earned, bytes);
  s.earned -= fromEarned;
  s.allowance -= bytes - fromEarned;
  host.allowance -= bytes - fromEarned;
}
