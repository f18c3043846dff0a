import { randomInt } from 'node:crypto';
import { LIMITS } from '../../protocol/limits';
import type { Reply, StoredText } from '../../protocol/messages';
import { toStoredText } from '../delivery';
import type { Handler, RequestContext } from '../context';
import { refusal } from './access';
import { readOwed, skipToLine } from '../owed';
import { NotServingError } from '../../errors';

/**
 * RETRIEVE-TEXTS: the texts on the user's current subjects that it has not
 * received yet, in publication order, as many as fit in one reply (`more`
 * says others remain; nothing is marked received that was not sent). A
 * native client may take the reply in several datagrams (`parts`), so a
 * hundred texts come back in one round trip. With `last: N`: the N most
 * recent texts on its subjects, seen or not (numbered below `before`, when
 * given: the client asks again for older ones when they did not all fit).
 *
 * With `seen` (the native client's highest seq shown, MACed with the
 * user's key) the texts up to it are received, and the answer marks nothing itself: the client asks until
 * an answer is empty, each ask saying what it showed. An answer lost, given
 * to a sealing the client no longer waits for, or worked out again by the
 * other server then costs no text. Without it (canonical text and pickle
 * clients), the texts sent count as received once the answer is recorded.
 */
export const retrieve: Handler<'RETRIEVE-TEXTS'> = async (ctx, req) => {
  const { core } = ctx;
  const user = core.directory.get(req.name);
  const why = refusal(ctx, user);
  if (why || !user) return [{ type: 'RETRIEVE-DENIED', rq: req.rq, name: req.name, reason: why ?? 'unknown name' }];
  const parts = ctx.replyParts(req.parts);
  const base = { type: 'RETRIEVED' as const, rq: req.rq, name: req.name };
  if (req.last !== undefined) {
    const texts = (await core.store.lastTexts(user.subjects, req.last, req.before)).map(toStoredText);
    // The most recent ones that fit: packed from the newest backwards, shown oldest first.
    const packed = pack(ctx, base, [...texts].reverse(), parts);
    const fitting = affordable(ctx, packed, (n) => answers(base, [packed[0]!.slice(0, n).reverse()], n < texts.length));
    const chunks = fitting.chunks.map((c) => c.reverse()).reverse();
    const sent = chunks.reduce((n, c) => n + c.length, 0);
    fitting.pay();
    return answers(base, chunks, sent < texts.length);
  }
  const epoch = core.servingEpoch();
  const term = core.term;
  // Believed only from the user itself (MACed with its key): anyone may name a legacy user, and must not empty its backlog.
  const seen = ctx.authed === user._id ? req.seen : undefined;
  if (seen !== undefined) {
    // What the client showed is received (never past the visible line: nothing above it was sent).
    const shown = Math.min(seen, core.sequencer.visibleLine);
    core.cursors.advance(req.name, shown);
    core.delivery.retrieved(req.name, shown);
  }
  // Read about what the answer can carry (a native or pickle datagram holds at most ~20 of the smallest texts;
  // the text dialect sends one datagram per text), and read further only when all of it fits and more is owed.
  let limit = ctx.dialect === 'text' ? LIMITS.maxRetrieveLast : FIRST_READ * parts;
  for (;;) {
    // The oldest owed texts, on the user's current subjects, up to the visible line (later ones come in order).
    const owed = await readOwed(core, req.name, limit);
    // The lease was given up while the log was read: what was read is not this term's to give or to mark.
    if (core.term !== term) throw new NotServingError('the lease was given up while the owed texts were read');
    // Nothing owed: the next read starts at this line, not at the user's own texts below it.
    skipToLine(core.cursors, req.name, owed);
    const texts = owed.texts.map(toStoredText);
    const packed = pack(ctx, base, texts, parts);
    const fitting = affordable(ctx, packed, (n) => answers(base, [packed[0]!.slice(0, n)], n > 0 && (owed.more || n < texts.length)));
    const chunks = fitting.chunks;
    const sent = chunks.flat();
    if (sent.length === texts.length && owed.more && limit < LIMITS.maxRetrieveLast) {
      limit = Math.min(limit * 8, LIMITS.maxRetrieveLast);
      continue;
    }
    // `more` only with texts: the client stops at an empty reply.
    const replies = answers(base, chunks, sent.length > 0 && (owed.more || sent.length < texts.length));
    fitting.pay();
    // The answer is recorded before the texts count as received: a retransmission gets the same texts, never a loss.
    ctx.remember(replies);
    // Asked with `seen`, the next ask says what of it was shown.
    if (sent.length === 0 || seen !== undefined) return replies;
    // They are the oldest owed, so "received" is the cursor at the last one sent.
    const upTo = sent[sent.length - 1]!.seq;
    core.delivery.retrieved(req.name, upTo);
    // Written at once (not coalesced): rare, and a pickle client cannot tell a text it is given twice.
    // Only while this lease lasts, without a break: a server paused after its answer may wake up after the next
    // holder (or itself, resuming the same epoch) loaded the recorded answers without this one, or before its
    // answer went out; a retransmission executed again there must still find these texts owed (the client
    // shows each seq once).
    ctx.afterReply.push(() => (core.holds(epoch) && core.term === term ? core.cursors.saveNow(req.name, upTo) : undefined));
    return replies;
  }
};

type RetrievedBase = { type: 'RETRIEVED'; rq: number; name: string };

/**
 * Split `texts` (in order) into at most `parts` datagrams, each as full as
 * the dialect allows; what does not fit stays for a later retrieve.
 */
function pack(ctx: RequestContext, base: RetrievedBase, texts: StoredText[], parts: number): StoredText[][] {
  const chunks: StoredText[][] = [];
  let rest = texts;
  // Sized with the part numbering on (it only makes each datagram a few bytes longer).
  // (`more: false` is the longer spelling.)
  const probe = parts > 1 ? { ...base, more: false, part: parts - 1, parts, answer: ANSWER_ID_MAX } : { ...base, more: false };
  while (rest.length > 0 && chunks.length < parts) {
    const fit = ctx.fitRetrieved({ ...probe, texts: rest });
    if (fit === 0) break;
    chunks.push(rest.slice(0, fit));
    rest = rest.slice(fit);
  }
  return chunks.length > 0 ? chunks : [[]];
}

/**
 * `chunks`, cut to what the source's budget can take now (a legacy address
 * cannot be proven: a spoofed RETRIEVE-TEXTS must not make a flood of it).
 * An unbudgeted answer is returned whole; a legacy one is a single chunk,
 * of which the first `n` texts are kept, for the largest `n` whose answer
 * (`answerOf(n)`) fits, and its bytes are taken from the budget at once, so
 * every text the answer carries goes out (what it leaves stays owed).
 */
function affordable(ctx: RequestContext, chunks: StoredText[][], answerOf: (n: number) => Reply[]): { chunks: StoredText[][]; pay(): void } {
  const budget = ctx.replyBudget();
  if (budget === Infinity || chunks.length !== 1) return { chunks, pay: () => {} };
  const texts = chunks[0]!;
  const size = (n: number) => ctx.replySize(answerOf(n));
  let n = texts.length;
  if (size(n) > budget) {
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (size(mid) <= budget) lo = mid;
      else hi = mid - 1;
    }
    n = lo;
  }
  const cost = size(n);
  // Not even the empty answer fits: nothing is prepaid, the budget drops the reply and the client asks again.
  if (cost > budget) return { chunks: [[]], pay: () => {} };
  return { chunks: [texts.slice(0, n)], pay: () => ctx.prepay(cost) };
}

/** The RETRIEVED datagrams of `chunks`: numbered `part` of `parts` when there are several. */
function answers(base: RetrievedBase, chunks: StoredText[][], more: boolean): Reply[] {
  if (chunks.length === 1) return [{ ...base, texts: chunks[0]!, more }];
  const answer = randomInt(ANSWER_ID_MAX);
  return chunks.map((texts, part) => ({ ...base, texts, more, part, parts: chunks.length, answer }));
}
/** Answer ids are random below this (a 32-bit number). */
const ANSWER_ID_MAX = 2 ** 32 - 1;

/** Owed texts read first for a native or pickle reply: more than the smallest texts that fit in one datagram. */
const FIRST_READ = 24;
