/** The messages between servers and from operators, one handler each, dispatched by an exhaustive table. */
import type { ControlHandler, ControlType } from './context';
import { status } from './status';
import { takeover } from './takeover';

export const CONTROL_HANDLERS: { readonly [T in ControlType]: ControlHandler<T> } = {
  TAKEOVER: takeover,
  STATUS: status,
  // Which store the other server uses (store-check.ts): its question, and its answer to ours.
  'STORE-CHECK': (ctx, msg, _frame, from) => ctx.storeCheck.onCheck(msg, from),
  'STORE-CHECK-REPLY': (ctx, msg, _frame, from) => ctx.storeCheck.onReply(msg, from),
};

/** True for a message that goes to CONTROL_HANDLERS. */
export function isControl(type: string): type is ControlType {
  return Object.hasOwn(CONTROL_HANDLERS, type);
}
