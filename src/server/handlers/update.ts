import type { Handler } from '../context';
import { effectiveHost, refusal } from './access';

/** UPDATE: a new address for the user; pushes go there from now on. */
export const update: Handler<'UPDATE'> = async (ctx, req) => {
  const { core } = ctx;
  const user = core.directory.get(req.name);
  const why = refusal(ctx, user);
  if (why || !user) {
    return [{ type: 'UPDATE-DENIED', rq: req.rq, name: req.name, reason: why ?? 'unknown name', host: req.host, port: req.port }];
  }
  const host = effectiveHost(ctx, req.host);
  core.servingEpoch();
  await core.store.updateUser(req.name, { host, port: req.port });
  core.directory.set({ ...user, host, port: req.port });
  core.delivery.heardFrom(req.name);
  return [{ type: 'UPDATE-CONFIRMED', rq: req.rq, name: req.name, host, port: req.port }];
};
