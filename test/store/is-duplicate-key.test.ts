/** isDuplicateKey decides which write errors the store may swallow as "already there". */
import { MongoBulkWriteError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isDuplicateKey } from '../../src/store/store';

describe('isDuplicateKey', () => {
  it('is true for a duplicate key, alone or as every write error of a bulk write', () => {
    expect(isDuplicateKey(new MongoServerError({ message: 'E11000', code: 11000 }))).toBe(true);
    const bulk = new MongoBulkWriteError({ message: 'E11000', code: 11000, writeErrors: [{ code: 11000 }, { code: 11000 }] } as never, {} as never);
    expect(isDuplicateKey(bulk)).toBe(true);
  });

  // Regression: the bulk error's `code` is its first write error's, and it
  // was checked first, so a duplicate followed by a real failure was swallowed.
  it('is false when any write error is something else', () => {
    const bulk = new MongoBulkWriteError({ message: 'mixed', code: 11000, writeErrors: [{ code: 11000 }, { code: 121 }] } as never, {} as never);
    expect(bulk.code).toBe(11000);
    expect(isDuplicateKey(bulk)).toBe(false);
    expect(isDuplicateKey(new MongoServerError({ message: 'validation', code: 121 }))).toBe(false);
    expect(isDuplicateKey(new Error('E11000 lookalike'))).toBe(false);
    expect(isDuplicateKey(undefined)).toBe(false);
  });

  // Regression: a bulk write that failed only on its write concern (e.g. a
  // replica set timing out) carries an empty `writeErrors`, and `[].every()`
  // is true, so the store's inserts (texts, users) took the failure for "already
  // stored" and went on as if the write had succeeded (src/store/store.ts isDuplicateKey).
  it('is false for a write concern failure with no write errors', () => {
    const wc = new MongoBulkWriteError({ message: 'waiting for replication timed out', code: 64, writeErrors: [] } as never, {} as never);
    expect(wc.writeErrors).toEqual([]);
    expect(isDuplicateKey(wc)).toBe(false);
    expect(isDuplicateKey({ writeErrors: [] })).toBe(false);
  });
});
