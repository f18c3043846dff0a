/**
 * The canonical text dialect of RSS: one space-separated line per
 * datagram, as the existing text clients speak it. Requests are decoded
 * tolerantly (NUL-terminated buffers, trailing CR/LF/spaces, runs of
 * spaces, Java's `host/1.2.3.4` addresses);
 * replies are encoded in exactly one form. Pure: no I/O, no logging.
 *
 * The lexer lives in text-lex.ts, requests in text-request.ts, server → user
 * messages in text-reply.ts; this module is the public face.
 */
import type { Dialect } from './dialect';
import type { RetrievedReply } from './messages';
import { decodeTextRequest, encodeTextRequest } from './text-request';
import { decodeTextMessage, decodeTextReplies, encodeTextReply, textProjection } from './text-reply';

export { decodeTextRequest, encodeTextRequest, decodeTextMessage, decodeTextReplies, encodeTextReply, textProjection };

/** The text dialect as the server uses it. */
export const textDialect: Dialect = {
  name: 'text',
  decodeRequest: decodeTextRequest,
  encode: encodeTextReply,
  /** Every text travels in its own MESSAGE datagram (at most ~1 KB each), so all of them fit. */
  fitRetrieved: (reply: RetrievedReply): number => reply.texts.length,
};
