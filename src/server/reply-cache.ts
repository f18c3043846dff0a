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
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now - e.at > this.maxAge) {
      this.entries.delete(key);
      return undefined;
    }
    return e.replies;
  }

  set(key: string, replies: Reply[], at: number): void {
    this.entries.delete(key);
    this.entries.set(key, { replies, at });
    // Maps iterate in insertion order: the first key is the oldest.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }
}
