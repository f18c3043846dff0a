/**
 * Wire limits, in one place. Codecs enforce them on decode; the server
 * enforces the semantic ones (name and subject syntax) in its handlers.
 */
export const LIMITS = {
  /** Largest datagram any dialect accepts (text and pickle clients may send up to this). */
  maxDatagram: 4096,
  /** Largest native datagram, so it never fragments on a 1280-byte IPv6 path. */
  maxNativeDatagram: 1200,
  /** Native requests are padded to this size: 3× it covers the largest native reply (anti-amplification). */
  minNativeRequest: 400,
  /** Registered users a server accepts (the directory is memory keyed by names others chose). */
  maxUsers: 100_000,
  /** Users of the legacy dialects one address may hold (their pushes share its budget; they cannot prove it). */
  maxLegacyUsersPerAddress: 4,
  /** Pickle clients read replies with recvfrom(1024). */
  maxPickleReply: 1024,
  maxNameLength: 32,
  maxSubjectLength: 32,
  maxSubjects: 32,
  /**
   * The longest text a PUBLISH may carry (UTF-8 bytes): one text always fits
   * one pickle reply of 1,024 bytes, with the longest names and subject and
   * the largest RQ# (a RETRIEVE-SUCCESS of one post with its MORE flag takes
   * 231 bytes besides the text; test/protocol/pickle-dialect.test.ts checks it).
   */
  maxTextBytes: 790,
  /**
   * What decoders accept in a text field: more than a PUBLISH may carry,
   * because texts stored when the limit was 900 bytes must still decode.
   */
  maxTextField: 900,
  /** RQ# is an unsigned 32-bit number in every dialect. */
  maxRq: 0xffffffff,
  /** RETRIEVE-TEXTS --last N. */
  maxRetrieveLast: 1000,
  /** Native RETRIEVED datagrams one RETRIEVE-TEXTS may be answered with (the client asks with `parts`). */
  maxRetrieveParts: 16,
  /** Servers in a ring (`rss demo --servers N` goes to 9; a ring list must fit one native datagram). */
  maxRingSize: 16,
} as const;

/** Names: letters, digits, `_ . -`; must start with a letter or digit. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** Subjects follow the same rule (no spaces or commas: both dialects use them as separators). */
const SUBJECT_PATTERN = NAME_PATTERN;

/** Why a name is invalid, or undefined when it is fine. */
export function checkName(name: string): string | undefined {
  if (name.length === 0) return 'name is empty';
  if (name.length > LIMITS.maxNameLength) return `name longer than ${LIMITS.maxNameLength} characters`;
  if (!NAME_PATTERN.test(name)) return 'name may hold only ASCII letters and digits, "_", "." and "-" (starting with a letter or digit)';
  return undefined;
}

/** Why a subject list is invalid, or undefined when it is fine. */
export function checkSubjects(subjects: readonly string[]): string | undefined {
  if (subjects.length > LIMITS.maxSubjects) return `more than ${LIMITS.maxSubjects} subjects`;
  for (const s of subjects) {
    if (s.length === 0 || s.length > LIMITS.maxSubjectLength || !SUBJECT_PATTERN.test(s)) {
      return `invalid subject "${s.slice(0, 40)}"`;
    }
  }
  return undefined;
}

/** How long a server keeps an answer for retransmissions by default (ms): no client sends a request again later than that. */
export const DEFAULT_REPLY_LIFETIME_MS = 120_000;

/**
 * How long a PUBLISH's answer stays in memory (ms): the native client's
 * exchange lifetime, past which it sends that request no more. A later copy
 * (a legacy client's, or after a takeover) is answered from the text stored
 * under its request key, which is kept the whole reply lifetime. A busy server
 * answers thousands of PUBLISHes a second: kept two minutes, their answers
 * were about half of the heap every full collection had to mark.
 */
export const PUBLISH_ANSWER_MEMORY_MS = 10_000;
