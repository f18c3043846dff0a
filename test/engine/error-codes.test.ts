/** The error-code table: unique codes, and every code documented in the engine README. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError, ErrorCodes, toEngineError } from '../../src/engine/errors.js';

const readme = readFileSync(new URL('../../src/engine/README.md', import.meta.url), 'utf8');

describe('engine error codes', () => {
  it('are unique', () => {
    const codes = Object.values(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('carry code and codeName', () => {
    const e = new EngineError('DuplicateKey', 'dup', { keyValue: { a: 1 } });
    expect(e.code).toBe(11000);
    expect(e.codeName).toBe('DuplicateKey');
    expect(e.extra).toEqual({ keyValue: { a: 1 } });
  });

  it('are each mentioned in the README', () => {
    // Codes that never reach a client (protocol errors close the connection) are exempt.
    const internal = new Set(['NoSuchKey', 'ProtocolError']);
    const text = readme.replace(/\s+/g, ' ');
    const missing = Object.entries(ErrorCodes).filter(([name, code]) => !internal.has(name) && !text.includes(`${code} ${name}`));
    expect(missing).toEqual([]);
  });

  it('foreign errors become InternalError, mingo operator errors BadValue', () => {
    expect(toEngineError(new Error('boom')).codeName).toBe('InternalError');
    expect(toEngineError(new Error('unknown query operator $x')).codeName).toBe('BadValue');
  });
});
