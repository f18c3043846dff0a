/**
 * An in-memory stand-in for Store with the semantics the server relies on
 * (unique names, idempotent inbox rows, text de-duplication by request key,
 * a fenced lease), so the fuzz test can push a hundred thousand datagrams
 * through a real RssServer without a database, and compare snapshots.
 */
import type { ServerTag } from '../../src/protocol/messages';
import type { ContactDoc, InboxDoc, LeaseDoc, RequestDoc, TextDoc, UserDoc } from '../../src/store/documents';
import type { Store } from '../../src/store/store';

const copy = <T>(v: T): T => structuredClone(v);

export class MemoryStore {
  users = new Map<string, UserDoc>();
  texts = new Map<number, TextDoc>();
  inbox = new Set<string>();
  requests = new Map<string, RequestDoc>();
  lease: LeaseDoc | null = null;
  contacts = new Map<string, ContactDoc>();

  /** Typed as the real Store for the server's constructor. */
  asStore(): Store {
    return this as unknown as Store;
  }

  /** Everything stored, in a comparable form. */
  snapshot(): unknown {
    return copy({
      users: [...this.users.values()].sort((a, b) => a._id.localeCompare(b._id)),
      texts: [...this.texts.values()],
      inbox: [...this.inbox].sort(),
      requests: [...this.requests.keys()].sort(),
    });
  }

  async peerSecret(): Promise<string> {
    return 'fuzz-peer-secret-0123456789';
  }

  async readLease(): Promise<LeaseDoc | null> {
    return copy(this.lease);
  }

  async initLease(holder: ServerTag): Promise<LeaseDoc> {
    this.lease ??= { _id: 'lease', holder, epoch: 1, beat: 0, seq: 0 };
    return copy(this.lease);
  }

  async renewLease(holder: ServerTag, epoch: number): Promise<boolean> {
    if (this.lease?.holder !== holder || this.lease.epoch !== epoch) return false;
    this.lease.beat++;
    return true;
  }

  async moveLease(from: ServerTag, epoch: number, to: ServerTag, beat?: number): Promise<LeaseDoc | null> {
    const l = this.lease;
    if (!l || l.holder !== from || l.epoch !== epoch || (beat !== undefined && l.beat !== beat)) return null;
    Object.assign(l, { holder: to, beat: 0, epoch: l.epoch + 1 });
    return copy(l);
  }

  /** Store.fenceSeqs: nothing to fence here (one server, no paused earlier holder); the fence line while the lease is held. */
  async fenceSeqs(holder: ServerTag, epoch: number): Promise<number | null> {
    const l = this.lease;
    if (!l || l.holder !== holder || l.epoch !== epoch) return null;
    l.fence = l.seq;
    return l.seq;
  }

  retries = 0;

  /** Store.fenceOne: the text under `seq`, or null (then nothing may be stored there). */
  async fenceOne(seq: number): Promise<TextDoc | null> {
    const t = this.texts.get(seq);
    return t ? copy(t) : null;
  }

  async allocateSeqs(holder: ServerTag, epoch: number, count: number): Promise<number> {
    const l = this.lease;
    if (!l || l.holder !== holder || l.epoch !== epoch) throw new Error('lease over');
    l.seq += count;
    return l.seq - count + 1;
  }

  async loadUsers(): Promise<UserDoc[]> {
    return [...this.users.values()].map(copy);
  }

  async insertUser(user: UserDoc): Promise<boolean> {
    if (this.users.has(user._id)) return false;
    this.users.set(user._id, copy(user));
    return true;
  }

  async updateUser(name: string, set: Partial<UserDoc>): Promise<boolean> {
    const u = this.users.get(name);
    if (!u) return false;
    Object.assign(u, copy(set));
    return true;
  }

  async deleteUser(name: string): Promise<boolean> {
    await this.clearInbox(name);
    return this.users.delete(name);
  }

  async clearInbox(name: string): Promise<void> {
    for (const k of [...this.inbox]) if (k.startsWith(`${name}\u0000`)) this.inbox.delete(k);
  }

  async findTextByReq(req: string): Promise<TextDoc | null> {
    for (const t of this.texts.values()) if (t.req === req) return copy(t);
    return null;
  }

  async insertText(text: TextDoc, owed: string[]): Promise<void> {
    await this.addInbox(owed.map((user) => ({ user, seq: text._id })));
    if (!this.texts.has(text._id)) this.texts.set(text._id, copy(text));
  }

  /** As Store.storeText: a text whose request key is stored already is not stored again (the stored one is returned). */
  async storeText(text: TextDoc, owed: string[]): Promise<{ stored: boolean; text: TextDoc }> {
    const before = await this.findTextByReq(text.req);
    const doc = before ?? text;
    if (!before) this.texts.set(text._id, copy(text));
    await this.addInbox(owed.map((user) => ({ user, seq: doc._id })));
    return { stored: !before, text: doc };
  }

  async addInbox(entries: InboxDoc[]): Promise<void> {
    for (const e of entries) this.inbox.add(`${e.user}\u0000${e.seq}`);
  }

  async pendingTexts(user: string, limit: number): Promise<{ texts: TextDoc[]; more: boolean; missing: number[] }> {
    const seqs = [...this.inbox].filter((k) => k.startsWith(`${user}\u0000`)).map((k) => Number(k.split('\u0000')[1])).sort((a, b) => a - b);
    const mine = seqs.slice(0, limit);
    return {
      texts: mine.filter((s) => this.texts.has(s)).map((s) => copy(this.texts.get(s)!)),
      more: seqs.length > limit,
      missing: mine.filter((s) => !this.texts.has(s)),
    };
  }

  async removeInbox(user: string, seqs: number[]): Promise<void> {
    for (const s of seqs) this.inbox.delete(`${user}\u0000${s}`);
  }

  async lastTexts(subjects: string[], n: number): Promise<TextDoc[]> {
    return [...this.texts.values()].filter((t) => subjects.includes(t.subject)).slice(-n).map(copy);
  }

  async saveReply(key: string, reply: object, at: number): Promise<void> {
    this.requests.set(key, { _id: key, reply: copy(reply), at });
  }

  async recentReplies(since: number): Promise<RequestDoc[]> {
    return [...this.requests.values()].filter((r) => r.at >= since).map(copy);
  }

  async saveContact(c: ContactDoc): Promise<void> {
    const old = this.contacts.get(c._id);
    this.contacts.set(c._id, { ...copy(c), at: Math.max(c.at, old?.at ?? 0) });
  }

  async removeContact(id: string): Promise<void> {
    this.contacts.delete(id);
  }

  async loadContacts(since: number, limit: number): Promise<ContactDoc[]> {
    return [...this.contacts.values()].filter((c) => c.at >= since).sort((a, b) => b.at - a.at).slice(0, limit).map(copy);
  }

  async purgeContacts(before: number): Promise<number> {
    let n = 0;
    for (const [id, c] of this.contacts) if (c.at < before && this.contacts.delete(id)) n++;
    return n;
  }

  async countUsers(): Promise<number> {
    return this.users.size;
  }

  async storeId(): Promise<string> {
    return 'memory-store-id-0123';
  }
}
