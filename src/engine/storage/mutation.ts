/**
 * Every change to the data is one of these plain records, applied by
 * {@link applyMutation} alone. Commands produce them, the journal stores them
 * and recovery replays them, so live execution and replay cannot diverge.
 */
import type { Document } from 'bson';
import { EngineError } from '../errors.js';
import type { Doc } from '../query/paths.js';
import type { Catalog } from './catalog.js';
import type { IndexSpec } from './sorted-index.js';
import type { DocRecord } from './record.js';

/** A single change to the catalog. */
export type Mutation =
  | { op: 'i'; db: string; coll: string; doc: Doc }
  | { op: 'u'; db: string; coll: string; doc: Doc }
  | { op: 'd'; db: string; coll: string; id: unknown }
  | { op: 'cc'; db: string; coll: string; options: Document }
  | { op: 'dc'; db: string; coll: string }
  | { op: 'ci'; db: string; coll: string; spec: IndexSpec }
  | { op: 'di'; db: string; coll: string; name: string }
  | { op: 'dd'; db: string };

/**
 * Applies one mutation. Constraint violations (duplicate keys) throw before
 * anything changes. Returns the affected record for document mutations.
 */
export function applyMutation(catalog: Catalog, m: Mutation): DocRecord | undefined {
  switch (m.op) {
    case 'i':
      return catalog.ensure(m.db, m.coll).insert(m.doc);
    case 'u': {
      const c = catalog.get(m.db, m.coll);
      const rec = c?.getById(m.doc._id);
      if (!c || !rec) throw new EngineError('NoSuchKey', `update of a missing document in ${m.db}.${m.coll}`);
      return c.replace(rec, m.doc);
    }
    case 'd': {
      const c = catalog.get(m.db, m.coll);
      const rec = c?.getById(m.id);
      if (!c || !rec) return undefined;
      c.remove(rec);
      return rec;
    }
    case 'cc':
      catalog.ensure(m.db, m.coll, m.options);
      return undefined;
    case 'dc':
      catalog.drop(m.db, m.coll);
      return undefined;
    case 'ci':
      catalog.ensure(m.db, m.coll).createIndex(m.spec);
      return undefined;
    case 'di': {
      catalog.get(m.db, m.coll)?.dropIndex(m.name);
      return undefined;
    }
    case 'dd':
      catalog.dropDatabase(m.db);
      return undefined;
  }
}
