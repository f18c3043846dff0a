import type { Handler } from '../context';
import { refusal } from './access';

/** WHO (native): registered users sharing a subject with the asker; names and online flags only, never addresses. */
export const who: Handler<'WHO'> = async (ctx, req) => {
  const { core } = ctx;
  const user = core.directory.get(req.name);
  const why = refusal(ctx, user) ?? (user && user.key === undefined ? 'only authenticated native users may ask' : undefined);
  if (why || !user) return [{ type: 'WHO-DENIED', rq: req.rq, name: req.name, reason: why ?? 'unknown name' }];
  const names = new Set<string>();
  for (const s of user.subjects) for (const u of core.directory.interested(s, req.name)) names.add(u._id);
  const users = [...names].sort().map((name) => ({ name, online: core.online(name) }));
  return [{ type: 'WHO-LIST', rq: req.rq, name: req.name, users }];
};
