import { checkSubjects } from '../../protocol/limits';
import type { Handler } from '../context';
import { refusal } from './access';

/** SUBJECTS: replaces the user's list of subjects of interest (duplicates folded, order kept). */
export const subjects: Handler<'SUBJECTS'> = async (ctx, req) => {
  const { core } = ctx;
  const user = core.directory.get(req.name);
  const list = [...new Set(req.subjects)];
  const why = refusal(ctx, user) ?? checkSubjects(list);
  if (why || !user) return [{ type: 'SUBJECTS-REJECTED', rq: req.rq, name: req.name, subjects: req.subjects, reason: why ?? 'unknown name' }];
  core.servingEpoch();
  await core.store.updateUser(req.name, { subjects: list });
  core.directory.set({ ...user, subjects: list });
  return [{ type: 'SUBJECTS-UPDATED', rq: req.rq, name: req.name, subjects: list }];
};
