/** Catalog commands: databases, collections and indexes. */
import type { Document } from 'bson';
import { EngineError } from '../errors.js';
import { compilePlainFilter } from '../query/match.js';
import { toNumber } from '../query/order.js';
import { isPlainObject } from '../query/paths.js';
import { ID_INDEX_SPEC } from '../storage/collection.js';
import type { IndexSpec } from '../storage/sorted-index.js';
import { collName, optDoc, rejectUnsupported, type CommandContext, type Handler } from './context.js';

function nsMissing(db: string, coll: string): EngineError {
  return new EngineError('NamespaceNotFound', `ns does not exist: ${db}.${coll}`);
}

function create(cmd: Document, ctx: CommandContext): Document {
  const coll = collName(cmd);
  if (ctx.catalog.get(ctx.db, coll)) throw new EngineError('NamespaceExists', `Collection ${ctx.db}.${coll} already exists.`);
  // Options that change behaviour (validation, capping, views...) are refused rather than ignored.
  rejectUnsupported(cmd, ['capped', 'validator', 'viewOn', 'timeseries', 'clusteredIndex', 'collation', 'expireAfterSeconds']);
  const options: Document = {};
  for (const [k, v] of Object.entries(cmd)) {
    if (k !== 'create' && !k.startsWith('$') && k !== 'lsid' && k !== 'writeConcern' && k !== 'comment' && !k.startsWith('api')) options[k] = v;
  }
  ctx.apply({ op: 'cc', db: ctx.db, coll, options });
  return { ok: 1 };
}

function drop(cmd: Document, ctx: CommandContext): Document {
  const coll = collName(cmd);
  const c = ctx.catalog.get(ctx.db, coll);
  // mongod 7 answers ok for a missing collection.
  if (!c) return { ok: 1 };
  const nIndexesWas = c.indexes.length;
  ctx.apply({ op: 'dc', db: ctx.db, coll });
  return { nIndexesWas, ns: `${ctx.db}.${coll}`, ok: 1 };
}

function listCollections(cmd: Document, ctx: CommandContext): Document {
  const filter = optDoc(cmd, 'filter');
  const test = filter && Object.keys(filter).length ? compilePlainFilter(filter) : () => true;
  const nameOnly = cmd.nameOnly === true;
  const out: Document[] = [];
  for (const c of ctx.catalog.dbs.get(ctx.db)?.values() ?? []) {
    const info: Document = nameOnly
      ? { name: c.name, type: 'collection' }
      : { name: c.name, type: 'collection', options: c.options, info: { readOnly: false }, idIndex: ID_INDEX_SPEC };
    if (test(info)) out.push(info);
  }
  const ns = `${ctx.db}.$cmd.listCollections`;
  const b = ctx.cursors.first(ns, out[Symbol.iterator](), isPlainObject(cmd.cursor) ? optBatch(cmd.cursor) : undefined);
  return { cursor: { id: b.id, ns, firstBatch: b.docs }, ok: 1 };
}

function optBatch(cursor: Document): number | undefined {
  return cursor.batchSize === undefined ? undefined : toNumber(cursor.batchSize);
}

function dropDatabase(_cmd: Document, ctx: CommandContext): Document {
  if (ctx.catalog.dbs.has(ctx.db)) ctx.apply({ op: 'dd', db: ctx.db });
  return { dropped: ctx.db, ok: 1 };
}

function listDatabases(cmd: Document, ctx: CommandContext): Document {
  const names = [...ctx.catalog.dbs.keys()].sort();
  const databases = cmd.nameOnly === true ? names.map((name) => ({ name })) : names.map((name) => ({ name, sizeOnDisk: 0, empty: false }));
  return { databases, totalSize: 0, ok: 1 };
}

function defaultIndexName(key: Document): string {
  return Object.entries(key)
    .map(([f, d]) => `${f}_${typeof d === 'string' ? d : toNumber(d)}`)
    .join('_');
}

function validateKey(key: unknown): Record<string, number> {
  if (!isPlainObject(key) || Object.keys(key).length === 0) throw new EngineError('BadValue', 'Index key pattern must be a non-empty object');
  const out: Record<string, number> = {};
  for (const [f, d] of Object.entries(key)) {
    const n = toNumber(d);
    if (typeof d === 'string' || Number.isNaN(n) || n === 0) {
      throw new EngineError('NotImplemented', `index type ${JSON.stringify(String(d))} on field '${f}' is not supported by this engine (only ascending/descending)`);
    }
    out[f] = n < 0 ? -1 : 1;
  }
  return out;
}

function createIndexes(cmd: Document, ctx: CommandContext): Document {
  const coll = collName(cmd);
  const specs = cmd.indexes;
  if (!Array.isArray(specs) || specs.length === 0) throw new EngineError('BadValue', 'Must specify at least one index to create');
  const existed = ctx.catalog.get(ctx.db, coll);
  const before = existed?.indexes.length ?? 1;
  if (!existed) ctx.apply({ op: 'cc', db: ctx.db, coll, options: {} });
  const c = ctx.catalog.get(ctx.db, coll)!;
  let created = 0;
  for (const raw of specs as Document[]) {
    rejectUnsupported(raw, ['collation', 'weights', 'wildcardProjection', '2dsphereIndexVersion']);
    const key = validateKey(raw.key);
    const name = typeof raw.name === 'string' ? raw.name : defaultIndexName(key);
    const spec: IndexSpec = { v: 2, key, name };
    if (raw.unique === true) spec.unique = true;
    if (raw.sparse === true) spec.sparse = true;
    if (isPlainObject(raw.partialFilterExpression)) spec.partialFilterExpression = raw.partialFilterExpression;
    if (raw.expireAfterSeconds !== undefined) spec.expireAfterSeconds = raw.expireAfterSeconds;
    const same = c.indexByName(name);
    const sameKey = c.indexes.find((ix) => JSON.stringify(ix.spec.key) === JSON.stringify(key));
    if (same) {
      if (JSON.stringify(same.spec.key) !== JSON.stringify(key)) {
        throw new EngineError('IndexKeySpecsConflict', `An existing index has the same name as the requested index but a different key: ${name}`);
      }
      if (!!same.spec.unique !== !!spec.unique) throw new EngineError('IndexOptionsConflict', `An existing index has the same name as the requested index but different options: ${name}`);
      continue;
    }
    if (sameKey && !!sameKey.spec.unique === !!spec.unique && !spec.partialFilterExpression) {
      throw new EngineError('IndexOptionsConflict', `Index already exists with a different name: ${sameKey.name}`);
    }
    ctx.apply({ op: 'ci', db: ctx.db, coll, spec });
    created++;
  }
  const reply: Document = { numIndexesBefore: before, numIndexesAfter: c.indexes.length, createdCollectionAutomatically: !existed };
  if (created === 0) reply.note = 'all indexes already exist';
  reply.ok = 1;
  return reply;
}

function listIndexes(cmd: Document, ctx: CommandContext): Document {
  const coll = collName(cmd);
  const c = ctx.catalog.get(ctx.db, coll);
  if (!c) throw nsMissing(ctx.db, coll);
  const ns = `${ctx.db}.${coll}`;
  const b = ctx.cursors.first(ns, c.indexes.map((ix) => ix.spec)[Symbol.iterator](), isPlainObject(cmd.cursor) ? optBatch(cmd.cursor) : undefined);
  return { cursor: { id: b.id, ns, firstBatch: b.docs }, ok: 1 };
}

function dropIndexes(cmd: Document, ctx: CommandContext): Document {
  const coll = collName(cmd);
  const c = ctx.catalog.get(ctx.db, coll);
  if (!c) throw nsMissing(ctx.db, coll);
  const nIndexesWas = c.indexes.length;
  const target = cmd.index;
  let names: string[];
  if (target === '*') names = c.indexes.slice(1).map((ix) => ix.name);
  else if (typeof target === 'string') names = [target];
  else if (Array.isArray(target)) names = target.map(String);
  else if (isPlainObject(target)) {
    const key = JSON.stringify(validateKey(target));
    const ix = c.indexes.find((i) => JSON.stringify(i.spec.key) === key);
    if (!ix) throw new EngineError('IndexNotFound', `can't find index with key: ${JSON.stringify(target)}`);
    names = [ix.name];
  } else throw new EngineError('TypeMismatch', 'dropIndexes: index must be a string, array of strings or key pattern');
  for (const name of names) {
    if (!c.indexByName(name)) throw new EngineError('IndexNotFound', `index not found with name [${name}]`);
    if (name === '_id_') throw new EngineError('InvalidOptions', 'cannot drop _id index');
  }
  for (const name of names) ctx.apply({ op: 'di', db: ctx.db, coll, name });
  return { nIndexesWas, ok: 1 };
}

/** Handlers of this family, by command name. */
export const ddlCommands: Record<string, Handler> = {
  create, drop, listCollections, dropDatabase, listDatabases, createIndexes, listIndexes, dropIndexes, deleteIndexes: dropIndexes,
};
