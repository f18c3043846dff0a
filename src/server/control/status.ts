import { LIMITS } from '../../protocol/limits';
import { encodeNative, encodeNativePadded, type NativeFrame } from '../../protocol/native';
import { formatAddress } from '../../transport/types';
import { isLoopback } from '../status-gate';
import type { ControlHandler } from './context';

/**
 * STATUS, answered by either server (the standby too), before the serving
 * check and outside the reply cache and the users' queues: it changes
 * nothing. Authorised by a MAC with the peer key (fresh counter, its own
 * replay window), or, when no peer secret was configured, by a loopback
 * source. A refusal is answered on loopback only; elsewhere, silence.
 */
export const status: ControlHandler<'STATUS'> = (ctx, msg, frame, from) => {
  const verdict = ctx.statusGate.check(frame, from);
  if (verdict !== 'ok') {
    ctx.guard.counters.authFailed++;
    ctx.log.debug({ from: formatAddress(from), why: verdict }, 'STATUS refused');
    if (isLoopback(from.host)) {
      ctx.outbox.sendTo([encodeNativePadded({ type: 'DENIED', rq: msg.rq, reason: verdict }, ctrOf(frame))], from);
    }
    return;
  }
  if (!ctx.guard.sourceAllowed(from)) return;
  ctx.faults.watch(ctx.statusReport().then((report) => {
    const encode = (status: Record<string, unknown>) => encodeNative({ type: 'STATUS-REPORT', rq: msg.rq, status }, ctrOf(frame), ctx.statusGate.key);
    ctx.outbox.sendTo([fitReport(report, encode)], from);
  }), 'status');
};

/** The request's counter, echoed so the operator's client matches the answer. */
function ctrOf(frame: NativeFrame): { ctr?: number } {
  return frame.envelope.ctr !== undefined ? { ctr: frame.envelope.ctr } : {};
}

/**
 * The report in one datagram the client accepts (LIMITS.maxNativeDatagram).
 * With zero counters it takes about 1 KB; long-lived servers' counters grow
 * digits, so when it does not fit, the per-table sizes (`tracked`) go
 * first, then every counter at 0 (a reader shows a missing counter as
 * absent); what identifies the server and its role always stays.
 */
export function fitReport(report: Record<string, unknown>, encode: (status: Record<string, unknown>) => Buffer): Buffer {
  let out = encode(report);
  if (out.length <= LIMITS.maxNativeDatagram) return out;
  const { tracked: _tracked, ...lean } = report;
  out = encode(lean);
  if (out.length <= LIMITS.maxNativeDatagram) return out;
  const leaner = Object.fromEntries(Object.entries(lean).filter(([, v]) => v !== 0));
  return encode(leaner);
}
