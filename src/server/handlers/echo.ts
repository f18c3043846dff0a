import type { Handler } from '../context';

/** ECHO (canonical text): a liveness check, answered by the serving server with the same line. Changes nothing. */
export const echo: Handler<'ECHO'> = async (_ctx, req) => [{ type: 'ECHOED', rq: req.rq, name: req.name, text: req.text }];
