/**
 * Who may read a server's STATUS. With a peer secret configured by the
 * operator, a request must carry an HMAC-SHA256 with the peer key
 * (deriveServerKey(secret, 'rss peer mac'), as TAKEOVER) and a fresh
 * counter, checked in a replay window of its own (a STATUS never moves the
 * TAKEOVER counter, nor the other way round). Without one, only loopback
 * sources are answered.
 */
import { deriveServerKey } from '../protocol/auth';
import { verifyNativeMac, type NativeFrame } from '../protocol/native';
import { normalHost, type Address } from '../transport/types';
import { REPLAY_WINDOW_US, ReplayWindow } from './replay';

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
    this.key = secret !== undefined ? deriveServerKey(secret, 'rss peer mac') : undefined;
  }

  check(frame: NativeFrame, from: Address): StatusVerdict {
    if (!this.key) return isLoopback(from.host) ? 'ok' : 'loopback only';
    if (!verifyNativeMac(frame, this.key)) return 'peer secret required';
    const ctr = frame.envelope.ctr;
    // The counter is µs time: within the replay window of this server's clock, and never seen before.
    if (ctr === undefined || Math.abs(ctr - this.now() * 1000) > REPLAY_WINDOW_US) return 'stale counter';
    return this.window.accept(ctr) === 'fresh' ? 'ok' : 'stale counter';
  }
}
