/**
 * The one dispatch point: every datagram the socket receives comes here.
 * The dialect is told by the first byte and the datagram decoded; a native
 * message between servers or from an operator goes to its control handler
 * (control/: TAKEOVER, STATUS, STORE-CHECK and its reply), a user request
 * to the intake (intake.ts, then handlers/), anything else is counted and
 * dropped. An undecodable request whose type and RQ# could be read gets the
 * matching denial, from the serving server only.
 */
import { AuthError, ProtocolError } from '../errors';
import { detectDialect, type Dialect } from '../protocol/dialect';
import { denialFor, type DialectName, type Request } from '../protocol/messages';
import { decodeNative, type NativeFrame } from '../protocol/native';
import { formatAddress, type Address } from '../transport/types';
import type { Logger } from '../util/log';
import type { ServerCounters } from './context';
import { CONTROL_HANDLERS, isControl } from './control';
import type { ControlContext, ControlHandler, ControlType } from './control/context';
import type { Guard } from './guard';
import { isHandled, type HandledRequest } from './handlers';
import type { Outbox } from './outbox';

/** What the dispatcher needs of its server. */
export interface DispatchHost {
  readonly counters: ServerCounters;
  readonly log: Logger;
  readonly guard: Guard;
  readonly outbox: Outbox;
  readonly dialects: Partial<Record<'text' | 'pickle', Dialect>>;
  /** What the control handlers see. */
  readonly control: ControlContext;
  /** Serving and allowed to act right now. */
  serving(): boolean;
  /** This server's own backlog markers (backlog.ts): taken before anything else, never a request. */
  readonly backlog: { take(bytes: Uint8Array): boolean };
  /** A user request, decoded (intake.ts). */
  accept(req: HandledRequest, dialect: DialectName, from: Address, bytes: Uint8Array, frame?: NativeFrame): void;
}

export class Dispatcher {
  constructor(private readonly host: DispatchHost) {}

  /**
   * One datagram from `from`. Never throws: whatever fails while it is
   * decoded and routed (synchronously) is counted as malformed and logged
   * here; the work a request starts afterwards (its queue, its handler, a
   * status report) runs under `faults.watch`, which reports its failures.
   */
  datagram(bytes: Buffer, from: Address): void {
    const host = this.host;
    if (host.backlog.take(bytes)) return;
    // Every byte received from an address is credit for what may be sent back to it (anti-amplification).
    host.guard.sendBudgets.received(from, bytes.length);
    const dialect = detectDialect(bytes);
    try {
      if (dialect === 'native') return this.native(bytes, from);
      const codec = dialect && host.dialects[dialect];
      if (!dialect || !codec) {
        host.counters.malformed++;
        return;
      }
      let req: Request;
      try {
        req = codec.decodeRequest(bytes);
      } catch (err) {
        return this.undecodable(err, dialect, from);
      }
      // STATUS is read over the native dialect only (control/status.ts), where it is authorised.
      if (!isHandled(req)) {
        host.counters.ignored++;
        return;
      }
      host.accept(req, dialect, from, bytes);
    } catch (err) {
      host.counters.malformed++;
      host.log.warn({ err: String(err), from: formatAddress(from) }, 'datagram dropped');
    }
  }

  private native(bytes: Buffer, from: Address): void {
    let frame;
    try {
      frame = decodeNative(bytes);
    } catch (err) {
      return this.undecodable(err, 'native', from);
    }
    const msg = frame.message;
    if (isControl(msg.type)) {
      const handler = CONTROL_HANDLERS[msg.type] as ControlHandler<ControlType>;
      return handler(this.host.control, msg as Parameters<typeof handler>[1], frame, from);
    }
    if (!isHandled(msg)) {
      this.host.counters.ignored++;
      return;
    }
    if (!frame.envelope.cid) throw new AuthError('native request without a client id');
    this.host.accept(msg, 'native', from, bytes, frame);
  }

  private undecodable(err: unknown, dialect: DialectName, from: Address): void {
    const host = this.host;
    host.counters.malformed++;
    if (!(err instanceof ProtocolError)) throw err;
    host.log.debug({ err: err.message, from: formatAddress(from), dialect }, 'undecodable datagram');
    // Only the serving server answers, and only when the request could be identified.
    if (!host.serving() || !err.partial) return;
    const partial = err.partial;
    host.outbox.sendTo(host.outbox.encodeReplies([denialFor(partial.type, partial.rq, partial.name ?? '', err.message)], dialect), from);
  }
}
