/**
 * The serving server's in-memory view of the users: loaded from the store
 * when it starts serving, kept in step with its own writes (only the serving
 * server writes users), and indexed by subject for fan-out.
 */
import type { UserDoc } from '../store/documents';
import { addressKey, type Address } from '../transport/types';

export class Directory {
  private readonly users = new Map<string, UserDoc>();
  private readonly bySubject = new Map<string, Set<string>>();
  /** Users of the legacy dialects by address (one address may hold only a few: they cannot prove it). */
  private readonly legacyByAddress = new Map<string, Set<string>>();
  /** Legacy registrations and moves being stored, by address: counted with the users already there. */
  private readonly legacyClaims = new Map<string, Set<string>>();

  /** Replace everything with `docs` (at takeover). */
  load(docs: UserDoc[]): void {
    this.users.clear();
    this.bySubject.clear();
    this.legacyByAddress.clear();
    for (const d of docs) this.set(d);
  }

  get size(): number {
    return this.users.size;
  }

  get(name: string): UserDoc | undefined {
    return this.users.get(name);
  }

  all(): IterableIterator<UserDoc> {
    return this.users.values();
  }

  set(user: UserDoc): void {
    this.delete(user._id);
    this.users.set(user._id, user);
    for (const s of user.subjects) {
      let names = this.bySubject.get(s);
      if (!names) this.bySubject.set(s, (names = new Set()));
      names.add(user._id);
    }
    if (user.dialect !== 'native') addTo(this.legacyByAddress, addressKey(user), user._id);
  }

  delete(name: string): void {
    const old = this.users.get(name);
    if (!old) return;
    this.users.delete(name);
    for (const s of old.subjects) {
      const names = this.bySubject.get(s);
      names?.delete(name);
      if (names?.size === 0) this.bySubject.delete(s);
    }
    if (old.dialect !== 'native') removeFrom(this.legacyByAddress, addressKey(old), name);
  }

  /**
   * Claim a place for legacy user `name` at `a` while its write is stored
   * (requests of different users run concurrently): false when `a` already
   * holds `max` legacy users, counting the claims. Release it once stored.
   */
  claimLegacy(a: Address, name: string, max: number): boolean {
    const k = addressKey(a);
    const names = new Set([...(this.legacyByAddress.get(k) ?? []), ...(this.legacyClaims.get(k) ?? [])]);
    if (!names.has(name) && names.size >= max) return false;
    addTo(this.legacyClaims, k, name);
    return true;
  }

  releaseLegacy(a: Address, name: string): void {
    removeFrom(this.legacyClaims, addressKey(a), name);
  }

  /** Users interested in `subject`, except `exclude` (the publisher). */
  interested(subject: string, exclude?: string): UserDoc[] {
    const names = this.bySubject.get(subject);
    if (!names) return [];
    const out: UserDoc[] = [];
    for (const n of names) if (n !== exclude) out.push(this.users.get(n)!);
    return out;
  }
}

function addTo(index: Map<string, Set<string>>, key: string, name: string): void {
  let names = index.get(key);
  if (!names) index.set(key, (names = new Set()));
  names.add(name);
}

function removeFrom(index: Map<string, Set<string>>, key: string, name: string): void {
  const names = index.get(key);
  names?.delete(name);
  if (names?.size === 0) index.delete(key);
}
