import type { Handler } from '../context';
import { refusal } from './access';

/** ACK (native): the user has shown a pushed text; its push stream moves on. No answer. */
export const ack: Handler<'ACK'> = async (ctx, req) => {
  if (!refusal(ctx, ctx.core.directory.get(req.name))) ctx.core.delivery.ack(req.name, req.seq);
  return [];
};
