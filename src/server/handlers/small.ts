/** The requests that need no store access of their own. */
import type { Handler } from '../context';
import { refusal } from './access';

/** ACK (native): the user has shown a pushed text. No answer. */
export const ack: Handler<'ACK'> = async (ctx, req) => {
  if (!refusal(ctx, ctx.core.directory.get(req.name))) ctx.core.delivery.ack(req.name, req.seq);
  return [];
};

/** INITIALIZATION (pickle): only the serving server answers, with its tag. */
export const initialization: Handler<'INITIALIZATION'> = async (ctx) => [{ type: 'INITIALIZATION-SUCCESS', tag: ctx.core.tag }];

/** END-CONNECTION (pickle): the client quits; nothing to undo (its user stays registered). */
export const endConnection: Handler<'END-CONNECTION'> = async (_ctx, req) => [{ type: 'END-CONNECTION-OK', rq: req.rq }];

/** ECHO (canonical text): a liveness check, answered by the serving server with the same line. Changes nothing. */
export const echo: Handler<'ECHO'> = async (_ctx, req) => [{ type: 'ECHOED', rq: req.rq, name: req.name, text: req.text }];
