/**
 * Anti-amplification and address validation, per UDP address (as QUIC does
 * for a new path, and DTLS/DNS cookies for spoofed sources).
 *
 * Until an address is validated, the bytes this server sends to it never
 * exceed AMPLIFICATION × the bytes it received from it (or in requests that
 * named it as a user's new address). A spoofed source therefore gets at most
 * three times what the spoofer spent, never a flood.
 *
 * An address is validated when a native client answered a CHALLENGE from it
 * with the user's MAC (it receives there and holds the key), or, for the
 * legacy dialects that cannot answer a challenge, when a second datagram
 * came from it (a blind spoofer can still send two: a documented residual
 * risk). The state is soft: an evicted entry starts again unvalidated.
 */
import { addressKey, type Address } from '../transport/types';
import { BoundedMap } from './bounded-map';

export const AMPLIFICATION = 3;

interface PathState {
  received: number;
  sent: number;
  datagrams: number;
  validated: boolean;
}

export interface PathStats {
  /** Datagrams not sent because they would have exceeded an unvalidated address's budget. */
  amplificationDrops: number;
}

export class Paths {
  private readonly paths: BoundedMap<string, PathState>;
  readonly stats: PathStats = { amplificationDrops: 0 };

  constructor(maxAddresses: number) {
    this.paths = new BoundedMap(maxAddresses);
  }

  get size(): number {
    return this.paths.size;
  }

  private state(a: Address): PathState {
    const k = addressKey(a);
    let s = this.paths.get(k);
    if (!s) this.paths.set(k, (s = { received: 0, sent: 0, datagrams: 0, validated: false }));
    return s;
  }

  /** A datagram of `bytes` came from `a`. */
  received(a: Address, bytes: number): void {
    const s = this.state(a);
    s.received += bytes;
    s.datagrams++;
  }

  /** A request of `bytes` named `a` as a user's new address: it may carry that address a challenge. */
  credit(a: Address, bytes: number): void {
    this.state(a).received += bytes;
  }

  /** A legacy request came from `a`: the second datagram from an address validates it. */
  legacySeen(a: Address): void {
    const s = this.paths.peek(addressKey(a));
    if (s && s.datagrams >= 2) s.validated = true;
  }

  validate(a: Address): void {
    this.state(a).validated = true;
  }

  isValidated(a: Address): boolean {
    return this.paths.peek(addressKey(a))?.validated ?? false;
  }

  /** May `bytes` go to `a` now? Counts them when they may. */
  allow(a: Address, bytes: number): boolean {
    const s = this.state(a);
    if (s.validated) return true;
    if (s.sent + bytes > AMPLIFICATION * s.received) {
      this.stats.amplificationDrops++;
      return false;
    }
    s.sent += bytes;
    return true;
  }
}
