import { checkName } from '../../protocol/limits';
import type { Handler } from '../context';
import { effectiveHost } from './access';

/**
 * REGISTER: names are unique. Registering again from the same client (same
 * native cid, or for legacy users the same address) is answered REGISTERED,
 * so a retransmission that reaches the other server after a crash is still
 * idempotent.
 */
export const register: Handler<'REGISTER'> = async (ctx, req) => {
  const { core } = ctx;
  const invalid = checkName(req.name);
  if (invalid) return [{ type: 'REGISTER-DENIED', rq: req.rq, name: req.name, reason: invalid }];
  const host = effectiveHost(ctx, req.host);
  const existing = core.directory.get(req.name);
  if (existing) {
    const same = existing.cid !== undefined
      ? existing.cid === ctx.cid
      : ctx.cid === undefined && existing.host === host && existing.port === req.port;
    return same
      ? [{ type: 'REGISTERED', rq: req.rq, name: req.name }]
      : [{ type: 'REGISTER-DENIED', rq: req.rq, name: req.name, reason: 'name already in use' }];
  }
  core.servingEpoch();
  // Rows owed to an earlier user of this name (a publish racing its de-registration) are not this user's.
  await core.store.clearInbox(req.name);
  const user = {
    _id: req.name, host, port: req.port, dialect: ctx.dialect, subjects: [] as string[],
    createdAt: Date.now(), ...(ctx.cid !== undefined ? { cid: ctx.cid } : {}),
  };
  if (!(await core.store.insertUser(user))) {
    return [{ type: 'REGISTER-DENIED', rq: req.rq, name: req.name, reason: 'name already in use' }];
  }
  core.directory.set(user);
  return [{ type: 'REGISTERED', rq: req.rq, name: req.name }];
};
