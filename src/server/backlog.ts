/**
 * "Every datagram that reached our socket before now has been handled":
 * a marker datagram sent to the server's own socket comes back behind
 * them, since a socket's receive queue is first in, first out.
 *
 * Delivery asks before it retransmits a push whose ACK is late. On a busy
 * server the ACK is usually not late at all but waiting in the receive
 * queue behind the requests that came first; a retransmission then costs
 * a push and a stale ACK more, which makes the queue longer, which makes
 * more ACKs late: 256 closed-loop publishers at fan-out 10 retransmitted a
 * third of all pushes and doubled the CPU per publish. Judged once the
 * marker is back, a push is sent again only when its ACK really is
 * missing.
 *
 * One marker is out at a time: callers that ask while it is out wait for
 * the next one, sent when it returns (the one out may have left before
 * what they wait for arrived). A marker that never comes back (a
 * fault-injecting transport dropped it) counts as back after FALLBACK_MS.
 * Markers carry a random per-server prefix and a counter: no client can
 * make one, and a late one is told from the current one.
 */
import { randomBytes } from 'node:crypto';
import type { Address } from '../transport/types';
import type { Clock, TimerHandle } from '../util/clock';

/** The first byte of a marker: no dialect starts with it (text: a letter, pickle 0x80, native 0xA7). */
export const MARKER_BYTE = 0x00;
const PREFIX_BYTES = 16;

/** Longest wait for a marker before it counts as back (dropped by a full receive buffer, or unreachable): about a first ACK timeout, so a lost ACK is not judged much later than before. */
export const FALLBACK_MS = 250;

export class BacklogMarker {
  private readonly prefix = randomBytes(PREFIX_BYTES);
  private count = 0;
  /** The callers of the marker out, and of the next one. */
  private waiting: (() => void)[] = [];
  private next: (() => void)[] = [];
  private fallback: TimerHandle | undefined;
  /** Markers sent; back, counted back by the fallback, or refused by the socket: read by tests and benches. */
  readonly stats = { sent: 0, returned: 0, fallbacks: 0, failed: 0 };

  constructor(
      /** Send `bytes` to this server's own socket; `failed` when the socket refused it (no marker will come back). */
    private readonly sendToSelf: (bytes: Buffer, failed: () => void) => void,
    private readonly clock: Clock,
  ) {}

  /** Run `go` once every datagram received before this call has been handled (or FALLBACK_MS passed; twice that when a marker was already out). */
  after(go: () => void): void {
    if (this.fallback) {
      this.next.push(go);
      return;
    }
    this.waiting.push(go);
    this.send();
  }

  /** Is `bytes` a marker of this server? (The current one releases its waiters; an old one is dropped.) */
  take(bytes: Uint8Array): boolean {
    if (bytes.length !== PREFIX_BYTES + 5 || bytes[0] !== MARKER_BYTE) return false;
    for (let i = 0; i < PREFIX_BYTES; i++) if (bytes[1 + i] !== this.prefix[i]) return false;
    const n = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUInt32BE(1 + PREFIX_BYTES);
    if (n === this.count && this.fallback) {
      this.stats.returned++;
      this.release();
    }
    return true;
  }

  /** Forget every waiter (the server stops). */
  clear(): void {
    this.fallback?.cancel();
    this.fallback = undefined;
    this.waiting = [];
    this.next = [];
  }

  private send(): void {
    this.count = (this.count + 1) >>> 0;
    const bytes = Buffer.allocUnsafe(PREFIX_BYTES + 5);
    bytes[0] = MARKER_BYTE;
    this.prefix.copy(bytes, 1);
    bytes.writeUInt32BE(this.count, 1 + PREFIX_BYTES);
    this.fallback = this.clock.after(FALLBACK_MS, () => {
      this.stats.fallbacks++;
      this.release();
    });
    this.stats.sent++;
    const sent = this.count;
    // A marker that could not be sent counts as back at once (later in this turn: the caller may still be in after()).
    this.sendToSelf(bytes, () => this.clock.after(0, () => this.failed(sent)));
  }

  private failed(count: number): void {
    if (count !== this.count || !this.fallback) return;
    this.stats.failed++;
    this.release();
  }

  private release(): void {
    this.fallback?.cancel();
    this.fallback = undefined;
    const go = this.waiting;
    this.waiting = this.next;
    this.next = [];
    if (this.waiting.length > 0) this.send();
    // Every judgement runs even if one throws (its push would otherwise stay due with no timer); the first error is rethrown.
    let failure: unknown;
    for (const f of go) {
      try {
        f();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }
}

/** Where a datagram to our own socket goes: a wildcard bind is reached on loopback. */
export function ownSocket(bound: Address): Address {
  if (bound.host === '0.0.0.0' || bound.host === '') return { host: '127.0.0.1', port: bound.port };
  if (bound.host === '::') return { host: '::1', port: bound.port };
  return bound;
}
