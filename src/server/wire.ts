/**
 * The server's side of the dialects: decoding a datagram into a request in
 * whatever dialect it speaks, and encoding replies and pushes back into it.
 */
import { LIMITS } from '../protocol/limits';
import { digestBase64url } from '../protocol/mac';
import type { DialectName, RetrievedReply } from '../protocol/messages';
import { MAC_BYTES, encodeNative } from '../protocol/native';
import type { Address } from '../transport/types';

/** Native replies hold as many texts as fit in one native datagram. */
export function nativeFitRetrieved(reply: RetrievedReply): number {
  // Room for the envelope (the echoed ctr and the epoch, `,"ctr":`/`,"ep":` and 16 digits each, `,"pv":1`) and the MAC on top of the JSON of the reply without texts.
  let size = encodeNative({ ...reply, texts: [] }).length + MAC_BYTES + 24 + 23 + 7;
  let n = 0;
  for (const t of reply.texts) {
    size += Buffer.byteLength(JSON.stringify(t)) + 1;
    if (size > LIMITS.maxNativeDatagram) break;
    n++;
  }
  return n;
}


/**
 * The de-duplication key of a request: who sent it (native client id, or
 * the source address for legacy dialects) and a digest of its exact bytes.
 * A retransmission repeats the bytes, so it maps to the same key; a legacy
 * client that reuses an RQ# for a different request gets a different key.
 */
export function dedupKey(dialect: DialectName, from: Address, cid: string | undefined, bytes: Uint8Array): string {
  const digest = digestBase64url('sha1', bytes).slice(0, 22);
  return dialect === 'native' && cid ? `n:${cid}:${digest}` : `${dialect[0]}:${from.host}:${from.port}:${digest}`;
}
