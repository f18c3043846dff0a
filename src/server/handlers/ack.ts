import type { Request } from '../../protocol/messages';
import type { Handler, ServerCore } from '../context';
import { refusal } from './access';

/** ACK (native): the user has shown a pushed text; its push stream moves on. No answer. */
export const ack: Handler<'ACK'> = async (ctx, req) => {
  if (!refusal(ctx, ctx.core.directory.get(req.name))) acknowledged(ctx.core, req);
  return [];
};

/** An ACK its user may send (see refusal): the push it names moves the stream on. (The intake's fast path for the common ACK calls delivery.ack itself.) */
export function acknowledged(core: ServerCore, req: Extract<Request, { type: 'ACK' }>): void {
  core.delivery.ack(req.name, req.seq);
}
