import { sameRing } from '../ring';
import type { ControlHandler } from './context';

/**
 * TAKEOVER: the server that just handed over says "serve from now on". Only
 * another server of ours, proving the peer secret, may hurry a lease check
 * (the lease decides anyway); a stranger naming no server of ours is counted.
 */
export const takeover: ControlHandler<'TAKEOVER'> = (ctx, msg, frame) => {
  const member = ctx.succession.addressOf(msg.from) !== undefined;
  if (member && ctx.guard.verifyPeer(frame, msg.from)) {
    ctx.succession.heard(msg.from);
    // The lease check first: it is what the takeover waits for (the state read ahead is only needed after it).
    ctx.role.poke(msg.epoch);
    ctx.takeoverExpected(msg.epoch);
    if (!sameRing(msg.ring, ctx.succession.members) && !ctx.ringMismatch.has(msg.from)) {
      // Servers that disagree on the ring would hand turns around differently: say so once per server.
      ctx.ringMismatch.add(msg.from);
      ctx.log.warn({ from: msg.from, theirs: msg.ring?.map((m) => `${m.tag}=${m.host}:${m.port}`).join(',') ?? 'a pair' }, 'a server is configured with another ring than this one');
    }
  } else if (!member) ctx.guard.counters.forgedPeer++;
};
