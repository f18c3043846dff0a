/**
 * `{_id: {$in: [...]}}` is answered by hash lookups. The same filter wrapped
 * in `$and` takes the general path (a seek per value in the _id index); both
 * must give the same documents in the same order, with the same stage and
 * docs examined, also when a cursor's later batches follow deletes and
 * inserts, and for deletes and updates.
 */
import { BSON, Double, Long, type Document } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EngineCore } from '../../src/engine/core.js';
import { run } from './core-commands.js';


// Mostly ids the lookups take (strings, JS numbers); wrapped numbers send the query the general way.
const id = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -3, max: 8 }) },
  { weight: 2, arbitrary: fc.constantFrom('a', 'b', 'ab', '', 0.5, -0.5) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }).map((n) => new Double(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }).map((n) => Long.fromNumber(n)) },
);
const ids = fc.uniqueArray(id, { maxLength: 15, selector: (v) => JSON.stringify(BSON.serialize({ v })) });
const points = fc.array(id, { minLength: 2, maxLength: 8 });
const sort = fc.constantFrom(undefined, { _id: 1 }, { _id: -1 }, { x: 1 });

/** A collection holding `stored` (one document per distinct id; later equal ids are refused). */
function load(core: EngineCore, coll: string, stored: unknown[]): void {
  run(core, { createIndexes: coll, indexes: [{ key: { x: 1 }, name: 'x' }] });
  run(core, { insert: coll, ordered: false, documents: stored.map((v, i) => ({ _id: v, x: i % 3 })) });
}

describe('_id $in by lookups', () => {
  it('finds what the index scan finds, in the same order, across batches with writes in between', () => {
    fc.assert(
      fc.property(ids, points, sort, fc.integer({ min: 1, max: 3 }), fc.array(fc.nat(), { maxLength: 4 }), (stored, pts, s, batchSize, churn) => {
        const core = new EngineCore();
        const page = (filter: Document) => {
          const first = run(core, { find: 'x', filter, sort: s, batchSize });
          const explain = run(core, { explain: { find: 'x', filter, sort: s }, verbosity: 'executionStats' });
          return { first, explain };
        };
        load(core, 'x', stored);
        const fast = page({ _id: { $in: pts } });
        const slow = page({ $and: [{ _id: { $in: pts } }] });
        expect(fast.first.cursor.firstBatch).toEqual(slow.first.cursor.firstBatch);
        expect(fast.explain.executionStats.totalDocsExamined).toBe(slow.explain.executionStats.totalDocsExamined);
        expect(fast.explain.executionStats.executionStages.stage).toBe('IXSCAN _id_');
        expect(slow.explain.executionStats.executionStages.stage).toBe('IXSCAN _id_');
        // Later batches read the live collection: replace some of the ids and remove the last one first.
        for (const i of churn) {
          const c = pts[i % pts.length];
          run(core, { delete: 'x', deletes: [{ q: { _id: c }, limit: 1 }] });
          run(core, { insert: 'x', ordered: false, documents: [{ _id: c, x: 9 }] });
        }
        run(core, { delete: 'x', deletes: [{ q: { _id: pts[pts.length - 1] }, limit: 1 }] });
        const more = (cursor: Document) => (cursor.id && !cursor.id.isZero?.() ? run(core, { getMore: cursor.id, collection: 'x', batchSize: 100 }).cursor.nextBatch : []);
        expect(more(fast.first.cursor)).toEqual(more(slow.first.cursor));
      }),
      // Pinned: a document prefetched by the first batch, then re-inserted under its _id, is given again.
      { numRuns: 400, examples: [[['ab', 5], ['ab', 5, 0], undefined, 1, [1]]] },
    );
  });

  it('deletes and updates the same documents as the index scan does', () => {
    fc.assert(
      fc.property(ids, points, (stored, pts) => {
        const core = new EngineCore();
        load(core, 'f', stored);
        load(core, 's', stored);
        const docs = (coll: string) => run(core, { find: coll, filter: {}, batchSize: 1000 }).cursor.firstBatch;
        const u1 = run(core, { update: 'f', updates: [{ q: { _id: { $in: pts } }, u: { $inc: { x: 10 } }, multi: true }] });
        const u2 = run(core, { update: 's', updates: [{ q: { $and: [{ _id: { $in: pts } }] }, u: { $inc: { x: 10 } }, multi: true }] });
        expect(u1).toEqual(u2);
        expect(docs('f')).toEqual(docs('s'));
        const d1 = run(core, { delete: 'f', deletes: [{ q: { _id: { $in: pts } }, limit: 0 }] });
        const d2 = run(core, { delete: 's', deletes: [{ q: { $and: [{ _id: { $in: pts } }] }, limit: 0 }] });
        expect(d1).toEqual(d2);
        expect(docs('f')).toEqual(docs('s'));
      }),
      { numRuns: 300 },
    );
  });
});
