/**
 * Replies of executed requests, by de-duplication key, so a retransmitted
 * request is answered again without being executed twice. Bounded in size
 * (oldest evicted first) and in age; the store keeps a copy so the other
 * server can answer a retransmission that reaches it after a handoff or crash.
 */
import type { Reply } from '../protocol/messages';

export interface CachedReply {
  replies: Reply[];
  at: number;
  /** Native: the exact datagrams sent (MACed with the user's key, which the server may no longer hold). */
  wire?: Buffer[];
  /** Of an answer in several datagrams: where its next repetition starts (the first one a budget held back). */
  resume?: number;
}

export class ReplyCache {
  private readonly entries = new Map<string, CachedReply>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxAge: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): Reply[] | undefined {
    return this.getEntry(key, now)?.replies;
  }

  /** The whole entry (replies and, for native requests, the datagrams). */
  getEntry(key: string, now: number): CachedReply | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now - e.at > this.maxAge) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  set(key: string, replies: Reply[], at: number, wire?: Buffer[]): void {
    this.entries.delete(key);
    this.entries.set(key, wire ? { replies, at, wire } : { replies, at });
    // Maps iterate in insertion order: the first key is the oldest.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }
}
