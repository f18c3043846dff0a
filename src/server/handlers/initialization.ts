import type { Handler } from '../context';

/** INITIALIZATION (pickle): only the serving server answers, with its tag. */
export const initialization: Handler<'INITIALIZATION'> = async (ctx) => [{ type: 'INITIALIZATION-SUCCESS', tag: ctx.core.tag }];
