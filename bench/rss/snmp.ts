/**
 * UDP drop counters of the whole machine (/proc/net/snmp, Linux): a
 * datagram that finds its socket's receive buffer full is dropped and
 * counted in RcvbufErrors. The counters are system-wide, so other work on
 * the machine adds to them: a delta of 0 is evidence, a positive one a lead.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface UdpDrops {
  rcvbufErrors: number;
  /** Sends refused for a full send buffer (a sender faster than loopback drains). */
  sndbufErrors: number;
  inErrors: number;
}

/** The counters now, or undefined where /proc/net/snmp does not exist. */
export function udpDrops(): UdpDrops | undefined {
  if (!existsSync('/proc/net/snmp')) return undefined;
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return undefined;
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/).map(Number);
  const get = (n: string) => values[names.indexOf(n)] ?? 0;
  return { rcvbufErrors: get('RcvbufErrors'), sndbufErrors: get('SndbufErrors'), inErrors: get('InErrors') };
}

/** What was dropped between two readings. */
export function dropsSince(before: UdpDrops | undefined): UdpDrops | undefined {
  const now = udpDrops();
  if (!before || !now) return undefined;
  return { rcvbufErrors: now.rcvbufErrors - before.rcvbufErrors, sndbufErrors: now.sndbufErrors - before.sndbufErrors, inErrors: now.inErrors - before.inErrors };
}
