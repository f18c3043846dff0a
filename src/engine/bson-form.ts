/**
 * The one form the engine holds documents in: decoded with BSON's number
 * wrappers kept (so an int64 or a double stays one), then the wrappers a JS
 * number represents losslessly turned into plain numbers (compactNumbers).
 * Documents from the wire, from the journal and from a record's stored
 * bytes all take this form.
 */
import { deserialize, type Document } from 'bson';
import { compactNumbers } from './query/normalize.js';
import type { Doc } from './query/paths.js';

/** bson.deserialize options: number wrappers and BSON regular expressions kept. */
export const DESERIALIZE = { promoteValues: false, bsonRegExp: false } as const;

/**
 * The document whose BSON bytes start at `off` in `buf`, in the engine's
 * form. Decoded from a copy of the bytes: a binary value would otherwise be
 * a view of `buf` (a collection's slab), pinning it and writing into it.
 */
export function decodeDocument(buf: Buffer, off = 0): Doc {
  const bytes = Buffer.from(buf.subarray(off, off + buf.readInt32LE(off)));
  return compactNumbers(deserialize(bytes, DESERIALIZE)) as Doc;
}

/** The document whose BSON bytes start at `off` in `buf`, with BSON's number wrappers (to be written again as the same bytes). */
export function decodeWrapped(buf: Buffer, off: number): Document {
  return deserialize(buf, { ...DESERIALIZE, index: off, allowObjectSmallerThanBufferSize: true });
}
