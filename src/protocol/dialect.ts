/**
 * What the server needs of a wire dialect. The legacy dialects (canonical
 * text, pickle) implement it directly; the native dialect adds an
 * envelope and a MAC and is handled through native.ts.
 */
import type { DialectName, Push, Reply, Request, RetrievedReply } from './messages';

export interface Dialect {
  readonly name: DialectName;
  /**
   * Decode one request datagram (user → server). Throws ProtocolError; when
   * the type and RQ# were readable the error carries them in `partial`, so
   * the server can answer with the matching denial.
   */
  decodeRequest(bytes: Uint8Array): Request;
  /** Encode what a server sends. Returns [] when the dialect has no such message (nothing is sent). */
  encode(msg: Reply | Push): Buffer[];
  /**
   * How many of `reply.texts` (a prefix) fit in this dialect's reply limit.
   * The server sends only those and leaves the rest unseen: nothing is lost.
   */
  fitRetrieved(reply: RetrievedReply): number;
}

/** Which dialect a datagram speaks, from its first byte; undefined when none. */
export function detectDialect(bytes: Uint8Array): DialectName | undefined {
  const first = bytes[0];
  if (first === undefined) return undefined;
  if (first === 0x80) return 'pickle';
  if (first === 0xa7) return 'native';
  if (first >= 0x41 && first <= 0x5a) return 'text';
  return undefined;
}
