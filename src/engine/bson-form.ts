/**
 * The one form the engine holds documents in: decoded with BSON's number
 * wrappers kept (so an int64 or a double stays one), then the wrappers a JS
 * number represents losslessly turned into plain numbers (compactNumbers).
 * Documents from the wire, from the journal and from a record's stored
 * bytes all take this form.
 */
import { deserialize } from 'bson';
import { compactNumbers } from './query/normalize.js';
import type { Doc } from './query/paths.js';

/** bson.deserialize options: number wrappers and BSON regular expressions kept. */
export const DESERIALIZE = { promoteValues: false, bsonRegExp: false } as const;

/** The document whose BSON bytes start at `off` in `buf`, in the engine's form. */
export function decodeDocument(buf: Uint8Array, off = 0): Doc {
  return compactNumbers(deserialize(buf, { ...DESERIALIZE, index: off, allowObjectSmallerThanBufferSize: true })) as Doc;
}
