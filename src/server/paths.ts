/**
 * The ledger of what may be sent to each UDP address (anti-amplification,
 * as QUIC does for a new path and DNS response-rate limiting for spoofed
 * sources).
 *
 * An address is proven only by what a blind spoofer cannot do: a native
 * client answered, from that very address, the CHALLENGE sent there (MACed
 * with the user's key). Nothing else proves one: no count of datagrams, no
 * legacy request (the canonical text and pickle dialects cannot answer a
 * challenge, so their addresses stay unproven for ever).
 *
 * Everything sent to an unproven address is charged to its budget: three
 * times the bytes received from it (or in requests naming it as a user's
 * address), plus a small allowance refilling at `perSecond` up to `burst`.
 * Earned credit is capped too, so it cannot be banked for a later burst.
 * Over any stretch of time t, an unproven address therefore receives at most
 * 3 × what was sent from it (or in its name) + burst + perSecond × t.
 * What a budget holds back is the caller's to keep owed (a text stays in
 * the inbox for RETRIEVE-TEXTS). The state is soft: an evicted entry starts
 * again unproven, with a full allowance.
 */
import { addressKey, type Address } from '../transport/types';
import { BoundedMap } from './bounded-map';

export const AMPLIFICATION = 3;

/** The slowly refilling allowance of an unproven address. */
export interface Allowance {
  burst: number;
  perSecond: number;
}

/** About two kilobytes a second per address, two seconds' worth at once. */
export function defaultAllowance(): Allowance {
  return { burst: 4096, perSecond: 2048 };
}

/** Earned credit (3 × bytes received) is kept up to this much. */
const MAX_EARNED = 3 * 16 * 1024;

interface PathState {
  /** Unspent credit earned by bytes received (3 × each). */
  earned: number;
  /** Unspent allowance, refilled at `perSecond` since `at`. */
  allowance: number;
  at: number;
  proven: boolean;
}

export interface PathStats {
  /** Datagrams not sent because they would have exceeded an unproven address's budget. */
  amplificationDrops: number;
}

export class Paths {
  private readonly paths: BoundedMap<string, PathState>;
  readonly stats: PathStats = { amplificationDrops: 0 };

  constructor(
    maxAddresses: number,
    private readonly limit: Allowance = defaultAllowance(),
    private readonly now: () => number = Date.now,
  ) {
    this.paths = new BoundedMap(maxAddresses);
  }

  get size(): number {
    return this.paths.size;
  }

  private state(a: Address): PathState {
    const k = addressKey(a);
    const now = this.now();
    let s = this.paths.get(k);
    if (!s) this.paths.set(k, (s = { earned: 0, allowance: this.limit.burst, at: now, proven: false }));
    s.allowance = Math.min(this.limit.burst, s.allowance + ((now - s.at) / 1000) * this.limit.perSecond);
    s.at = now;
    return s;
  }

  /** A datagram of `bytes` came from `a` (or named `a` as a user's address): credit for what may go back. */
  received(a: Address, bytes: number): void {
    const s = this.state(a);
    s.earned = Math.min(MAX_EARNED, s.earned + AMPLIFICATION * bytes);
  }

  /** A native client answered the CHALLENGE sent to `a`: the only way an address is proven. */
  validate(a: Address): void {
    this.state(a).proven = true;
  }

  isValidated(a: Address): boolean {
    return this.paths.peek(addressKey(a))?.proven ?? false;
  }

  /** Bytes `a` may be sent now (Infinity once proven). */
  available(a: Address): number {
    const s = this.state(a);
    return s.proven ? Infinity : Math.floor(s.earned + s.allowance);
  }

  /** May `bytes` go to `a` now? Charges them when they may; counts a drop when not. */
  allow(a: Address, bytes: number): boolean {
    const s = this.state(a);
    if (s.proven) return true;
    if (bytes > s.earned + s.allowance) {
      this.stats.amplificationDrops++;
      return false;
    }
    this.spend(s, bytes);
    return true;
  }

  /**
   * Take `bytes` from `a`'s budget now, for an answer sized to fit it
   * (available() just before) and sent uncharged right after: nothing that
   * runs in between can make that answer fall short of its own budget.
   */
  reserve(a: Address, bytes: number): void {
    const s = this.state(a);
    if (!s.proven) this.spend(s, Math.min(bytes, s.earned + s.allowance));
  }

  private spend(s: PathState, bytes: number): void {
    const fromEarned = Math.min(s.earned, bytes);
    s.earned -= fromEarned;
    s.allowance -= bytes - fromEarned;
  }
}
