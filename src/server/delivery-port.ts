/**
 * How the serving server's Delivery reaches the rest of it: owed texts read
 * from the log (server/owed.ts), cursors moved in memory (server/cursors.ts),
 * pushes sent through the outbox in the user's dialect.
 */
import type { StoredText } from '../protocol/messages';
import type { UserDoc } from '../store/documents';
import type { Cursors } from './cursors';
import type { DeliveryPort, PushOutcome } from './delivery';
import type { Directory } from './directory';
import { readOwed, skipToLine, type OwedSources } from './owed';

export interface DeliveryPortDeps extends OwedSources {
  readonly directory: Directory;
  readonly cursors: Cursors;
  /** The server may act now (a paused holder past its lease pushes nothing). */
  serving(): boolean;
  /** A native MESSAGE push, MACed with the user's key (outbox): false when nothing went out. */
  pushNative(user: UserDoc, text: StoredText): boolean;
  /** A canonical text MESSAGE, within its address's budget: false when nothing went out. */
  pushText(user: UserDoc, text: StoredText): boolean;
  gaveUp(user: string): void;
  /** Run `go` once the datagrams received before now are handled (server/backlog.ts). */
  afterBacklog?(go: () => void): void;
  failed(err: unknown, context: { user: string; doing: string }): void;
}

export function deliveryPort(d: DeliveryPortDeps): DeliveryPort {
  return {
    pending: async (user, limit) => {
      const read = await readOwed(d, user, limit);
      skipToLine(d.cursors, user, read);
      return read;
    },
    received: (user, seq) => d.cursors.advance(user, seq),
    send: (user, text): PushOutcome => {
      const u = d.directory.get(user);
      if (!u || u.dialect === 'pickle') return 'gone';
      // Until the address proves it receives (and while the server may not act), the texts stay owed.
      if (!d.serving() || !u.addrOk) return 'blocked';
      if (u.dialect === 'text') return d.pushText(u, text) ? 'delivered' : 'blocked';
      return d.pushNative(u, text) ? 'sent' : 'blocked';
    },
    gaveUp: (user) => d.gaveUp(user),
    ...(d.afterBacklog ? { afterBacklog: d.afterBacklog } : {}),
    failed: (err, context) => d.failed(err, context),
  };
}
