/**
 * Who may read a server's STATUS. With a peer secret configured by the
 * operator, a request must carry an HMAC-SHA256 with the peer key and a
 * counter near this server's clock (checkPeerFrame, as TAKEOVER), checked
 * in a replay window of its own (a STATUS never moves the TAKEOVER counter,
 * nor the other way round). Without one, only loopback sources are answered.
 */
import type { NativeFrame } from '../protocol/native';
import { normalHost, type Address } from '../transport/types';
import { checkPeerFrame, peerKeyOf } from './peer-key';
import { ReplayWindow } from './replay';

export type StatusVerdict = 'ok' | 'peer secret required' | 'loopback only' | 'stale counter';

/** 127.0.0.0/8, ::1 and IPv4-mapped 127.x. */
export function isLoopback(host: string): boolean {
  const h = normalHost(host);
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export class StatusGate {
  /** The peer key that MACs STATUS requests and their reports; undefined: loopback only. */
  readonly key: Buffer | undefined;
  private readonly window = new ReplayWindow(0);

  constructor(secret: string | undefined, private readonly now: () => number) {
    this.key = secret !== undefined ? peerKeyOf(secret) : undefined;
  }

  check(frame: NativeFrame, from: Address): StatusVerdict {
    if (!this.key) return isLoopback(from.host) ? 'ok' : 'loopback only';
    const peer = checkPeerFrame(frame, this.key, this.now());
    if (!peer.ok) return peer.why === 'mac' ? 'peer secret required' : 'stale counter';
    // Near this server's clock, and never seen before (a window of its own, apart from TAKEOVER's).
    return this.window.accept(peer.ctr) === 'fresh' ? 'ok' : 'stale counter';
  }
}
