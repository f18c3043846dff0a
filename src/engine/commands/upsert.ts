/** Building the document an upsert inserts when nothing matched. */
import { ObjectId, type Document } from 'bson';
import { EngineError } from '../errors.js';
import { cloneDoc, slotOf, writeSlot } from '../query/mutate-path.js';
import { isPlainObject, type Doc } from '../query/paths.js';
import type { PositionalContext } from '../query/positional.js';
import { applyUpdate, type ParsedUpdate } from '../query/update.js';

/** Equality fields of a filter ({a: 1}, {a: {$eq: 1}}, inside $and) as a seed document. */
function seedFromFilter(filter: Document | undefined, out: Doc = {}): Doc {
  if (!filter) return out;
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) if (isPlainObject(sub)) seedFromFilter(sub, out);
      continue;
    }
    if (k.startsWith('$')) continue;
    let value: unknown;
    if (isPlainObject(v) && Object.keys(v).some((x) => x.startsWith('$'))) {
      if (!('$eq' in v)) continue;
      value = v.$eq;
    } else {
      value = v;
    }
    writeSlot(slotOf(out, k.split('.'), true)!, cloneDoc(value));
  }
  return out;
}

/** The new document of an upsert: filter equalities, then the update, with _id first. */
export function upsertDocument(filter: Document | undefined, update: ParsedUpdate, pos?: PositionalContext): Doc {
  const seed = seedFromFilter(filter);
  let doc: Doc;
  if (update.kind === 'replace') {
    doc = applyUpdate({}, update, true);
    if (doc._id === undefined && seed._id !== undefined) doc = { _id: seed._id, ...doc };
  } else {
    doc = applyUpdate(seed, update, true, pos);
  }
  if (doc._id === undefined) return { _id: new ObjectId(), ...doc };
  if (Array.isArray(doc._id)) throw new EngineError('InvalidIdField', "The '_id' value cannot be of type array");
  if (Object.keys(doc)[0] !== '_id') {
    const { _id, ...rest } = doc;
    return { _id, ...rest };
  }
  return doc;
}
