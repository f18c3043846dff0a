import { newNonce } from '../../protocol/auth';
import { LIMITS } from '../../protocol/limits';
import { DENIAL_REASONS, type Reply, type Request } from '../../protocol/messages';
import type { UserDoc } from '../../store/documents';
import type { Handler, RequestContext } from '../context';
import { sameAddress, type Address } from '../../transport/types';
import { effectiveHost, refusal } from './access';

/**
 * UPDATE: a new address for the user. Pushes go there only once it has
 * proved it receives: a native user's new address gets a CHALLENGE (MACed
 * with its key) that the client answers from there. A legacy address cannot
 * be proved: it gets pushes (within its budget) once it is the request's own
 * source, and one address holds at most a few legacy users.
 */
export const update: Handler<'UPDATE'> = async (ctx, req) => {
  const { core } = ctx;
  const user = core.directory.get(req.name);
  const why = refusal(ctx, user);
  if (why || !user) {
    return [{ type: 'UPDATE-DENIED', rq: req.rq, name: req.name, reason: why ?? 'unknown name', host: req.host, port: req.port }];
  }
  const host = effectiveHost(ctx, req.host);
  const at = { host, port: req.port };
  const moved = !sameAddress(at, user);
  const claimed = moved && user.dialect !== 'native';
  if (claimed && !core.directory.claimLegacy(at, req.name, LIMITS.maxLegacyUsersPerAddress)) {
    return [{ type: 'UPDATE-DENIED', rq: req.rq, name: req.name, reason: DENIAL_REASONS.crowdedAddress, host: req.host, port: req.port }];
  }
  try {
    return await move(ctx, req, user, at, moved);
  } finally {
    if (claimed) core.directory.releaseLegacy(at, req.name);
  }
};

/** Store the user's new address `at` and answer UPDATE-CONFIRMED. */
async function move(ctx: RequestContext, req: Extract<Request, { type: 'UPDATE' }>, user: UserDoc, at: Address, moved: boolean): Promise<Reply[]> {
  const { core } = ctx;
  const host = at.host;
  const set: Partial<Omit<UserDoc, '_id'>> = { host, port: req.port };
  if (user.key !== undefined) {
    if (moved || !user.addrOk) Object.assign(set, { addrOk: false, nonce: newNonce() });
    if (ctx.ctr !== undefined && ctx.ctr > (user.ctrHigh ?? 0)) set.ctrHigh = ctx.ctr;
  } else {
    // A legacy address other than the request's own is held (no pushes) until it speaks itself.
    set.addrOk = (!moved && user.addrOk === true) || sameAddress(at, ctx.from);
  }
  core.servingEpoch();
  await core.store.updateUser(req.name, set);
  const next: UserDoc = { ...user, ...set };
  core.directory.set(next);
  if (next.addrOk) {
    core.delivery.heardFrom(req.name);
  } else if (next.key !== undefined) {
    if (moved) core.guard.sendBudgets.received(at, ctx.requestBytes);
    ctx.afterReply.push(() => core.challenge(next));
  }
  return [{ type: 'UPDATE-CONFIRMED', rq: req.rq, name: req.name, host, port: req.port }];
}
