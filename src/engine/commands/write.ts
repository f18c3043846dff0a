/** The write commands: insert, update, delete (batches with ordered/unordered error handling). */
import { BSON, ObjectId, type Document } from 'bson';
import { Limits } from '../wire/constants.js';
import { EngineError, toEngineError } from '../errors.js';
import { queryRecords } from '../query/execute.js';
import { toNumber } from '../query/order.js';
import { isPlainObject, type Doc } from '../query/paths.js';
import type { DocRecord } from '../storage/record.js';
import { compileArrayFilters } from '../query/positional.js';
import { applyUpdate, parseUpdate, topLevelFields } from '../query/update.js';
import { sameDocument } from '../query/same.js';
import { collName, rejectUnsupported, writeError, type CommandContext, type Handler } from './context.js';
import { upsertDocument } from './upsert.js';

function batch(cmd: Document, field: string): Document[] {
  const v = cmd[field];
  if (!Array.isArray(v)) throw new EngineError('FailedToParse', `BSON field '${Object.keys(cmd)[0]}.${field}' is missing but a required field`);
  return v as Document[];
}

/** Gives a document an _id (first field) if it lacks one; rejects array ids. */
function withId(doc: Doc): Doc {
  if (!isPlainObject(doc)) throw new EngineError('TypeMismatch', 'document to insert must be an object');
  if (doc._id === undefined) return { _id: new ObjectId(), ...doc };
  for (const first in doc) {
    // mongod stores _id as the first field whatever the client sent.
    if (first !== '_id') {
      const { _id, ...rest } = doc;
      return withId({ _id, ...rest });
    }
    break;
  }
  if (Array.isArray(doc._id)) throw new EngineError('InvalidIdField', "The '_id' value cannot be of type array");
  if (isPlainObject(doc._id) && Object.keys(doc._id).some((k) => k.startsWith('$'))) {
    throw new EngineError('InvalidIdField', "_id fields may not contain '$'-prefixed fields");
  }
  return doc;
}

/** Refuses an update whose result would exceed the 16 MiB document limit (mongod's code 17419). */
export function checkSize(doc: Doc): Doc {
  withinLimit(BSON.calculateObjectSize(doc));
  return doc;
}

function withinLimit(size: number): number {
  if (size > Limits.maxBsonObjectSize) {
    throw new EngineError('Location17419', `Resulting document after update is larger than ${Limits.maxBsonObjectSize}`);
  }
  return size;
}

/** The BSON size of a field of `doc` (0 when it has none): what it adds to the document's size. */
function fieldSize(doc: Doc, field: string): number {
  return Object.hasOwn(doc, field) ? BSON.calculateObjectSize({ [field]: doc[field] }) - 5 : 0;
}

/**
 * {@link checkSize} for a stored record's new version (`old` is its current one), returning its size.
 * When the update wrote only top-level fields and the record's size is
 * known, the size follows from the fields that changed (the rest are the
 * stored values): a cursor moved by `$max` is measured alone, not its whole
 * user document.
 */
function updatedSize(rec: DocRecord, old: Doc, doc: Doc, fields: string[] | undefined): number {
  let size: number;
  if (fields === undefined || rec.size === undefined) size = BSON.calculateObjectSize(doc);
  else {
    size = rec.size;
    for (const f of fields) if (doc[f] !== old[f]) size += fieldSize(doc, f) - fieldSize(old, f);
  }
  return withinLimit(size);
}

/** Runs each statement; stops at the first error when ordered (the default). */
function runBatch(cmd: Document, items: Document[], each: (item: Document, i: number) => void): Document[] {
  const ordered = cmd.ordered !== false;
  const errors: Document[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      each(items[i], i);
    } catch (err) {
      errors.push(writeError(i, toEngineError(err)));
      if (ordered) break;
    }
  }
  return errors;
}

function insert(cmd: Document, ctx: CommandContext): Document {
  const coll = collName(cmd);
  const docs = batch(cmd, 'documents');
  let n = 0;
  const errors = runBatch(cmd, docs, (d) => {
    ctx.apply({ op: 'i', db: ctx.db, coll, doc: withId(d) });
    n++;
  });
  return errors.length ? { n, writeErrors: errors, ok: 1 } : { n, ok: 1 };
}

function update(cmd: Document, ctx: CommandContext): Document {
  rejectUnsupported(cmd, ['let']);
  const coll = collName(cmd);
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const errors = runBatch(cmd, batch(cmd, 'updates'), (stmt, index) => {
    rejectUnsupported(stmt);
    const parsed = parseUpdate(stmt.u);
    const multi = stmt.multi === true;
    if (multi && parsed.kind === 'replace') throw new EngineError('FailedToParse', 'multi update is not supported for replacement-style update');
    const pos = { filter: stmt.q, arrayFilters: compileArrayFilters(stmt.arrayFilters) };
    const c = ctx.catalog.get(ctx.db, coll);
    const stats = (ctx.stats = { docsExamined: 0, stage: '' });
    // Materialise first: updating indexed fields while walking an index would revisit documents.
    // Each with its document as the match just read it (a record kept as bytes is decoded once).
    const hits: [DocRecord, Doc][] = [];
    for (const rec of queryRecords(c, { filter: stmt.q, limit: multi ? 0 : 1, sort: stmt.sort }, stats)) hits.push([rec, rec.doc]);
    // The statement's, not each document's: the same for every record it updates.
    const fields = topLevelFields(parsed);
    for (const [rec, old] of hits) {
      n++;
      const doc = applyUpdate(old, parsed, false, pos);
      // An unchanged document is the stored one: no size to check.
      if (sameDocument(doc, old)) continue;
      const size = updatedSize(rec, old, doc, fields);
      ctx.apply({ op: 'u', db: ctx.db, coll, doc });
      // After the apply: replacing the document forgets the old size.
      rec.size = size;
      nModified++;
    }
    if (hits.length === 0 && stmt.upsert === true) {
      const doc = checkSize(upsertDocument(stmt.q, parsed, pos));
      ctx.apply({ op: 'i', db: ctx.db, coll, doc });
      n++;
      upserted.push({ index, _id: doc._id });
    }
  });
  const reply: Document = { n, nModified };
  if (upserted.length) reply.upserted = upserted;
  if (errors.length) reply.writeErrors = errors;
  reply.ok = 1;
  return reply;
}

function del(cmd: Document, ctx: CommandContext): Document {
  const coll = collName(cmd);
  let n = 0;
  const errors = runBatch(cmd, batch(cmd, 'deletes'), (stmt) => {
    rejectUnsupported(stmt);
    const limit = stmt.limit === undefined ? 0 : toNumber(stmt.limit);
    if (limit !== 0 && limit !== 1) throw new EngineError('FailedToParse', `The limit field in delete objects must be 0 or 1. Got ${limit}`);
    const c = ctx.catalog.get(ctx.db, coll);
    const stats = (ctx.stats = { docsExamined: 0, stage: '' });
    const recs = [...queryRecords(c, { filter: stmt.q, limit }, stats)];
    for (const rec of recs) {
      ctx.apply({ op: 'd', db: ctx.db, coll, id: rec.doc._id });
      n++;
    }
  });
  return errors.length ? { n, writeErrors: errors, ok: 1 } : { n, ok: 1 };
}

/** Handlers of this family, by command name. */
export const writeCommands: Record<string, Handler> = { insert, update, delete: del };
