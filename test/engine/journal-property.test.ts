import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Document } from 'bson';
import { Journal } from '../../src/engine/storage/journal.js';
import { cleanupDirs, tempDir } from './journal-helpers.js';

afterEach(cleanupDirs);

type Op =
  | { t: 'append'; k: number } // k appends issued concurrently
  | { t: 'appendMany'; k: number }
  | { t: 'compact'; wait: boolean } // wait=false: later ops race the compaction
  | { t: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('append' as const), k: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('appendMany' as const), k: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('compact' as const), wait: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reopen' as const) }) },
);

/** The snapshot the model passes to compact: the ids so far, in chunks of 3. */
function chunksOf(ids: number[]): Document[] {
  const out: Document[] = [];
  for (let i = 0; i < ids.length; i += 3) out.push({ ids: ids.slice(i, i + 3) });
  return out;
}

describe('journal property', () => {
  it('any sequence of appends/compactions then reopen yields the last snapshot and exactly the records after it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 25 }), async (ops) => {
        const dir = await tempDir();
        let { journal } = await Journal.open(dir, { onWarning: (m) => expect.fail(`unexpected warning: ${m}`) });
        const all: number[] = [];
        let snapAt: number | null = null;
        let pending: Promise<void>[] = [];

        const check = async (): Promise<void> => {
          await Promise.all(pending);
          pending = [];
          await journal.close();
          const o = await Journal.open(dir, { onWarning: (m) => expect.fail(`unexpected warning: ${m}`) });
          journal = o.journal;
          expect(o.snapshot).toEqual(snapAt === null ? null : chunksOf(all.slice(0, snapAt)));
          expect(o.records).toEqual(all.slice(snapAt ?? 0).map((v) => ({ v })));
        };

        for (const op of ops) {
          if (op.t === 'append') {
            for (let i = 0; i < op.k; i++) {
              all.push(all.length);
              pending.push(journal.append({ v: all.length - 1 }));
            }
          } else if (op.t === 'appendMany') {
            const recs = Array.from({ length: op.k }, () => ({ v: all.push(all.length) - 1 }));
            pending.push(journal.appendMany(recs));
          } else if (op.t === 'compact') {
            // The snapshot reflects every append called so far (the compaction rule).
            snapAt = all.length;
            const p = journal.compact(chunksOf(all.slice()));
            if (op.wait) await p;
            else pending.push(p);
          } else {
            await check();
          }
        }
        await check();
        await journal.close();
        await cleanupDirs();
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
