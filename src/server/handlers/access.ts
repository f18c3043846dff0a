/**
 * Who may act on a user. A native user holds a key agreed at REGISTER: only
 * a request MACed with that key (the server sets `ctx.authed` once the MAC
 * and the replay window passed) may change it, publish as it or read its
 * texts — from any dialect, an unproven request is refused. Users of the
 * legacy dialects keep the semantics existing clients expect (anyone who
 * knows the name may act), as those dialects cannot prove anything.
 */
import { DENIAL_REASONS } from '../../protocol/messages';
import type { UserDoc } from '../../store/documents';
import type { RequestContext } from '../context';

/** Why the sender may not act on `user`, or undefined when it may. */
export function refusal(ctx: RequestContext, user: UserDoc | undefined): string | undefined {
  if (!user) return 'unknown name';
  if (user.key !== undefined) {
    if (ctx.authed === user._id) return undefined;
    return ctx.dialect === 'native' ? DENIAL_REASONS.auth : 'name belongs to an authenticated user';
  }
  // A native user registered before keys existed stays bound to its client id.
  if (user.cid !== undefined && user.cid !== ctx.cid) return 'name belongs to another client';
  return undefined;
}

/** The address to record: a host of 0.0.0.0 (or empty) means "where this request came from". */
export function effectiveHost(ctx: RequestContext, host: string): string {
  return host === '0.0.0.0' || host === '' || host === '::' ? ctx.from.host : host;
}
