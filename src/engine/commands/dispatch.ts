/** Command routing: name → handler, with MongoDB's reply shape for failures. */
import type { Document } from 'bson';
import { EngineError, toEngineError } from '../errors.js';
import { aggregateCommands } from './aggregate.js';
import type { CommandContext, Handler } from './context.js';
import { ddlCommands } from './ddl.js';
import { explain, readCommands } from './find.js';
import { findAndModifyCommands } from './find-and-modify.js';
import { handshakeCommands } from './handshake.js';
import { writeCommands } from './write.js';

/** Builds the handler table; a fresh object per engine (no shared mutable state). */
export function commandTable(): Record<string, Handler> {
  const table: Record<string, Handler> = {
    ...handshakeCommands,
    ...writeCommands,
    ...readCommands,
    ...aggregateCommands,
    ...findAndModifyCommands,
    ...ddlCommands,
  };
  table.explain = (cmd, ctx) => explain(cmd, ctx, table);
  return table;
}

/** The `{ok: 0, ...}` reply for an error. */
export function errorReply(err: unknown): Document {
  const e = toEngineError(err);
  return { ok: 0, errmsg: e.message, code: e.code, codeName: e.codeName, ...e.extra };
}

/** Runs one command document; never throws (errors become error replies). */
export function dispatch(table: Record<string, Handler>, body: Document, ctx: CommandContext): Document {
  const name = Object.keys(body)[0];
  const handler = name === undefined ? undefined : Object.hasOwn(table, name) ? table[name] : undefined;
  try {
    if (!handler) throw new EngineError('CommandNotFound', `no such command: '${name ?? ''}'`);
    return handler(body, ctx);
  } catch (err) {
    return errorReply(err);
  }
}
