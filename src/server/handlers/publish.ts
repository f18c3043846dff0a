import { LIMITS } from '../../protocol/limits';
import { DENIAL_REASONS, type Reply } from '../../protocol/messages';
import { nativeTextSize } from '../../protocol/native';
import type { TextDoc } from '../../store/documents';
import type { Handler, ServerCore } from '../context';
import { toStoredText } from '../delivery';
import { owedAtFanOut } from '../owed';
import { refusal } from './access';
import { FencedError } from '../../errors';
import { sleep } from '../../util/clock';

/** Waits between attempts to settle a number in doubt while the store is away (ms). */
const SETTLE_WAITS = [100, 200, 400, 800, 1600];

/**
 * A text whose write failed in doubt: fence its number (Store.fenceOne), or
 * find the text stored after all. Stored: it fans out like any other.
 * Fenced: it never will be (its publisher was not answered and
 * retransmits; a fence has no subject, so no log read finds it). The number stays
 * open, holding back higher ones, until then; retried while this server
 * keeps the lease (if it loses it, the next holder's fence settles it).
 */
async function settleInDoubt(core: ServerCore, epoch: number, seq: number): Promise<void> {
  // While the lease is ours, even when the server may not act for a moment (its renewal is late: the store is
  // away): giving up then would leave the number open, holding back every higher one for the rest of the lease.
  const ours = () => core.stillHolds(epoch);
  for (let attempt = 0; ; attempt++) {
    if (!ours()) return;
    try {
      const stored = await core.store.fenceOne(seq, epoch);
      if (!ours()) return;
      if (stored) {
        core.sequencer.finish(seq, () => fanOut(core, stored));
        return;
      }
      core.sequencer.finish(seq);
      return;
    } catch (err) {
      core.faults.report('request', err, { settling: seq });
      await sleep(core.clock, SETTLE_WAITS[Math.min(attempt, SETTLE_WAITS.length - 1)]!);
    }
  }
}

/**
 * PUBLISH: denied unless the name is registered and the subject is in its
 * list. The text gets the next sequence number (allocation is fenced by the
 * lease epoch), is stored (one document, whatever its fan-out: who is owed
 * it is a rule over the log, server/owed.ts), and only then is the
 * publisher answered: nothing acknowledged can be lost. A
 * retransmission that finds its text already stored (by request key) is
 * answered with the same sequence number and stores nothing new.
 */
export const publish: Handler<'PUBLISH'> = async (ctx, req) => {
  const { core } = ctx;
  const user = core.directory.get(req.name);
  const deny = (reason: string): Reply[] => [
    { type: 'PUBLISH-DENIED', rq: req.rq, name: req.name, subject: req.subject, text: req.text, reason },
  ];
  const published = (seq: number): Reply[] => [{ type: 'PUBLISHED', rq: req.rq, name: req.name, subject: req.subject, text: req.text, seq }];
  // A denial that depends on the user's state now: a copy of a PUBLISH stored before (its answer gone from
  // memory, which keeps it only briefly) is answered as it was, not judged again against a state that changed.
  const denyUnlessStored = async (reason: string): Promise<Reply[]> => {
    const before = await core.store.findTextByReq(ctx.key);
    return before ? published(before._id) : deny(reason);
  };
  if (!user) return denyUnlessStored('unknown name');
  const why = refusal(ctx, user);
  if (why) return deny(why);
  if (req.text.trim() === '') return deny('the text is empty: there is nothing to publish');
  if (!user.subjects.includes(req.subject)) return denyUnlessStored(`subject ${req.subject} is not in your list`);
  if (Buffer.byteLength(req.text) > LIMITS.maxTextBytes) return deny(`${DENIAL_REASONS.tooLarge}: more than ${LIMITS.maxTextBytes} bytes`);
  // Native users receive it in one MACed datagram of at most 1200 bytes, JSON escaping included.
  const size = nativeTextSize(req.name, req.subject, req.text);
  if (!size.fits) return deny(`${DENIAL_REASONS.tooLarge}: ${size.bytes} bytes once encoded, more than one ${LIMITS.maxNativeDatagram}-byte datagram`);

  const epoch = core.servingEpoch();
  const seq = await core.sequencer.next();
  const text: TextDoc = { _id: seq, from: req.name, subject: req.subject, text: req.text, at: Date.now(), req: ctx.key, epoch };
  let outcome;
  try {
    // Written together with the publishes that arrive meanwhile (group commit); no lookup first: the unique
    // index on the request key turns a retransmission into "stored before", answered with that text's number.
    outcome = await core.store.storeText(text);
  } catch (err) {
    // A refusal (the number is fenced) is final; a failure of the store leaves it in doubt: the text may be
    // stored. Until that is settled, higher numbers are not shown (they would be shown before it).
    if (err instanceof FencedError) core.sequencer.finish(seq);
    else void settleInDoubt(core, epoch, seq);
    throw err;
  }
  const doc = outcome.text;
  if (outcome.stored) {
    core.counters.published++;
    core.telemetry.stored({ seq: doc._id, name: doc.from, subject: doc.subject, text: doc.text, at: doc.at });
    // Pushed only once every lower sequence number is settled, so each user sees texts in order.
    core.sequencer.finish(seq, () => fanOut(core, doc));
  } else {
    // Stored before (the answer was lost, or the server died before answering): it fanned out then, or the log
    // owes it. The number allocated for this attempt is abandoned (no text will ever hold it).
    core.sequencer.finish(seq);
  }
  return published(doc._id);
};

/**
 * Announce the new text, in sequence order (the sequencer releases it once
 * every lower number is settled), to the users owed it judged NOW by the
 * log's rule (subject among theirs, numbered above its `since`), so pushes
 * and RETRIEVE-TEXTS agree. Native and canonical text users get it through
 * their ordered stream; pickle users only retrieve.
 */
function fanOut(core: ServerCore, doc: TextDoc): void {
  const text = toStoredText(doc);
  for (const u of core.directory.interested(doc.subject, doc.from)) {
    if (u.dialect !== 'pickle' && owedAtFanOut(u, doc._id, doc.subject)) core.delivery.owe(u._id, text);
  }
}
