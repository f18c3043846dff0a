import { timingSafeEqual } from 'node:crypto';
import type { Handler } from '../context';
import { sameAddress } from '../../transport/types';

/**
 * CHALLENGE-RESPONSE (native): the user's address proves that it receives.
 * Accepted only with the user's MAC (ctx.authed), from the very address
 * being validated, carrying the nonce the CHALLENGE sent there; then pushes
 * may go to that address. No answer (the server's next push is the answer).
 */
export const challengeResponse: Handler<'CHALLENGE-RESPONSE'> = async (ctx, req) => {
  const { core } = ctx;
  const user = core.directory.get(req.name);
  if (!user || user.key === undefined || ctx.authed !== user._id) return [];
  if (user.addrOk || user.nonce === undefined || !sameAddress(ctx.from, user)) return [];
  const got = Buffer.from(req.nonce, 'utf8');
  const want = Buffer.from(user.nonce, 'utf8');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return [];
  core.servingEpoch();
  const ctrHigh = Math.max(user.ctrHigh ?? 0, ctx.ctr ?? 0);
  await core.store.updateUser(req.name, { addrOk: true, ctrHigh });
  core.directory.set({ ...user, addrOk: true, ctrHigh });
  core.guard.counters.validations++;
  // The texts owed go out at once, not at the client's next poll.
  core.delivery.resume(req.name);
  return [];
};
