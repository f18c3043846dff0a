/** Cursor registry: batching, exhaustion and idle expiry (with an injected clock). */
import { describe, expect, it } from 'vitest';
import { CURSOR_IDLE_MS, CursorStore } from '../../src/engine/commands/cursors.js';

function docs(n: number) {
  return Array.from({ length: n }, (_, i) => ({ i }))[Symbol.iterator]();
}

describe('CursorStore', () => {
  it('returns id 0 when the first batch exhausts the results', () => {
    const s = new CursorStore();
    const b = s.first('d.c', docs(3), 5);
    expect(b.id.isZero()).toBe(true);
    expect(b.docs).toHaveLength(3);
    expect(s.size).toBe(0);
  });

  it('keeps a cursor open until the last batch, which returns id 0', () => {
    const s = new CursorStore();
    const b = s.first('d.c', docs(5), 2);
    expect(b.id.isZero()).toBe(false);
    expect(s.next(b.id, 'd.other', 2)).toBeUndefined(); // wrong namespace
    expect(s.next(b.id, 'd.c', 2)!.docs).toEqual([{ i: 2 }, { i: 3 }]);
    const last = s.next(b.id, 'd.c', 2)!;
    expect(last.docs).toEqual([{ i: 4 }]);
    expect(last.id.isZero()).toBe(true);
    expect(s.size).toBe(0);
  });

  it('an exact multiple of the batch size still ends with id 0 and no empty extra round', () => {
    const s = new CursorStore();
    const b = s.first('d.c', docs(4), 2);
    const last = s.next(b.id, 'd.c', 2)!;
    expect(last.docs).toHaveLength(2);
    expect(last.id.isZero()).toBe(true);
  });

  it('drops cursors idle for longer than the timeout when another cursor opens', () => {
    let now = 1_000_000;
    const s = new CursorStore(() => now);
    const old = s.first('d.c', docs(10), 1);
    now += CURSOR_IDLE_MS + 60_001;
    const fresh = s.first('d.c', docs(10), 1);
    expect(s.next(old.id, 'd.c', 1)).toBeUndefined();
    expect(s.next(fresh.id, 'd.c', 1)!.docs).toEqual([{ i: 1 }]);
  });
});
