/**
 * The native MAC (src/protocol/mac.ts) against node:crypto's own
 * HMAC-SHA256, byte for byte: random keys (short, 32 bytes, longer than a
 * block) and messages (empty to larger than any datagram), the same key
 * object reused across messages of growing and shrinking length.
 */
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digestBase64url, hmacSha256, hmacSha256Into } from '../../src/protocol/mac.js';

const reference = (data: Uint8Array, key: Uint8Array) => createHmac('sha256', key).update(data).digest();

describe('hmacSha256', () => {
  it('matches createHmac for random keys and messages', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.uint8Array({ maxLength: 5000 }), (key, data) => {
      expect(hmacSha256(data, key).equals(reference(data, key))).toBe(true);
    }), { numRuns: 500 });
  });

  it('matches createHmac when one key object MACs many messages in turn', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(fc.uint8Array({ maxLength: 1500 }), { minLength: 1, maxLength: 20 }), (key, messages) => {
      for (const m of messages) expect(hmacSha256(m, key).equals(reference(m, key))).toBe(true);
    }));
  });

  it('matches createHmac when lengths repeat, before and after the key\'s buffer grew', () => {
    const key = Buffer.alloc(32, 9);
    const lengths = [10, 200, 10, 200, 3000, 10, 200, 3000, 10, 5000, 200, 10];
    fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 5000, maxLength: 5000 }), { minLength: lengths.length, maxLength: lengths.length }), (pool) => {
      lengths.forEach((n, i) => {
        const m = pool[i]!.subarray(0, n);
        expect(hmacSha256(m, key).equals(reference(m, key))).toBe(true);
      });
    }), { numRuns: 20 });
  });

  it('matches createHmac when a key\'s messages come in a few lengths, in any order (the views kept for the last two lengths)', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(fc.constantFrom(90, 140, 300), { minLength: 2, maxLength: 30 }), fc.uint8Array({ minLength: 300, maxLength: 300 }), (key, lengths, pool) => {
      const k = Buffer.from(key);
      lengths.forEach((n, i) => {
        const m = Buffer.from(pool.subarray(0, n));
        m[0] = i;
        expect(hmacSha256(m, k).equals(reference(m, k))).toBe(true);
      });
    }));
  });

  it('writes the same MAC in place, touching only its 32 bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 1300 }), fc.nat(40), (key, data, offset) => {
      const out = Buffer.alloc(offset + 32 + 8, 0xee);
      hmacSha256Into(data, key, out, offset);
      expect(out.subarray(offset, offset + 32).equals(reference(data, key))).toBe(true);
      expect(out.subarray(0, offset).every((b) => b === 0xee) && out.subarray(offset + 32).every((b) => b === 0xee)).toBe(true);
    }));
  });

  it('gives the RFC 4231 test case 2 value', () => {
    const mac = hmacSha256(Buffer.from('what do ya want for nothing?'), Buffer.from('Jefe'));
    expect(mac.toString('hex')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('tells apart keys where one is a prefix of the other', () => {
    const data = Buffer.from('same bytes');
    const a = Buffer.alloc(32, 1);
    const b = Buffer.concat([a, Buffer.from([2])]);
    expect(hmacSha256(data, a).equals(hmacSha256(data, b))).toBe(false);
    expect(hmacSha256(data, b).equals(reference(data, b))).toBe(true);
  });

  it('digestBase64url matches createHash', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), fc.constantFrom('sha1' as const, 'sha256' as const), (data, alg) => {
      expect(digestBase64url(alg, data)).toBe(createHash(alg).update(data).digest('base64url'));
    }));
  });
});
