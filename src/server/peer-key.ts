/**
 * The peer key and what makes a server-to-server message acceptable: a MAC
 * with that key and a counter close to this server's clock. TAKEOVER
 * (Guard.verifyPeer) and STATUS (StatusGate) both check these; each adds its
 * own rule against replays on top.
 */
import { deriveServerKey } from '../protocol/auth';
import { verifyNativeMac, type NativeFrame } from '../protocol/native';
import { REPLAY_WINDOW_US } from './replay';

/** The key both servers (and `rss status`) derive from the peer secret. */
export function peerKeyOf(secret: string): Buffer {
  return deriveServerKey(secret, 'rss peer mac');
}

export type PeerFrameCheck = { ok: true; ctr: number } | { ok: false; why: 'mac' | 'stale' };

/**
 * A frame MACed with the peer key whose counter (µs wall-clock time) lies
 * within the replay window of `nowMs`; its counter when it is.
 */
export function checkPeerFrame(frame: NativeFrame, key: Buffer, nowMs: number): PeerFrameCheck {
  if (!verifyNativeMac(frame, key)) return { ok: false, why: 'mac' };
  const ctr = frame.envelope.ctr;
  if (ctr === undefined || Math.abs(ctr - nowMs * 1000) > REPLAY_WINDOW_US) return { ok: false, why: 'stale' };
  return { ok: true, ctr };
}
