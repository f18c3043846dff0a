/** One handler per request type, dispatched by an exhaustive table. */
import type { Request } from '../../protocol/messages';
import type { Handler } from '../context';
import { ack } from './ack';
import { challengeResponse } from './challenge';
import { deregister } from './deregister';
import { echo } from './echo';
import { endConnection } from './end-connection';
import { initialization } from './initialization';
import { publish } from './publish';
import { register } from './register';
import { retrieve } from './retrieve';
import { subjects } from './subjects';
import { update } from './update';
import { who } from './who';

/** Every request type but STATUS, which is answered by its control handler (control/status.ts), never through the intake. */
export type HandledType = Exclude<Request['type'], 'STATUS'>;
/** A request of a type handled here. */
export type HandledRequest = Extract<Request, { type: HandledType }>;

export const HANDLERS: { readonly [T in HandledType]: Handler<T> } & { readonly STATUS?: never } = {
  REGISTER: register,
  'DE-REGISTER': deregister,
  UPDATE: update,
  SUBJECTS: subjects,
  PUBLISH: publish,
  'RETRIEVE-TEXTS': retrieve,
  ACK: ack,
  INITIALIZATION: initialization,
  'END-CONNECTION': endConnection,
  WHO: who,
  'CHALLENGE-RESPONSE': challengeResponse,
  ECHO: echo,
};

/** True for a message that goes to HANDLERS (through the intake). */
export function isHandled(msg: { type: string }): msg is HandledRequest {
  return Object.hasOwn(HANDLERS, msg.type);
}
