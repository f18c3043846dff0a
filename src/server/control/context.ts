/**
 * What a handler of a message between servers or from an operator sees.
 * These messages come in the native dialect only, are answered by either
 * server (serving or not) and never go through the intake: no reply cache,
 * no user queue.
 */
import type { MessageOf, ServerTag } from '../../protocol/messages';
import type { NativeFrame } from '../../protocol/native';
import type { Address } from '../../transport/types';
import type { Logger } from '../../util/log';
import type { Faults } from '../faults';
import type { Guard } from '../guard';
import type { Outbox } from '../outbox';
import type { Succession } from '../ring';
import type { Role } from '../role';
import type { StatusGate } from '../status-gate';
import type { StoreCheck } from '../store-check';

export interface ControlContext {
  readonly log: Logger;
  readonly guard: Guard;
  readonly role: Role;
  readonly succession: Succession;
  readonly storeCheck: StoreCheck;
  readonly statusGate: StatusGate;
  readonly outbox: Outbox;
  readonly faults: Faults;
  /** Servers already reported as configured with another ring (said once per server). */
  readonly ringMismatch: Set<ServerTag>;
  /** A verified TAKEOVER named `epoch`: hold the users' requests until this server serves (held-requests.ts), read its state ahead. */
  takeoverExpected(epoch: number): void;
  /** The status report with the store's counts (status-report.ts). */
  statusReport(): Promise<Record<string, unknown>>;
}

/** The messages between servers and from operators. */
export type ControlType = 'TAKEOVER' | 'STATUS' | 'STORE-CHECK' | 'STORE-CHECK-REPLY';

/** Handles one such message; synchronous (what it starts asynchronously goes through ctx.faults.watch). */
export type ControlHandler<T extends ControlType> = (ctx: ControlContext, msg: MessageOf<T>, frame: NativeFrame, from: Address) => void;
