/** InsertionOrder: the oldest key of a map found beside it, checked against the Map's own order. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InsertionOrder } from '../../src/server/insertion-order';

/** A map that keeps its insertion order both ways: the Map's own (the reference) and an InsertionOrder. */
class Twin {
  readonly map = new Map<number, number>();
  private token = 0;
  readonly order = new InsertionOrder<number, number>((k) => this.map.get(k));
  set(k: number): void {
    this.map.delete(k);
    this.map.set(k, ++this.token);
    this.order.push(k, this.token, this.map.size);
  }
}

describe('InsertionOrder', () => {
  it('names the same oldest key as the Map, under sets, re-sets, deletes and evictions', () => {
    const op = fc.oneof(
      fc.record({ set: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ del: fc.integer({ min: 0, max: 40 }) }),
      fc.constant({ evict: true as const }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const t = new Twin();
      for (const o of ops) {
        if ('set' in o) t.set(o.set);
        else if ('del' in o) t.map.delete(o.del);
        else {
          const oldest = t.order.oldest();
          expect(oldest).toBe(t.map.keys().next().value);
          if (oldest !== undefined) t.map.delete(oldest);
        }
        expect(t.order.oldest()).toBe(t.map.keys().next().value);
        // Stale pairs never pile up beyond about twice the map.
        expect(t.order.queued).toBeLessThanOrEqual(2 * t.map.size + 33);
      }
    }));
  });

  it('stays within about twice the map when the same few keys are set again and again', () => {
    const t = new Twin();
    for (let i = 0; i < 10_000; i++) t.set(i % 3);
    expect(t.order.queued).toBeLessThanOrEqual(2 * 3 + 33);
    expect(t.order.oldest()).toBe(t.map.keys().next().value);
  });

  it('takes keys oldest first through a long run at a bound (front trimmed as it goes)', () => {
    const t = new Twin();
    const taken: number[] = [];
    for (let k = 0; k < 5000; k++) {
      t.set(k);
      if (t.map.size > 100) {
        const oldest = t.order.oldest()!;
        taken.push(oldest);
        t.map.delete(oldest);
      }
    }
    expect(taken).toEqual(Array.from({ length: 4900 }, (_, i) => i));
    expect(t.order.queued).toBeLessThanOrEqual(2 * 100 + 33);
  });
});
