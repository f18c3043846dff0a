/** DocRecord: a document kept as its BSON bytes reads back the same, survives a snapshot's capture, and shares nothing with its slab. */
import { Binary, BSON, Double, Long } from 'bson';
import { describe, expect, it } from 'vitest';
import { decodeDocument, decodeWrapped } from '../../src/engine/bson-form.js';
import type { Doc } from '../../src/engine/query/paths.js';
import { DocRecord } from '../../src/engine/storage/record.js';
import { Slabs } from '../../src/engine/storage/slabs.js';

const original = (): Doc => ({ _id: 7, n: 3, big: Long.fromString('9007199254740993'), whole: new Double(2), half: 0.5, s: 'text', bin: new Binary(Buffer.from([1, 2, 3])), list: [1, 'a', { x: null }] });

describe('DocRecord at rest', () => {
  it('reads back what was stored, types included, whichever records are read in between', () => {
    const slabs = new Slabs();
    const a = new DocRecord(original(), 1);
    const b = new DocRecord({ _id: 8, s: 'other' }, 2);
    a.rest(slabs);
    b.rest(slabs);
    expect(a.atRest && b.atRest).toBe(true);
    for (const rec of [a, b, a, a, b]) expect(BSON.serialize(rec.doc)).toEqual(BSON.serialize(rec === a ? original() : { _id: 8, s: 'other' }));
    expect(a.size).toBe(BSON.calculateObjectSize(original()));
  });

  it('an update keeps the new version decoded; a snapshot captured before it still reads the old one', () => {
    const slabs = new Slabs();
    const rec = new DocRecord(original(), 1);
    rec.rest(slabs);
    const docs: (Doc | Buffer)[] = [];
    const offsets: number[] = [];
    rec.capture(docs, offsets);
    expect(rec.doc.s).toBe('text');
    rec.doc = { ...rec.doc, s: 'changed' };
    expect(rec.atRest).toBe(false);
    expect(rec.doc.s).toBe('changed');
    rec.capture(docs, offsets);
    expect(offsets[1]).toBe(-1);
    expect(BSON.serialize(decodeWrapped(docs[0] as Buffer, offsets[0]!))).toEqual(BSON.serialize(original()));
    expect((docs[1] as Doc).s).toBe('changed');
  });

  it('a decoded binary value is its own bytes, not a view of the slab (changing it changes nothing stored)', () => {
    const slab = Buffer.concat([Buffer.alloc(10), BSON.serialize(original())]);
    const first = decodeDocument(slab, 10);
    (first.bin as Binary).buffer[0] = 99;
    expect([...(decodeDocument(slab, 10).bin as Binary).buffer]).toEqual([1, 2, 3]);
  });
});
