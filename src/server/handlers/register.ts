import { deriveUserKey, newAgreementKeys, newNonce } from '../../protocol/auth';
import { LIMITS, checkName } from '../../protocol/limits';
import { DENIAL_REASONS, type Reply, type Request } from '../../protocol/messages';
import type { UserDoc } from '../../store/documents';
import type { Handler, RequestContext } from '../context';
import { sameAddress, type Address } from '../../transport/types';
import { effectiveHost } from './access';

/**
 * REGISTER: names are unique.
 *
 * Native: the request carries the client's X25519 public key; the server
 * answers with an ephemeral one and both derive the user key K (auth.ts).
 * REGISTERED is MACed with K (it proves the server), K is stored wrapped,
 * and the address gets only a CHALLENGE until it proves it receives.
 * Registering an existing native name again is accepted only with a MAC by
 * its key (a client that still holds it); a retransmission of the first
 * REGISTER is answered from the reply cache, so it stays idempotent.
 *
 * Legacy: registering again from the same address is answered REGISTERED;
 * an address other than the request's source gets no pushes until it
 * speaks itself, and one address holds at most a few legacy users; with
 * --require-auth legacy registrations are refused.
 */
export const register: Handler<'REGISTER'> = async (ctx, req) => {
  const { core } = ctx;
  const deny = (reason: string): Reply[] => [{ type: 'REGISTER-DENIED', rq: req.rq, name: req.name, reason }];
  const invalid = checkName(req.name);
  if (invalid) return deny(invalid);
  if (ctx.dialect !== 'native' && core.guard.opts.requireAuth) return deny(DENIAL_REASONS.requireAuth);
  const host = effectiveHost(ctx, req.host);
  const existing = core.directory.get(req.name);
  if (existing) {
    let same: boolean;
    if (existing.key !== undefined) same = ctx.authed === existing._id;
    else if (existing.cid !== undefined) same = existing.cid === ctx.cid;
    else same = ctx.cid === undefined && existing.host === host && existing.port === req.port;
    return same ? [{ type: 'REGISTERED', rq: req.rq, name: req.name }] : deny('name already in use');
  }
  if (ctx.dialect === 'native' && req.pub === undefined) return deny(DENIAL_REASONS.needKey);
  if (core.directory.size >= LIMITS.maxUsers) return deny(DENIAL_REASONS.full);
  const at = { host, port: req.port };
  const legacy = ctx.dialect !== 'native';
  if (legacy && !core.directory.claimLegacy(at, req.name, LIMITS.maxLegacyUsersPerAddress)) return deny(DENIAL_REASONS.crowdedAddress);
  try {
    return await create(ctx, req, at);
  } finally {
    if (legacy) core.directory.releaseLegacy(at, req.name);
  }
};

/** Store the new user `req.name` at `at` and answer REGISTERED. */
async function create(ctx: RequestContext, req: Extract<Request, { type: 'REGISTER' }>, at: Address): Promise<Reply[]> {
  const { core } = ctx;
  const deny = (reason: string): Reply[] => [{ type: 'REGISTER-DENIED', rq: req.rq, name: req.name, reason }];
  const host = at.host;
  core.servingEpoch();
  // Starts clean: nothing published so far is owed to it (a reused name owes nothing of its former user's).
  const cursor = core.sequencer.issued;
  let user: UserDoc = { _id: req.name, host, port: req.port, dialect: ctx.dialect, subjects: [], since: [], cursor, createdAt: Date.now() };
  let serverPub: string | undefined;
  if (ctx.dialect === 'native') {
    const ours = newAgreementKeys();
    const k = deriveUserKey(ours, req.pub!, req.pub!, ours.pub, req.name);
    if (!k) return deny('invalid public key');
    user = {
      ...user, ...(ctx.cid !== undefined ? { cid: ctx.cid } : {}),
      key: core.guard.wrapNewKey(req.name, k), nonce: newNonce(), addrOk: false, ctrHigh: ctx.ctr ?? 0,
    };
    ctx.macKey = k;
    serverPub = ours.pub;
  } else {
    // Pushes go to a legacy address only once it spoke itself (always within its budget: it cannot be proven).
    user.addrOk = sameAddress(ctx.from, at);
  }
  if (!(await core.store.insertUser(user))) {
    core.guard.forgetUser(req.name);
    delete ctx.macKey;
    return deny('name already in use');
  }
  core.directory.set(user);
  core.cursors.start(req.name, cursor);
  if (ctx.dialect === 'pickle' && core.ring && core.ring.length > 2) {
    // Such clients switch between the two servers they know without reading CHANGE-SERVER's address.
    core.log.warn({ user: req.name, ring: core.ring.length }, `pickle client "${req.name}" registered in a ring of ${core.ring.length} servers: it can follow only two of them`);
  }
  if (user.key !== undefined) {
    // The request that named the address pays for the challenge sent there.
    core.guard.sendBudgets.received(at, ctx.requestBytes);
    const registered = user;
    ctx.afterReply.push(() => core.challenge(registered));
  }
  // A native client learns the ring from this MACed reply (the text dialects have no field for it).
  const ring = ctx.dialect === 'native' && core.ring ? { ring: core.ring.map((m) => ({ ...m })) } : {};
  return [{ type: 'REGISTERED', rq: req.rq, name: req.name, ...(serverPub ? { pub: serverPub } : {}), ...ring }];
}
