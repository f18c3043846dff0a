import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/server/bounded-map';

describe('BoundedMap', () => {
  it('evicts the entry neither set nor read for the longest time', () => {
    const m = new BoundedMap<string, number>(4);
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) m.set(k, i);
    expect(m.get('a')).toBe(0);
    m.set('e', 4);
    expect(m.size).toBe(4);
    expect(m.peek('b')).toBeUndefined();
    expect(m.peek('a')).toBe(0);
    expect([...m.entriesIterator()].map(([k]) => k)).toEqual(['c', 'd', 'a', 'e']);
  });

  it('a read of a young entry does not reorder (coarse recency), an old one does', () => {
    const m = new BoundedMap<string, number>(8);
    m.set('a', 1);
    m.set('b', 2);
    m.get('a');
    expect([...m.entriesIterator()].map(([k]) => k)).toEqual(['a', 'b']);
  });

  it('never holds more than its bound, keeps the newest key, and answers what was last set', () => {
    const op = fc.oneof(
      fc.record({ set: fc.integer({ min: 0, max: 30 }), v: fc.integer() }),
      fc.record({ get: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ del: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: 10 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
      const m = new BoundedMap<number, number>(max);
      const model = new Map<number, number>();
      for (const o of ops) {
        if ('set' in o) {
          m.set(o.set, o.v);
          model.set(o.set, o.v);
          expect(m.peek(o.set)).toBe(o.v);
        } else if ('get' in o) {
          const got = m.get(o.get);
          if (got !== undefined) expect(got).toBe(model.get(o.get));
        } else {
          m.delete(o.del);
          model.delete(o.del);
        }
        expect(m.size).toBeLessThanOrEqual(max);
      }
    }));
  });
});
