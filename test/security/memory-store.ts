/**
 * An in-memory store implementing the server's StorePort with the semantics the server relies on
 * (unique names, cursors that only go up, text de-duplication by request key,
 * a fenced lease), so the fuzz test can push a hundred thousand datagrams
 * through a real RssServer without a database, and compare snapshots.
 */
import type { ServerTag } from '../../src/protocol/messages';
import type { ContactDoc, LeaseDoc, RequestDoc, TextDoc, UserDoc } from '../../src/store/documents';
import type { OwedFrom, StorePort } from '../../src/server/store-port';
import type { RetentionMark } from '../../src/server/retention';

const copy = <T>(v: T): T => structuredClone(v);

export class MemoryStore implements StorePort {
  users = new Map<string, UserDoc>();
  texts = new Map<number, TextDoc>();
  requests = new Map<string, RequestDoc>();
  lease: LeaseDoc | null = null;
  contacts = new Map<string, ContactDoc>();
  marks: RetentionMark[] = [];

  /** Everything stored, in a comparable form. */
  snapshot(): unknown {
    return copy({
      users: [...this.users.values()].sort((a, b) => a._id.localeCompare(b._id)),
      texts: [...this.texts.values()],
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

  async moveLease(from: ServerTag, epoch: number, to: ServerTag, beat?: number, settled?: number): Promise<LeaseDoc | null> {
    const l = this.lease;
    if (!l || l.holder !== from || l.epoch !== epoch || (beat !== undefined && l.beat !== beat)) return null;
    Object.assign(l, { holder: to, beat: 0, epoch: l.epoch + 1 });
    if (settled !== undefined) l.fence = Math.max(l.fence ?? 0, settled);
    return copy(l);
  }

  /** Store.fenceSeqs: nothing to fence here (one server, no paused earlier holder); the fence line while the lease is held. */
  async fenceSeqs(holder: ServerTag, epoch: number, block = 0): Promise<number | null> {
    const l = this.lease;
    if (!l || l.holder !== holder || l.epoch !== epoch) return null;
    const line = l.seq;
    l.fence = line;
    l.seq += block;
    return line;
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

  async loadCursors(): Promise<{ _id: string; cursor?: number }[]> {
    return [...this.users.values()].map((u) => ({ _id: u._id, cursor: u.cursor }));
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
    return this.users.delete(name);
  }

  /** As Store.saveCursors: `$max`, never creating a user. */
  async saveCursors(writes: { user: string; cursor: number }[]): Promise<void> {
    for (const w of writes) {
      const u = this.users.get(w.user);
      if (u) u.cursor = Math.max(u.cursor ?? 0, w.cursor);
    }
  }

  /** As Store.saveReplayMarks: `$max`, never creating a user. */
  async saveReplayMarks(marks: { user: string; ctrHigh: number }[]): Promise<void> {
    for (const m of marks) {
      const u = this.users.get(m.user);
      if (u) u.ctrHigh = Math.max(u.ctrHigh ?? 0, m.ctrHigh);
    }
  }

  async findTextByReq(req: string): Promise<TextDoc | null> {
    for (const t of this.texts.values()) if (t.req === req) return copy(t);
    return null;
  }

  /** As Store.storeText: a text whose request key is stored already is not stored again (the stored one is returned). */
  async storeText(text: TextDoc): Promise<{ stored: boolean; text: TextDoc }> {
    const before = await this.findTextByReq(text.req);
    const doc = before ?? text;
    if (!before) this.texts.set(text._id, copy(text));
    return { stored: !before, text: doc };
  }

  /** As Store.owedTexts. */
  async owedTexts(from: OwedFrom[], upTo: number, limit: number, exclude?: string): Promise<{ texts: TextDoc[]; more: boolean }> {
    const after = new Map(from.map((f) => [f.subject, f.after]));
    const all = [...this.texts.values()]
      .filter((t) => !t.fenced && t._id <= upTo && t.from !== exclude && after.has(t.subject) && t._id > after.get(t.subject)!)
      .sort((a, b) => a._id - b._id);
    return { texts: all.slice(0, limit).map(copy), more: all.length > limit };
  }

  async lastTexts(subjects: string[], n: number, before = Infinity): Promise<TextDoc[]> {
    if (n === 0) return [];
    return [...this.texts.values()].filter((t) => subjects.includes(t.subject) && t._id < before).sort((a, b) => a._id - b._id).slice(-n).map(copy);
  }

  async saveReply(key: string, reply: object, at: number): Promise<void> {
    this.requests.set(key, { _id: key, reply: copy(reply), at });
  }

  async recentReplies(since: number): Promise<RequestDoc[]> {
    return [...this.requests.values()].filter((r) => r.at >= since).map(copy);
  }

  async purgeReplies(before: number): Promise<number> {
    let n = 0;
    for (const [key, r] of this.requests) if (r.at < before && this.requests.delete(key)) n++;
    return n;
  }

  /** A ring's heartbeats: one server here, so nobody reads them. */
  async beatMember(): Promise<void> {}

  async readMemberBeats(): Promise<Map<ServerTag, number>> {
    return new Map();
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

  async textNumbers(subject: string, after: number, upTo: number, limit: number): Promise<number[]> {
    return [...this.texts.values()].filter((t) => t.subject === subject && t._id > after && t._id <= upTo).map((t) => t._id).sort((a, b) => a - b).slice(0, limit);
  }

  async deleteTexts(numbers: number[]): Promise<number> {
    let n = 0;
    for (const seq of numbers) if (this.texts.delete(seq)) n++;
    return n;
  }

  async nthNewest(subject: string, n: number): Promise<number> {
    const seqs = [...this.texts.values()].filter((t) => t.subject === subject).map((t) => t._id).sort((a, b) => b - a);
    return seqs[n - 1] ?? 0;
  }

  async retentionMarks(): Promise<RetentionMark[]> {
    return copy(this.marks);
  }

  async saveRetentionMarks(marks: RetentionMark[]): Promise<void> {
    this.marks = copy(marks);
  }

  async countTexts(): Promise<number> {
    return [...this.texts.values()].filter((t) => !t.fenced).length;
  }

  async countUsers(): Promise<number> {
    return this.users.size;
  }

  async storeId(): Promise<string> {
    return 'memory-store-id-0123';
  }
}
