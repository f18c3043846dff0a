import { MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { StoreStalledError } from '../../src/errors';
import { isTransient, withRetry } from '../../src/store/retry';

const policy = { attempts: 3, firstWait: 1, maxWait: 2 };

describe('isTransient: which store errors are worth asking again', () => {
  it('a bare socket error the driver passed on unwrapped is the connection, not the request', () => {
    const reset = Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET' });
    expect(isTransient(reset)).toBe(true);
    expect(isTransient(new Error('wrapped', { cause: reset }))).toBe(true);
  });

  it('a refusal by the store, or a plain error, is not', () => {
    expect(isTransient(new MongoServerError({ message: 'duplicate key', code: 11000 }))).toBe(false);
    expect(isTransient(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBe(false);
    expect(isTransient(new Error('bug'))).toBe(false);
  });

  it('withRetry asks again after a reset connection and returns the answer', async () => {
    let calls = 0;
    const answer = await withRetry(async () => {
      if (++calls === 1) throw Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET' });
      return 'ok';
    }, policy);
    expect([answer, calls]).toEqual(['ok', 2]);
  });

  it('an attempt with no answer within its deadline counts as a lost connection: asked again', async () => {
    let calls = 0;
    const answer = await withRetry(() => (++calls === 1 ? new Promise<string>(() => {}) : Promise.resolve('ok')), { ...policy, attemptDeadline: 20 });
    expect([answer, calls]).toEqual(['ok', 2]);
  });

  it('a store that never answers fails the call once the attempts are spent, never holds it for good', async () => {
    let calls = 0;
    const err = await withRetry(() => (calls++, new Promise<string>(() => {})), { ...policy, attemptDeadline: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreStalledError);
    expect(isTransient(err)).toBe(true);
    expect(calls).toBe(policy.attempts);
  });
});
