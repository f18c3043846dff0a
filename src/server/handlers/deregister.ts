import type { Handler } from '../context';
import { refusal } from './access';

/**
 * DE-REGISTER: removes the user and everything about it; pushes to it end.
 * A canonical text client's confirmation goes to the user's own address
 * only, whatever the request's source: it never reflects to a stranger.
 */
export const deregister: Handler<'DE-REGISTER'> = async (ctx, req) => {
  const { core } = ctx;
  const user = core.directory.get(req.name);
  const why = refusal(ctx, user);
  if (why) return [{ type: 'DE-REGISTER-DENIED', rq: req.rq, name: req.name, reason: why }];
  core.servingEpoch();
  await core.store.deleteUser(req.name);
  core.directory.delete(req.name);
  core.delivery.forget(req.name);
  core.cursors.forget(req.name);
  core.guard.forgetUser(req.name);
  if (ctx.dialect === 'text' && user) ctx.replyTo = user;
  return [{ type: 'DE-REGISTERED', rq: req.rq, name: req.name }];
};
