import { LIMITS } from '../../protocol/limits';
import type { Reply } from '../../protocol/messages';
import { toStoredText } from '../delivery';
import type { Handler } from '../context';
import { refusal } from './access';

/**
 * RETRIEVE-TEXTS: the texts on the user's current subjects that it has not
 * received yet, in publication order, as many as fit in one reply (`more`
 * says others remain; nothing is marked received that was not sent). With
 * `last: N`: the N most recent texts on its subjects, seen or not (seed 001).
 */
export const retrieve: Handler<'RETRIEVE-TEXTS'> = async (ctx, req) => {
  const { core } = ctx;
  const user = core.directory.get(req.name);
  const why = refusal(ctx, user);
  if (why || !user) return [{ type: 'RETRIEVE-DENIED', rq: req.rq, name: req.name, reason: why ?? 'unknown name' }];
  if (req.last !== undefined) {
    const texts = (await core.store.lastTexts(user.subjects, req.last)).map(toStoredText);
    const reply = { type: 'RETRIEVED' as const, rq: req.rq, name: req.name, texts, more: false };
    const fit = ctx.fitRetrieved(reply);
    return [{ ...reply, texts: texts.slice(texts.length - fit), more: fit < texts.length }];
  }
  core.servingEpoch();
  const wanted = new Set(user.subjects);
  // Read about what one reply can carry (a native or pickle datagram holds at most ~20 of the smallest texts;
  // the text dialect sends one datagram per text), and read further only when all of it fits and more is owed.
  let limit = ctx.dialect === 'text' ? LIMITS.maxRetrieveLast : FIRST_READ;
  for (;;) {
    const pending = await core.store.pendingTexts(req.name, limit);
    // Texts at or above the watermark are not visible yet (a lower one is still being stored): they come later, in order.
    // An owed row whose text is not found is never dropped here: the watermark cannot tell it from a text being stored.
    const { shown: texts, heldBack } = core.sequencer.visible(pending.texts);
    const more = pending.more || heldBack;
    // Texts on subjects the user dropped are no longer owed to it.
    const dropped = texts.filter((t) => !wanted.has(t.subject)).map((t) => t._id);
    const relevant = texts.filter((t) => wanted.has(t.subject)).map(toStoredText);
    const reply = { type: 'RETRIEVED' as const, rq: req.rq, name: req.name, texts: relevant, more };
    const fit = ctx.fitRetrieved(reply);
    if (fit === relevant.length && pending.more && !heldBack && limit < LIMITS.maxRetrieveLast) {
      limit = Math.min(limit * 8, LIMITS.maxRetrieveLast);
      continue;
    }
    const sent = relevant.slice(0, fit);
    const done = [...dropped, ...sent.map((t) => t.seq)];
    // `more` only with texts: the client stops at an empty reply (the held-back ones are pushed or retrieved later).
    const answer: Reply = { ...reply, texts: sent, more: sent.length > 0 && (more || fit < relevant.length) };
    // The answer is recorded before the texts count as received: a retransmission gets the same texts, never a loss.
    await ctx.remember([answer]);
    await core.store.removeInbox(req.name, done);
    core.delivery.retrieved(req.name, done);
    return [answer];
  }
};

/** Owed rows read first for a native or pickle reply: more than the smallest texts that fit in one datagram. */
const FIRST_READ = 24;
