/**
 * Who may act on a user. A name registered by a native client belongs to
 * that client (its `cid`): no other client and no legacy dialect may change
 * it, publish as it or read its texts. Legacy names keep the course's
 * semantics (anyone who knows the name may act), as those dialects cannot
 * prove anything.
 */
import type { UserDoc } from '../../store/documents';
import type { RequestContext } from '../context';

/** Why the sender may not act on `user`, or undefined when it may. */
export function refusal(ctx: RequestContext, user: UserDoc | undefined): string | undefined {
  if (!user) return 'unknown name';
  if (user.cid !== undefined && user.cid !== ctx.cid) return 'name belongs to another client';
  return undefined;
}

/** The address to record: a host of 0.0.0.0 (or empty) means "where this request came from". */
export function effectiveHost(ctx: RequestContext, host: string): string {
  return host === '0.0.0.0' || host === '' || host === '::' ? ctx.from.host : host;
}
