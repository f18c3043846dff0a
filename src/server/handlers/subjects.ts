import { checkSubjects } from '../../protocol/limits';
import type { Handler } from '../context';
import { refusal } from './access';
import { sinceFor } from '../owed';
import type { UserDoc } from '../../store/documents';

/**
 * SUBJECTS: replaces the user's list of subjects of interest (duplicates
 * folded, order kept). An added subject is owed only the texts numbered
 * after now; a dropped one's owed texts are owed no more.
 *
 * Fan-out judges who is owed a text from the directory when the text is
 * released, so the directory must know an added subject from the very turn
 * its `since` is taken: a text numbered above it and released while the
 * write is out is owed, and pushed. Until the write is stored, the entry
 * holds the old and the new subjects together (dropped ones keep their
 * line): whatever the outcome, no text owed under it is skipped by a push
 * that moves the cursor past it. A failed write restores the old entry (at
 * worst a text on an added subject went out: shown, not lost).
 */
export const subjects: Handler<'SUBJECTS'> = async (ctx, req) => {
  const { core } = ctx;
  const user = core.directory.get(req.name);
  const list = [...new Set(req.subjects)];
  const why = refusal(ctx, user) ?? checkSubjects(list);
  if (why || !user) return [{ type: 'SUBJECTS-REJECTED', rq: req.rq, name: req.name, subjects: req.subjects, reason: why ?? 'unknown name' }];
  core.servingEpoch();
  const both = [...new Set([...list, ...user.subjects])];
  const meanwhile = { ...user, subjects: both, since: sinceFor(user, both, core.sequencer.issued) };
  const since = meanwhile.since.filter((e) => list.includes(e.subject));
  core.directory.set(meanwhile);
  // Onto the entry as it is then (a CHALLENGE may have proved the address meanwhile).
  const settle = (to: Pick<UserDoc, 'subjects' | 'since'>) => {
    const now = core.directory.get(req.name);
    if (now) core.directory.set({ ...now, ...to });
  };
  try {
    await core.store.updateUser(req.name, { subjects: list, since });
    settle({ subjects: list, since });
  } catch (err) {
    settle({ subjects: user.subjects, since: user.since ?? [] });
    throw err;
  } finally {
    // Its stream may hold texts on a subject no longer its own: read again from the log (pickle users are never pushed).
    if (user.dialect !== 'pickle') core.delivery.resume(req.name);
  }
  return [{ type: 'SUBJECTS-UPDATED', rq: req.rq, name: req.name, subjects: list }];
};
