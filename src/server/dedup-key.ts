/**
 * The de-duplication key under which a request's reply is cached and
 * stored, so that a retransmission is answered again and never executed
 * twice, on either server.
 */
import { digestBase64url } from '../protocol/mac';
import type { DialectName } from '../protocol/messages';
import type { Address } from '../transport/types';

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
