/**
 * Fault injection that can be turned on, changed and turned off while the
 * socket stays open: the demo console's `chaos SPEC|off`. Each change puts a
 * fresh lossy() wrapper (transport/lossy.ts, same seeded behaviour) between
 * the socket and the user of this transport; turning it off connects them
 * directly again. Datagrams the previous wrapper still held back or delayed
 * are dropped at the switch, as a real network would lose them.
 */
import { lossy, type LossyOptions, type LossyStats } from './lossy';
import type { ChaosSpec } from './chaos-spec';
import type { DatagramHandler, Transport } from './types';

/** A Transport whose fault spec can be replaced at run time. */
export interface SwitchableTransport extends Transport {
  /** The faults in force, undefined when none. */
  readonly spec: ChaosSpec | undefined;
  /** Fault counters of the current spec (reset at each switch), undefined when none. */
  readonly stats: Readonly<LossyStats> | undefined;
  /** Replace the faults (undefined: none from now on). */
  setSpec(spec: ChaosSpec | undefined): void;
}

/** Wrap `inner`, initially with `spec` (or no faults). close() closes `inner`. */
export function switchable(inner: Transport, spec?: ChaosSpec, opts: LossyOptions = {}): SwitchableTransport {
  let handler: DatagramHandler | undefined;
  let closed: Promise<void> | undefined;
  // lossy() closes what it wraps: give it a view of the socket whose close() does nothing.
  const view: Transport = {
    send: (bytes, to, failed) => inner.send(bytes, to, failed),
    onDatagram: (h) => inner.onDatagram(h),
    address: () => inner.address(),
    close: async () => {},
  };
  let current: { t: Transport; spec: ChaosSpec | undefined; stats: LossyStats | undefined } = { t: view, spec: undefined, stats: undefined };

  const set = (next: ChaosSpec | undefined) => {
    const old = current.t;
    if (next) {
      const l = lossy(view, next, opts);
      current = { t: l, spec: next, stats: l.stats };
    } else {
      current = { t: view, spec: undefined, stats: undefined };
    }
    // Registering on the new wrapper re-registers on the socket, replacing the old wrapper's handler.
    current.t.onDatagram((bytes, from) => handler?.(bytes, from));
    if (old !== view) void old.close();
  };
  set(spec);

  return {
    get spec() {
      return current.spec;
    },
    get stats() {
      return current.stats;
    },
    setSpec(next) {
      if (!closed) set(next);
    },
    send(bytes, to, failed) {
      current.t.send(bytes, to, failed);
    },
    onDatagram(h) {
      handler = h;
    },
    address: () => inner.address(),
    close() {
      closed ??= (async () => {
        handler = undefined;
        await current.t.close();
        await inner.close();
      })();
      return closed;
    },
  };
}
