/**
 * What the store keeps of an answer (`requests`, for a retransmission that
 * reaches the other server after a handoff or crash) and how a takeover
 * reads it back into the reply cache. A native answer is kept as its
 * datagrams only (MACed with the user's key: the other server could not make
 * them again); the store gives those back as BSON binary, or as base64 from
 * versions that wrote them so.
 */
import type { Reply } from '../protocol/messages';
import type { RequestDoc } from '../store/documents';
import type { ReplyCache } from './reply-cache';

/** The answer recorded for a request (native: with the datagrams sent). */
export interface Recorded {
  replies?: Reply[];
  wire?: Buffer[];
}

/** The document body stored for a recorded answer. */
export function replyRecord(recorded: Recorded): object {
  return recorded.wire ? { wire: recorded.wire } : { replies: recorded.replies! };
}

/** A recorded native datagram as the store gives it back: BSON binary (or base64, as older versions wrote it). */
type RecordedDatagram = string | Uint8Array | { buffer: Uint8Array };

/** Put the answers recorded in the store back into `cache`, each at the time it was recorded. */
export function restoreReplies(cache: ReplyCache, records: readonly RequestDoc[]): void {
  for (const r of records) {
    const rec = r.reply as { replies?: Reply[]; wire?: RecordedDatagram[] };
    cache.set(r._id, rec.replies ?? [], r.at, rec.wire?.map(datagramOf));
  }
}

function datagramOf(w: RecordedDatagram): Buffer {
  if (typeof w === 'string') return Buffer.from(w, 'base64');
  const bytes = w instanceof Uint8Array ? w : w.buffer;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
