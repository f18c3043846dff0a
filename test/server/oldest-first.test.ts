/** OldestFirst: a map's entries oldest first, linked through the entries, checked against the Map's own order. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OldestFirst } from '../../src/server/oldest-first';

interface Entry {
  key: number;
  older?: Entry | undefined;
  newer?: Entry | undefined;
}

/** A map kept in insertion order both ways: the Map's own (the reference) and an OldestFirst list. */
class Twin {
  readonly map = new Map<number, Entry>();
  readonly order = new OldestFirst<Entry>();
  set(key: number): void {
    this.delete(key);
    const e: Entry = { key };
    this.map.set(key, e);
    this.order.append(e);
  }
  delete(key: number): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    this.order.remove(e);
  }
}

describe('OldestFirst', () => {
  it('holds the same entries in the same order as the Map, under sets, re-sets, deletes and evictions', () => {
    const op = fc.oneof(
      fc.record({ set: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ del: fc.integer({ min: 0, max: 40 }) }),
      fc.constant({ evict: true as const }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const t = new Twin();
      for (const o of ops) {
        if ('set' in o) t.set(o.set);
        else if ('del' in o) t.delete(o.del);
        else if (t.order.oldest) t.delete(t.order.oldest.key);
        expect(t.order.oldest?.key).toBe(t.map.keys().next().value);
        expect([...t.order].map((e) => e.key)).toEqual([...t.map.keys()]);
      }
    }));
  });

  it('takes entries oldest first through a long run at a bound, and lets go of what it no longer holds', () => {
    const t = new Twin();
    const taken: number[] = [];
    for (let k = 0; k < 5000; k++) {
      t.set(k);
      if (t.map.size > 100) {
        const oldest = t.order.oldest!;
        taken.push(oldest.key);
        t.delete(oldest.key);
        // A removed entry keeps no link into the list (nor the list one to it).
        expect(oldest.older).toBeUndefined();
        expect(oldest.newer).toBeUndefined();
      }
    }
    expect(taken).toEqual(Array.from({ length: 4900 }, (_, i) => i));
    t.order.clear();
    expect(t.order.oldest).toBeUndefined();
    expect([...t.order]).toEqual([]);
  });
});
