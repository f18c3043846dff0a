/** The errors module: codes unique and documented, every class carries its code, `cause` passes through. */
import { describe, expect, it } from 'vitest';
import {
  AuthError, DeniedError, ERROR_CODES, InvalidArgumentError, NotServingError, ProtocolError, RssError,
  StorageError, TimeoutError, type ErrorCode,
} from '../src/errors.js';

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

describe('ERROR_CODES', () => {
  it('has stable, well-formed names', () => {
    for (const code of codes) expect(code).toMatch(/^RSS_[A-Z]+(?:_[A-Z]+)*$/);
  });

  it('documents every code with a distinct, non-empty text', () => {
    const texts = Object.values(ERROR_CODES).map((t) => t.trim());
    for (const t of texts) expect(t.length).toBeGreaterThan(10);
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('is unique even ignoring case (no near-duplicates a caller could mix up)', () => {
    expect(new Set(codes.map((c) => c.toLowerCase())).size).toBe(codes.length);
  });
});

describe('error classes', () => {
  const made: [RssError, ErrorCode, string][] = [
    [new RssError('RSS_CLOSED', 'closed'), 'RSS_CLOSED', 'RssError'],
    [new ProtocolError('RSS_MALFORMED', 'bad'), 'RSS_MALFORMED', 'ProtocolError'],
    [new ProtocolError('RSS_TOO_LARGE', 'big'), 'RSS_TOO_LARGE', 'ProtocolError'],
    [new ProtocolError('RSS_UNKNOWN_TYPE', 'what'), 'RSS_UNKNOWN_TYPE', 'ProtocolError'],
    [new TimeoutError('slow'), 'RSS_TIMEOUT', 'TimeoutError'],
    [new DeniedError({ type: 'REGISTER-DENIED', reason: 'name in use' }), 'RSS_DENIED', 'DeniedError'],
    [new InvalidArgumentError('--port'), 'RSS_INVALID_ARGUMENT', 'InvalidArgumentError'],
    [new StorageError('down'), 'RSS_STORAGE', 'StorageError'],
    [new NotServingError(), 'RSS_NOT_SERVING', 'NotServingError'],
    [new AuthError('bad mac'), 'RSS_AUTH', 'AuthError'],
  ];

  it.each(made)('%s exposes code %s and is an RssError named %s', (err, code, name) => {
    expect(err.code).toBe(code);
    expect(err).toBeInstanceOf(RssError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe(name);
    expect(ERROR_CODES[err.code]).toBeTruthy();
    expect(err.stack).toContain(name);
  });

  it('ProtocolError carries the partial request when given, and none otherwise', () => {
    const partial = { type: 'REGISTER', rq: 7, name: 'alice' };
    expect(new ProtocolError('RSS_MALFORMED', 'missing Port', partial).partial).toEqual(partial);
    expect(new ProtocolError('RSS_MALFORMED', 'x').partial).toBeUndefined();
  });

  it('DeniedError keeps the reply and falls back to its type as message', () => {
    const reply = { type: 'PUBLISH-DENIED' };
    const err = new DeniedError(reply);
    expect(err.reply).toBe(reply);
    expect(err.message).toBe('PUBLISH-DENIED');
    expect(new DeniedError({ type: 'X', reason: 'why' }).message).toBe('why');
  });

  it('NotServingError has a default message', () => {
    expect(new NotServingError().message).toMatch(/serving/);
  });
});

describe('cause', () => {
  it('passes through RssError and StorageError', () => {
    const root = new Error('ECONNREFUSED');
    expect(new RssError('RSS_STORAGE', 'wrapped', { cause: root }).cause).toBe(root);
    expect(new StorageError('store unreachable', { cause: root }).cause).toBe(root);
  });

  it('is absent when not given', () => {
    expect(new StorageError('x').cause).toBeUndefined();
    expect('cause' in new RssError('RSS_CLOSED', 'x')).toBe(false);
  });

  it('may be any value, as in the platform', () => {
    expect(new StorageError('x', { cause: 42 }).cause).toBe(42);
  });
});
