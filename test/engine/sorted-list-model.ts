/** Replaying inserts and deletes on a SortedList and on a plain array (the model), then comparing them. */
import { expect } from 'vitest';
import type { SortedList } from '../../src/engine/storage/sorted-list.js';

/**
 * Applies `ops` (true: insert x, false: delete one element equal to x) to
 * `s` and to an array, then expects the same elements in both walks.
 * `insert` puts an element into the list (default `s.insert`).
 */
export function replayOnModel<T>(s: SortedList<T>, cmp: (a: T, b: T) => number, ops: [boolean, T][], insert = (x: T, _model: T[]) => s.insert(x)): void {
  const model: T[] = [];
  for (const [ins, x] of ops) {
    if (ins) {
      insert(x, model);
      model.push(x);
    } else {
      const at = model.findIndex((m) => cmp(m, x) === 0);
      expect(s.delete(x)).toBe(at >= 0);
      if (at >= 0) model.splice(at, 1);
    }
  }
  model.sort(cmp);
  expect([...s.forward()]).toEqual(model);
  expect([...s.backward()]).toEqual([...model].reverse());
  expect(s.size).toBe(model.length);
}
