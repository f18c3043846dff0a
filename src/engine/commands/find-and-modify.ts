/** findAndModify: atomically find one document and update or remove it, returning a version of it. */
import type { Document } from 'bson';
import { EngineError } from '../errors.js';
import { queryRecords } from '../query/execute.js';
import { compileProjection } from '../query/project.js';
import { sameDocument } from '../query/same.js';
import { compileArrayFilters } from '../query/positional.js';
import { applyUpdate, parseUpdate } from '../query/update.js';
import { collName, optDoc, rejectUnsupported, type CommandContext, type Handler } from './context.js';
import { upsertDocument } from './upsert.js';
import { checkSize } from './write.js';

function findAndModify(cmd: Document, ctx: CommandContext): Document {
  rejectUnsupported(cmd);
  const coll = collName(cmd);
  const remove = cmd.remove === true;
  const returnNew = cmd.new === true;
  const upsert = cmd.upsert === true;
  if (remove && cmd.update !== undefined) throw new EngineError('FailedToParse', 'Cannot specify both an update and remove=true');
  if (!remove && cmd.update === undefined) throw new EngineError('FailedToParse', 'Either an update or remove=true must be specified');
  if (remove && (returnNew || upsert)) throw new EngineError('FailedToParse', 'Cannot specify both new=true and remove=true; or upsert=true and remove=true');
  const project = compileProjection(optDoc(cmd, 'fields'));
  const filter = optDoc(cmd, 'query');
  const stats = (ctx.stats = { docsExamined: 0, stage: '' });
  const [rec] = queryRecords(ctx.catalog.get(ctx.db, coll), { filter, sort: optDoc(cmd, 'sort'), limit: 1 }, stats);
  if (remove) {
    if (!rec) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
    const old = rec.doc;
    ctx.apply({ op: 'd', db: ctx.db, coll, id: old._id });
    return { lastErrorObject: { n: 1 }, value: project(old), ok: 1 };
  }
  const parsed = parseUpdate(cmd.update);
  const pos = { filter, arrayFilters: compileArrayFilters(cmd.arrayFilters) };
  if (rec) {
    const old = rec.doc;
    const doc = checkSize(applyUpdate(old, parsed, false, pos));
    if (!sameDocument(doc, old)) ctx.apply({ op: 'u', db: ctx.db, coll, doc });
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: project(returnNew ? doc : old), ok: 1 };
  }
  if (!upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
  const doc = checkSize(upsertDocument(filter, parsed, pos));
  ctx.apply({ op: 'i', db: ctx.db, coll, doc });
  return { lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id }, value: returnNew ? project(doc) : null, ok: 1 };
}

/** Handlers of this family, by command name. */
export const findAndModifyCommands: Record<string, Handler> = { findAndModify, findandmodify: findAndModify };
