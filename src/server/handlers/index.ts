/** One handler per request type, dispatched by an exhaustive table. */
import type { Request } from '../../protocol/messages';
import type { Handler } from '../context';
import { challengeResponse } from './challenge';
import { deregister } from './deregister';
import { publish } from './publish';
import { register } from './register';
import { retrieve } from './retrieve';
import { ack, endConnection, initialization, status } from './small';
import { subjects } from './subjects';
import { update } from './update';
import { who } from './who';

export const HANDLERS: { [T in Request['type']]: Handler<T> } = {
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
  STATUS: status,
  'CHALLENGE-RESPONSE': challengeResponse,
};
