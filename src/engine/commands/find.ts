/** Read commands: find, getMore, killCursors, count, distinct, explain. */
import { Long, type Document } from 'bson';
import { EngineError } from '../errors.js';
import { queryRecords, type ExecStats, type QuerySpec } from '../query/execute.js';
import { keyString } from '../query/keystring.js';
import { compareValues } from '../query/order.js';
import { collectPath } from '../query/paths.js';
import { compileProjection, type Projector } from '../query/project.js';
import { collName, optDoc, optNum, rejectUnsupported, type CommandContext, type Handler } from './context.js';

function findSpec(cmd: Document): QuerySpec & { projection?: Document } {
  rejectUnsupported(cmd, ['collation', 'let', 'tailable', 'awaitData', 'min', 'max', 'returnKey', 'showRecordId']);
  const limit = optNum(cmd, 'limit');
  const skip = optNum(cmd, 'skip');
  if (skip !== undefined && skip < 0) throw new EngineError('BadValue', 'skip value must be non-negative');
  if (limit !== undefined && limit < 0) throw new EngineError('BadValue', 'limit value must be non-negative');
  return { filter: optDoc(cmd, 'filter'), sort: optDoc(cmd, 'sort'), skip, limit, projection: optDoc(cmd, 'projection') };
}

function* projected(ctx: CommandContext, coll: string, spec: QuerySpec, project: Projector, stats: ExecStats): Generator<Document> {
  for (const rec of queryRecords(ctx.catalog.get(ctx.db, coll), spec, stats)) yield project(rec.doc);
}

function find(cmd: Document, ctx: CommandContext): Document {
  const coll = collName(cmd);
  const spec = findSpec(cmd);
  const stats = (ctx.stats = { docsExamined: 0, stage: '' });
  // Compiled before the lazy iteration starts, so a bad projection fails the find itself.
  const iter = projected(ctx, coll, spec, compileProjection(spec.projection), stats);
  const ns = `${ctx.db}.${coll}`;
  const b = ctx.cursors.first(ns, iter, optNum(cmd, 'batchSize'), cmd.singleBatch === true);
  return { cursor: { firstBatch: b.docs, id: b.id, ns }, ok: 1 };
}

function getMore(cmd: Document, ctx: CommandContext): Document {
  const id = cmd.getMore;
  if (!Long.isLong(id)) throw new EngineError('TypeMismatch', "BSON field 'getMore.getMore' is the wrong type, expected type 'long'");
  const coll = typeof cmd.collection === 'string' ? cmd.collection : '';
  const ns = `${ctx.db}.${coll}`;
  const b = ctx.cursors.next(id, ns, optNum(cmd, 'batchSize'));
  if (!b) throw new EngineError('CursorNotFound', `cursor id ${id.toString()} not found`);
  return { cursor: { nextBatch: b.docs, id: b.id, ns }, ok: 1 };
}

function killCursors(cmd: Document, ctx: CommandContext): Document {
  const ids = Array.isArray(cmd.cursors) ? (cmd.cursors as unknown[]) : [];
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const id of ids) {
    if (!Long.isLong(id)) continue;
    (ctx.cursors.kill(id) ? killed : notFound).push(id);
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}

function count(cmd: Document, ctx: CommandContext): Document {
  rejectUnsupported(cmd);
  const coll = collName(cmd);
  const c = ctx.catalog.get(ctx.db, coll);
  const filter = optDoc(cmd, 'query');
  const skip = optNum(cmd, 'skip') ?? 0;
  const limit = Math.abs(optNum(cmd, 'limit') ?? 0);
  if (!filter || Object.keys(filter).length === 0) {
    // Like mongod, an unfiltered count reads the collection size without scanning.
    const total = Math.max(0, (c?.docs.size ?? 0) - skip);
    return { n: limit ? Math.min(limit, total) : total, ok: 1 };
  }
  const stats = (ctx.stats = { docsExamined: 0, stage: '' });
  let n = 0;
  for (const _ of queryRecords(c, { filter, skip, limit }, stats)) n++;
  return { n, ok: 1 };
}

function distinct(cmd: Document, ctx: CommandContext): Document {
  rejectUnsupported(cmd);
  const coll = collName(cmd);
  const key = cmd.key;
  if (typeof key !== 'string') throw new EngineError('TypeMismatch', "BSON field 'distinct.key' is missing or not a string");
  const parts = key.split('.');
  const seen = new Map<string, unknown>();
  const stats = (ctx.stats = { docsExamined: 0, stage: '' });
  for (const rec of queryRecords(ctx.catalog.get(ctx.db, coll), { filter: optDoc(cmd, 'query') }, stats)) {
    for (const v of collectPath(rec.doc, parts)) {
      for (const x of Array.isArray(v) ? v : [v]) {
        if (x === undefined) continue;
        const k = keyString(x);
        if (!seen.has(k)) seen.set(k, x);
      }
    }
  }
  return { values: [...seen.values()].sort(compareValues), ok: 1 };
}

/** explain for find/count/distinct/delete/update: runs the query and reports executionStats. */
function explain(cmd: Document, ctx: CommandContext, handlers: Record<string, Handler>): Document {
  const inner = optDoc(cmd, 'explain');
  if (!inner) throw new EngineError('FailedToParse', 'explain requires a command document');
  const name = Object.keys(inner)[0];
  if (!['find', 'count', 'distinct', 'aggregate'].includes(name)) {
    throw new EngineError('IllegalOperation', `explain is not supported for ${name} by this engine`);
  }
  let nReturned = 0;
  if (name === 'find') {
    const spec = findSpec(inner);
    const stats = (ctx.stats = { docsExamined: 0, stage: '' });
    for (const _ of projected(ctx, collName(inner), spec, compileProjection(spec.projection), stats)) nReturned++;
  } else {
    const reply = handlers[name]({ ...inner, cursor: { batchSize: 2 ** 31 - 1 } }, ctx);
    nReturned = reply.n ?? reply.values?.length ?? reply.cursor?.firstBatch?.length ?? 0;
  }
  const stage = ctx.stats.stage;
  return {
    queryPlanner: { namespace: `${ctx.db}.${collName(inner)}`, winningPlan: { stage: stage.split(' ')[0], indexName: stage.split(' ')[1] } },
    executionStats: { nReturned, totalDocsExamined: ctx.stats.docsExamined, executionStages: { stage } },
    ok: 1,
  };
}

/** Handlers of this family, by command name. */
export const readCommands: Record<string, Handler> = { find, getMore, killCursors, count, distinct };
export { explain };
