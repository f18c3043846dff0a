/**
 * Asking servers A and B for their status (native STATUS) at once: the
 * standby answers too, so an operator sees both and a user's client can
 * pick the serving one. Retransmitted under the client's one retry policy
 * (retry.ts) until each server answered or the deadline passed.
 *
 * Servers answer STATUS only to requests MACed with the peer key (derived
 * from the peer secret exactly as the servers derive it), or from loopback
 * when none is configured; with the secret, only a report MACed back counts.
 */
import { positionTag, type Message } from '../protocol/messages';
import { decodeNative, encodeNativePadded, verifyNativeMac, type NativeEnvelope } from '../protocol/native';
import { peerKeyOf } from '../server/peer-key';
import type { Address } from '../transport/types';
import { openUdp } from '../transport/udp';
import { ClientIdentity } from './identity';
import { defaultRetryPolicy, retransmitWait } from './retry';

/** What one server said (or why it said nothing). */
export interface ServerStatus {
  tag: string;
  address: Address;
  /** The STATUS-REPORT's fields, when the server answered. */
  status?: Record<string, unknown>;
  /** Why there is no status: no answer, or the server's refusal. */
  error?: string;
}

/**
 * The STATUS request datagram. With `peerSecret` it carries an HMAC-SHA256
 * trailer keyed by the peer key, which is what the servers check before
 * answering anyone but loopback.
 */
export function statusRequest(rq: number, envelope: NativeEnvelope, peerSecret?: string): Buffer {
  // Padded: a server sends an address it has not validated at most 3× what it received from it.
  return encodeNativePadded({ type: 'STATUS', rq }, envelope, peerSecret ? peerKeyOf(peerSecret) : undefined);
}

/**
 * Ask every server for its status at once; resolves when all answered or
 * `timeoutMs` passed (with `untilServing`: as soon as the serving one answered).
 */
export async function queryStatus(
  servers: readonly Address[],
  opts: { timeoutMs: number; peerSecret?: string; random?: () => number; untilServing?: boolean },
): Promise<ServerStatus[]> {
  const v6 = servers[0].host.includes(':');
  const socket = await openUdp({ host: v6 ? '::' : '0.0.0.0', port: 0 });
  const identity = new ClientIdentity();
  const policy = defaultRetryPolicy();
  const random = opts.random ?? Math.random;
  // Named by position (A, B, C, ...), as `rss demo` names its servers; a report carries the server's own name.
  const results: ServerStatus[] = servers.map((address, i) => ({ tag: positionTag(i), address }));
  const key = opts.peerSecret ? peerKeyOf(opts.peerSecret) : undefined;
  const byRq = new Map<number, { result: ServerStatus; attempt: number; timer?: NodeJS.Timeout }>();
  try {
    await new Promise<void>((resolve) => {
      const finish = () => {
        for (const p of byRq.values()) clearTimeout(p.timer);
        clearTimeout(deadline);
        resolve();
      };
      const settle = (rq: number, fill: (r: ServerStatus) => void) => {
        const p = byRq.get(rq);
        if (!p || p.result.status || p.result.error) return;
        fill(p.result);
        clearTimeout(p.timer);
        if (results.every((r) => r.status || r.error) || (opts.untilServing && servingStatus(results))) finish();
      };
      socket.onDatagram((bytes) => {
        let msg: Message;
        try {
          const frame = decodeNative(bytes);
          // With the secret, only a report the servers MACed with the peer key counts (a spoofed one is dropped).
          if (key && frame.message.type === 'STATUS-REPORT' && !verifyNativeMac(frame, key)) return;
          msg = frame.message;
        } catch {
          return; // not for us
        }
        if (msg.type === 'STATUS-REPORT') {
          settle(msg.rq, (r) => {
            r.status = msg.status;
            if (typeof msg.status.tag === 'string') r.tag = msg.status.tag;
          });
        }
        else if (msg.type === 'DENIED') settle(msg.rq, (r) => (r.error = `refused: ${msg.reason}`));
      });
      const deadline = setTimeout(finish, opts.timeoutMs);
      for (const result of results) {
        const rq = identity.nextRq();
        const p: { result: ServerStatus; attempt: number; timer?: NodeJS.Timeout } = { result, attempt: 0 };
        byRq.set(rq, p);
        // Same rq, fresh ctr each time: STATUS changes nothing, and a server's replay window
        // may refuse a repeated counter. Retransmitted until the deadline, at the policy's waits.
        const transmit = () => {
          socket.send(statusRequest(rq, { cid: identity.cid, ctr: identity.nextCtr() }, opts.peerSecret), result.address);
          p.timer = setTimeout(transmit, retransmitWait(policy, p.attempt++, random));
        };
        transmit();
      }
    });
  } finally {
    await socket.close();
  }
  for (const r of results) if (!r.status && !r.error) r.error = 'no answer';
  return results;
}

/** The report of the server that serves (the one a user's requests go to), if one answered as serving. */
export function servingStatus(results: readonly ServerStatus[]): ServerStatus | undefined {
  return results.find((r) => r.status?.role === 'serving');
}
