/**
 * Which texts a user is owed: one rule over the log, used alike by pushes
 * (judged at fan-out, in sequence order), by delivery's reloads and by
 * RETRIEVE-TEXTS, so pushes and the log always agree.
 *
 * Text `t` is owed to user `u` when t.subject ∈ u.subjects, t.from ≠ u and
 * t._id > max(cursor(u), since(u, t.subject)) — and it is read from the log
 * only up to the visible line (Sequencer.visibleLine).
 */
import type { SubjectSince, TextDoc, UserDoc } from '../store/documents';
import type { OwedFrom, StorePort } from './store-port';

/** The highest number issued when `user` added `subject` (0 when it holds no entry: a migrated or older document). */
function sinceOf(user: UserDoc, subject: string): number {
  return user.since?.find((e) => e.subject === subject)?.seq ?? 0;
}

/** The number above which texts on `subject` are owed to `user`. */
export function owedAfter(user: UserDoc, cursor: number, subject: string): number {
  return Math.max(cursor, sinceOf(user, subject));
}

/** Per current subject, where the texts owed start (Store.owedTexts). */
export function owedFrom(user: UserDoc, cursor: number): OwedFrom[] {
  return user.subjects.map((subject) => ({ subject, after: owedAfter(user, cursor, subject) }));
}

/**
 * At fan-out (in sequence order): is this new text owed to `user`, one of
 * the users interested in its subject? Only by `since`: a new text is above
 * every cursor (cursors never pass the visible line).
 */
export function owedAtFanOut(user: UserDoc, seq: number, subject: string): boolean {
  return seq > sinceOf(user, subject);
}

/**
 * `since` for a new list of subjects: kept subjects keep theirs, added ones
 * start at `issued` (the highest number issued so far: texts numbered above
 * it are owed), dropped ones lose theirs.
 */
export function sinceFor(user: UserDoc, subjects: readonly string[], issued: number): SubjectSince[] {
  const before = new Map((user.since ?? []).map((e) => [e.subject, e.seq]));
  const had = new Set(user.subjects);
  return subjects.map((subject) => ({ subject, seq: had.has(subject) ? (before.get(subject) ?? 0) : issued }));
}

/** What reading a user's owed texts needs. */
export interface OwedSources {
  readonly store: { owedTexts: StorePort['owedTexts'] };
  readonly directory: { get(name: string): UserDoc | undefined };
  readonly cursors: { get(name: string): number };
  readonly sequencer: { readonly visibleLine: number };
}

/**
 * The oldest `limit` texts owed to `name` now, up to the visible line (the
 * line is taken before the read: a text stored after it is announced by its
 * fan-out, in order). A text the user received while the read was out (a
 * push, which moved its cursor) is left out: given twice, a canonical text
 * or pickle client would show it twice.
 *
 * `line`: when the read found nothing owed at all, the visible line it read
 * up to, to which the caller moves the user's cursor (skipToLine): every
 * text up to it is received or was never owed (the user's own, published
 * before it subscribed), and a later read need not walk them again (a user
 * that mostly publishes on its own subject would else examine every one of
 * its texts on each read). Safe: nothing below the visible line can be
 * stored later, and a subject added meanwhile is owed from above it.
 */
export async function readOwed(src: OwedSources, name: string, limit: number): Promise<{ texts: TextDoc[]; more: boolean; line?: number }> {
  const user = src.directory.get(name);
  if (!user) return { texts: [], more: false };
  const upTo = src.sequencer.visibleLine;
  const read = await src.store.owedTexts(owedFrom(user, src.cursors.get(name)), upTo, limit, name);
  const cursor = src.cursors.get(name);
  const texts = read.texts.filter((t) => t._id > cursor);
  return texts.length === 0 && !read.more ? { texts, more: false, line: upTo } : { texts, more: read.more };
}

/** After a read that found nothing owed: the user's cursor moves to the read's line (written coalesced). */
export function skipToLine(cursors: { advance(user: string, seq: number): void }, name: string, read: { line?: number }): void {
  if (read.line !== undefined) cursors.advance(name, read.line);
}
