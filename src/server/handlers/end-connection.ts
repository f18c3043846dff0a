import type { Handler } from '../context';

/** END-CONNECTION (pickle): the client quits; nothing to undo (its user stays registered). */
export const endConnection: Handler<'END-CONNECTION'> = async (_ctx, req) => [{ type: 'END-CONNECTION-OK', rq: req.rq }];
