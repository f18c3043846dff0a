/** SortedList: order, deletes, bounds, and iteration that survives concurrent changes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedList } from '../../src/engine/storage/sorted-list.js';
import { replayOnModel } from './sorted-list-model.js';

const byNum = (a: number, b: number) => a - b;

describe('SortedList', () => {
  it('keeps any insert/delete sequence sorted (model: a sorted array)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 })), { maxLength: 3000 }), (ops) => {
        replayOnModel(new SortedList<number>(byNum), byNum, ops);
      }),
      { numRuns: 50 },
    );
  });

  it('lowerBound / lastBefore find range ends', () => {
    const s = new SortedList<number>(byNum);
    for (let i = 0; i < 5000; i += 2) s.insert(i);
    const from = s.lowerBound((e) => e >= 1001)!;
    expect([...s.forward(from)].slice(0, 3)).toEqual([1002, 1004, 1006]);
    const to = s.lastBefore((e) => e > 1001)!;
    expect([...s.backward(to)].slice(0, 3)).toEqual([1000, 998, 996]);
    expect(s.lowerBound((e) => e > 10_000)).toBeUndefined();
    expect(s.lastBefore((e) => e >= 0)).toBeUndefined();
  });

  it('a live iterator sees every element present throughout exactly once despite inserts and deletes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 2000 }), fc.boolean(), (n, noise, backward) => {
        const s = new SortedList<number>(byNum);
        // Stable elements are multiples of 2; noise uses odd numbers, inserted and removed mid-walk.
        for (let i = 0; i < n; i++) s.insert(i * 2);
        const seen: number[] = [];
        const inserted: number[] = [];
        const used = new Set<number>();
        let k = 0;
        for (const x of backward ? s.backward() : s.forward()) {
          seen.push(x);
          k++;
          if (k > 3 * n) continue; // bounded churn, so the walk always ends
          if (k % 3 === 0 && inserted.length > 0) {
            s.delete(inserted.splice((noise[k % Math.max(1, noise.length)] ?? 0) % inserted.length, 1)[0]);
          } else {
            // Unique odd values (the engine's entries are totally ordered: no two compare equal).
            let v = ((noise[k % Math.max(1, noise.length)] ?? k) % (2 * n + 1)) * 2 + 1;
            while (used.has(v)) v += 2;
            used.add(v);
            inserted.push(v);
            s.insert(v);
          }
        }
        const stable = seen.filter((x) => x % 2 === 0);
        const want = Array.from({ length: n }, (_, i) => i * 2);
        expect(stable).toEqual(backward ? want.reverse() : want);
        expect(new Set(seen).size).toBe(seen.length);
      }),
      { numRuns: 60 },
    );
  });

  it('visitFrom walks from the lower bound across chunks and stops when told (model: a sorted array)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 3000 }), fc.integer({ min: -1, max: 401 }), fc.nat(1200), (xs, t, n) => {
        const s = new SortedList<number>(byNum);
        for (const x of xs) s.insert(x);
        const seen: number[] = [];
        s.visitFrom(
          (e) => e >= t,
          (e) => {
            seen.push(e);
            return seen.length < n;
          },
        );
        const want = [...xs].sort(byNum).filter((e) => e >= t);
        expect(seen).toEqual(want.slice(0, Math.max(1, n)));
      }),
      { numRuns: 100 },
    );
  });
});
