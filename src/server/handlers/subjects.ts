import { checkSubjects } from '../../protocol/limits';
import type { Handler } from '../context';
import { refusal } from './access';
import { sinceFor } from '../owed';

/**
 * SUBJECTS: replaces the user's list of subjects of interest (duplicates
 * folded, order kept). An added subject is owed only the texts numbered
 * after now; a dropped one's owed texts are owed no more.
 */
export const subjects: Handler<'SUBJECTS'> = async (ctx, req) => {
  const { core } = ctx;
  const user = core.directory.get(req.name);
  const list = [...new Set(req.subjects)];
  const why = refusal(ctx, user) ?? checkSubjects(list);
  if (why || !user) return [{ type: 'SUBJECTS-REJECTED', rq: req.rq, name: req.name, subjects: req.subjects, reason: why ?? 'unknown name' }];
  core.servingEpoch();
  const since = sinceFor(user, list, core.sequencer.issued);
  await core.store.updateUser(req.name, { subjects: list, since });
  core.directory.set({ ...user, subjects: list, since });
  // Its stream may hold texts on a dropped subject: read again from the log (pickle users are never pushed).
  if (user.dialect !== 'pickle') core.delivery.resume(req.name);
  return [{ type: 'SUBJECTS-UPDATED', rq: req.rq, name: req.name, subjects: list }];
};
