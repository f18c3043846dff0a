/**
 * aggregate: leading $match/$sort/$skip/$limit are folded into an indexed
 * query on the typed documents; the remaining stages run in mingo over the
 * number-normalised view (so their numeric outputs are plain numbers).
 */
import type { Document } from 'bson';
import { Aggregator, ProcessingMode } from 'mingo';
import { EngineError } from '../errors.js';
import { queryRecords, type QuerySpec } from '../query/execute.js';
import { toPlain } from '../query/normalize.js';
import { toNumber } from '../query/order.js';
import { isPlainObject } from '../query/paths.js';
import { collName, optNum, rejectUnsupported, type CommandContext, type Handler } from './context.js';

const SUPPORTED = new Set([
  '$match', '$group', '$sort', '$skip', '$limit', '$count', '$project', '$addFields', '$set', '$unset',
  '$unwind', '$replaceRoot', '$replaceWith', '$sortByCount', '$bucket', '$facet', '$sample',
]);

/** Splits the pipeline into a foldable query prefix and the rest. */
function fold(pipeline: Document[]): { spec: QuerySpec; rest: Document[] } {
  const spec: QuerySpec = {};
  let i = 0;
  if (pipeline[0]?.$match && isPlainObject(pipeline[0].$match)) spec.filter = pipeline[i++].$match;
  if (pipeline[i]?.$sort && isPlainObject(pipeline[i].$sort)) spec.sort = pipeline[i++].$sort;
  if (pipeline[i]?.$skip !== undefined) spec.skip = toNumber(pipeline[i++].$skip);
  if (pipeline[i]?.$limit !== undefined) spec.limit = toNumber(pipeline[i++].$limit);
  return { spec, rest: pipeline.slice(i) };
}

function aggregate(cmd: Document, ctx: CommandContext): Document {
  rejectUnsupported(cmd);
  if (typeof cmd.aggregate !== 'string') throw new EngineError('NotImplemented', 'database-level aggregation is not supported by this engine');
  const coll = collName(cmd);
  const pipeline = cmd.pipeline;
  if (!Array.isArray(pipeline)) throw new EngineError('TypeMismatch', "'pipeline' option must be specified as an array");
  if (!isPlainObject(cmd.cursor) && cmd.explain !== true) throw new EngineError('FailedToParse', "The 'cursor' option is required, except for aggregate with the explain argument");
  for (const stage of pipeline as Document[]) {
    const keys = isPlainObject(stage) ? Object.keys(stage) : [];
    if (keys.length !== 1) throw new EngineError('Location15974', 'A pipeline stage specification object must contain exactly one field.');
    if (!SUPPORTED.has(keys[0])) throw new EngineError('UnknownPipelineStage', `Unrecognized pipeline stage name: '${keys[0]}'`);
  }
  const { spec, rest } = fold(pipeline as Document[]);
  const stats = (ctx.stats = { docsExamined: 0, stage: '' });
  const records = queryRecords(ctx.catalog.get(ctx.db, coll), spec, stats);
  let iter: Iterator<Document>;
  if (rest.length === 0) {
    iter = (function* () {
      for (const r of records) yield r.doc;
    })();
  } else {
    const input = Array.from(records, (r) => toPlain(r.doc) as Document);
    let out: Document[];
    try {
      out = new Aggregator(toPlain(rest) as Document[], { processingMode: ProcessingMode.CLONE_INPUT, scriptEnabled: false }).run(input) as Document[];
    } catch (err) {
      throw new EngineError('BadValue', (err as Error).message, {}, { cause: err });
    }
    iter = out[Symbol.iterator]();
  }
  const ns = `${ctx.db}.${coll}`;
  const batchSize = isPlainObject(cmd.cursor) ? optNum(cmd.cursor, 'batchSize') : undefined;
  const b = ctx.cursors.first(ns, iter, batchSize);
  return { cursor: { firstBatch: b.docs, id: b.id, ns }, ok: 1 };
}

/** Handlers of this family, by command name. */
export const aggregateCommands: Record<string, Handler> = { aggregate };
