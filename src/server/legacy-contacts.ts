/**
 * The legacy clients (canonical text, pickle) known by address, registered
 * or not: every one that announced itself (a pickle client sends
 * INITIALIZATION to both servers before it registers) or sent a request
 * recently. A CHANGE-SERVER goes to each of them at every handoff and
 * failover, so a client that flips servers on each one never falls out of
 * step with the serving server.
 *
 * Bounded (the least recently heard go first) and expiring (a client not
 * heard from for `ttl` is forgotten). Both servers note what they receive,
 * serving or not, and write it to the store (a new address, or every
 * `rewriteAfter`); a server that starts serving reads the store, so
 * whichever server tells the users next knows the same clients.
 */
import type { ContactDoc } from '../store/documents';
import { addressKey, type Address } from '../transport/types';
import type { Logger } from '../util/log';
import { BoundedMap } from './bounded-map';

/** What the set needs of the store (a subset of Store, so tests can fake it). */
export interface ContactStore {
  /** Past `keep` contacts, the least recently heard are dropped. */
  saveContact(contact: ContactDoc, keep: number): Promise<void>;
  removeContact(id: string): Promise<void>;
}

export interface ContactOptions {
  /** Contacts kept (and read from the store). */
  max: number;
  /** A contact not heard from for this long is forgotten (ms). */
  ttl: number;
  /** A contact heard again is written again after this long (ms), so its expiry in the store moves too. */
  rewriteAfter: number;
}

export function defaultContactOptions(): ContactOptions {
  return { max: 10_000, ttl: 24 * 3_600_000, rewriteAfter: 5 * 60_000 };
}

/** While contact writes keep failing, a warning at most this often (ms). */
const WARN_EVERY = 60_000;

interface Entry {
  doc: ContactDoc;
  /** When it was last written to the store (undefined: never, or the write failed). */
  storedAt?: number;
}

export class LegacyContacts {
  private readonly entries: BoundedMap<string, Entry>;
  /** When each address said it quits: a contact read from the store that is older is not taken back. */
  private readonly endedAt: BoundedMap<string, number>;
  /** The store write in flight per address: the next one waits for it (a removal must not overtake the save). */
  private readonly writing = new Map<string, Promise<void>>();
  /** While store writes fail: when the last warning was logged, and the failures since. */
  private failures: { warnedAt: number; since: number } | undefined;

  constructor(
    readonly opts: ContactOptions,
    private readonly store: ContactStore,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = new BoundedMap(opts.max);
    this.endedAt = new BoundedMap(opts.max);
  }

  get size(): number {
    return this.entries.size;
  }

  /** A request in `dialect` came from `at`. */
  heard(at: Address, dialect: 'text' | 'pickle'): void {
    const id = addressKey(at);
    const now = this.now();
    const before = this.entries.peek(id);
    this.endedAt.delete(id);
    const doc: ContactDoc = { _id: id, host: at.host, port: at.port, dialect, at: now };
    const entry: Entry = { doc, ...(before?.storedAt !== undefined ? { storedAt: before.storedAt } : {}) };
    this.entries.set(id, entry);
    const stale = entry.storedAt === undefined || now - entry.storedAt >= this.opts.rewriteAfter;
    if (!stale && before?.doc.dialect === dialect) return;
    entry.storedAt = now;
    this.write(id, () => this.store.saveContact(doc, this.opts.max), () => {
      // Written again at the next request from it; meanwhile this server still knows it.
      delete entry.storedAt;
    });
  }

  /**
   * The client at `at` said it quits (END-CONNECTION, sent to both
   * servers): it is told nothing more. Removed from the store by whichever
   * server hears it (the serving one may be handing over right then).
   */
  ended(at: Address): void {
    const id = addressKey(at);
    this.entries.delete(id);
    this.endedAt.set(id, this.now());
    this.write(id, () => this.store.removeContact(id));
  }

  /** Run a store write for `id` after the one in flight for it, if any; failures are logged (best effort). */
  private write(id: string, op: () => Promise<void>, onError?: () => void): void {
    const run = (this.writing.get(id) ?? Promise.resolve())
      .then(op)
      .then(() => this.writeSucceeded(), (err) => {
        onError?.();
        this.writeFailed(id, err);
      })
      .finally(() => {
        if (this.writing.get(id) === run) this.writing.delete(id);
      });
    this.writing.set(id, run);
  }

  /**
   * A failed write is a warning once per burst (the first failure, then at
   * most once a minute while they go on, with the count), so a store outage
   * under a flood of legacy datagrams is seen without flooding the log.
   */
  private writeFailed(id: string, err: unknown): void {
    const now = this.now();
    if (this.failures && now - this.failures.warnedAt < WARN_EVERY) {
      this.failures.since++;
      this.log.debug({ err: String(err), contact: id }, 'legacy contact not written');
      return;
    }
    const more = this.failures?.since ?? 0;
    this.failures = { warnedAt: now, since: 0 };
    this.log.warn({ err: String(err), contact: id, ...(more ? { moreFailures: more } : {}) }, 'legacy contacts not written to the store (the other server may not tell them of a handoff)');
  }

  private writeSucceeded(): void {
    if (!this.failures) return;
    this.log.info({ moreFailures: this.failures.since }, 'legacy contacts written to the store again');
    this.failures = undefined;
  }

  /** Contacts read from the store on starting to serve: merged, the more recent news of each address wins. */
  load(docs: readonly ContactDoc[]): void {
    for (const d of docs) {
      if ((this.endedAt.peek(d._id) ?? -Infinity) >= d.at) continue;
      const mine = this.entries.peek(d._id);
      if (mine && mine.doc.at >= d.at) continue;
      this.entries.set(d._id, { doc: d, storedAt: d.at });
    }
  }

  /** The contacts heard from within the expiry time. */
  current(): ContactDoc[] {
    const since = this.now() - this.opts.ttl;
    const out: ContactDoc[] = [];
    for (const [id, e] of this.entriesIterator()) {
      if (e.doc.at >= since) out.push(e.doc);
      else this.entries.delete(id);
    }
    return out;
  }

  private *entriesIterator(): IterableIterator<[string, Entry]> {
    // A copy: current() deletes expired entries while it walks.
    yield* [...this.entries.entriesIterator()];
  }
}
