/** Runs a find-style query over a collection: plan, filter, sort, skip, limit. */
import type { Document } from 'bson';
import type { Collection } from '../storage/collection.js';
import type { DocRecord } from '../storage/record.js';
import { compileFilter } from './match.js';
import { compareValues } from './order.js';
import { planQuery } from './plan.js';
import { parseSort, sortKey } from './sort.js';

/** Counters in the spirit of explain's executionStats. */
export interface ExecStats {
  docsExamined: number;
  stage: string;
}

/** Query parameters shared by find, count, delete, update and findAndModify. */
export interface QuerySpec {
  filter?: Document;
  sort?: Document;
  skip?: number;
  /** 0 or undefined: no limit. */
  limit?: number;
}

/** Yields the matching records in order; `stats` is updated as the iteration proceeds. */
export function* queryRecords(coll: Collection | undefined, q: QuerySpec, stats: ExecStats): Generator<DocRecord> {
  if (!coll) return;
  const match = compileFilter(q.filter);
  const sort = parseSort(q.sort);
  const plan = planQuery(coll, q.filter, sort);
  stats.stage = plan.stage;
  let skip = q.skip ?? 0;
  let left = q.limit && q.limit > 0 ? q.limit : Infinity;
  if (left === 0) return;
  if (plan.sorted) {
    for (const rec of plan.candidates) {
      stats.docsExamined++;
      if (!match(rec)) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      yield rec;
      if (--left === 0) return;
    }
    return;
  }
  const hits: { rec: DocRecord; keys: unknown[] }[] = [];
  for (const rec of plan.candidates) {
    stats.docsExamined++;
    if (match(rec)) hits.push({ rec, keys: sort.map((s) => sortKey(rec.doc, s.parts, s.dir)) });
  }
  // Array.prototype.sort is stable, so ties keep insertion order as mongod's collection scans tend to.
  hits.sort((a, b) => {
    for (let i = 0; i < sort.length; i++) {
      const c = compareValues(a.keys[i], b.keys[i]);
      if (c !== 0) return c * sort[i].dir;
    }
    return 0;
  });
  for (let i = skip; i < hits.length && left > 0; i++, left--) yield hits[i].rec;
}

