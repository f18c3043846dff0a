/** All databases of one engine instance: database name → collection name → Collection. */
import type { Document } from 'bson';
import { Collection, type PredicateFactory } from './collection.js';

/** The in-memory catalog. */
export class Catalog {
  readonly dbs = new Map<string, Map<string, Collection>>();

  constructor(private readonly predicate: PredicateFactory) {}

  /** Returns a collection, or undefined if it does not exist. */
  get(db: string, coll: string): Collection | undefined {
    return this.dbs.get(db)?.get(coll);
  }

  /** Returns a collection, creating it (and its database) when missing. */
  ensure(db: string, coll: string, options: Document = {}): Collection {
    let colls = this.dbs.get(db);
    if (!colls) {
      colls = new Map();
      this.dbs.set(db, colls);
    }
    let c = colls.get(coll);
    if (!c) {
      c = new Collection(db, coll, options, this.predicate);
      colls.set(coll, c);
    }
    return c;
  }

  /** Drops a collection; returns whether it existed. */
  drop(db: string, coll: string): boolean {
    const colls = this.dbs.get(db);
    if (!colls?.delete(coll)) return false;
    if (colls.size === 0) this.dbs.delete(db);
    return true;
  }

  /** Drops a whole database. */
  dropDatabase(db: string): boolean {
    return this.dbs.delete(db);
  }
}
