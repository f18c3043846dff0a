/**
 * Fitting replies into a pickle client's receive buffer: it reads with
 * recvfrom(1024), so a longer datagram is cut and fails to unpickle. Sizes
 * come from pickledSize, which is exact for writePickle's output.
 *
 * Rules (deterministic, documented in dialect.ts):
 * - A string field that can grow with user input (an echoed TEXT, or the one
 *   text of a RETRIEVE-SUCCESS that cannot fit even alone) is cut at a UTF-8
 *   character boundary and ends with TRUNCATION_MARK.
 * - A SUBJECT-LIST loses whole trailing subjects, never half a subject.
 */
import { ProtocolError } from '../../errors';
import { LIMITS } from '../limits';
import { type PickleInput, pickledSize } from './writer';

/** Appended to a text that had to be cut (ASCII, so any client terminal can print it). */
export const TRUNCATION_MARK = '...';

/** True when `value` pickles within a pickle client's 1024-byte receive buffer. */
export function fitsReply(value: PickleInput): boolean {
  return pickledSize(value) <= LIMITS.maxPickleReply;
}

/** The longest prefix of `s` whose UTF-8 form has at most `maxBytes` bytes, cut between characters. */
function cutUtf8(s: string, maxBytes: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = Math.max(0, maxBytes);
  // Step back over continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.toString('utf8', 0, end);
}

function noRoom(what: string): never {
  throw new ProtocolError('RSS_TOO_LARGE', `pickle reply: ${what} cannot fit in ${LIMITS.maxPickleReply} bytes`);
}

/**
 * `make(text)` if it fits; otherwise `make` of `text` cut to fit, followed by
 * TRUNCATION_MARK. Throws RSS_TOO_LARGE when even an empty text does not fit.
 */
export function fitText(make: (text: string) => PickleInput, text: string, what: string): PickleInput {
  const full = make(text);
  if (fitsReply(full)) return full;
  // BINUNICODE has a fixed 4-byte length, so the size grows by exactly the text's byte length.
  const room = LIMITS.maxPickleReply - pickledSize(make('')) - TRUNCATION_MARK.length;
  if (room < 0) noRoom(what);
  return make(cutUtf8(text, room) + TRUNCATION_MARK);
}

/** `make(subjects joined by ",")` keeping the longest prefix of whole subjects that fits. */
export function fitSubjectList(make: (list: string) => PickleInput, subjects: readonly string[]): PickleInput {
  const full = make(subjects.join(','));
  if (fitsReply(full)) return full;
  const room = LIMITS.maxPickleReply - pickledSize(make(''));
  if (room < 0) noRoom('SUBJECT-LIST reply');
  let list = '';
  for (const s of subjects) {
    const next = list === '' ? s : `${list},${s}`;
    if (Buffer.byteLength(next, 'utf8') > room) break;
    list = next;
  }
  return make(list);
}
