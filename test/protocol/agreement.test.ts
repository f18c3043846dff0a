/**
 * The X25519 key agreement of REGISTER: the public half travels as 43
 * base64url characters (the raw 32 bytes), and both sides derive the same
 * user key from it. Keys are now encoded inside the generation job (see
 * newAgreementKeys); this pins that the wire form did not change.
 */
import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveUserKey, newAgreementKeys } from '../../src/protocol/auth';

describe('newAgreementKeys', () => {
  it('gives the raw public key of its private key, in base64url', () => {
    for (let i = 0; i < 20; i++) {
      const k = newAgreementKeys();
      expect(k.pub).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(createPublicKey(k.privateKey).export({ format: 'jwk' }).x).toBe(k.pub);
    }
  });

  it('lets client and server derive the same user key, and a different one for another name', () => {
    const client = newAgreementKeys();
    const server = newAgreementKeys();
    const onClient = deriveUserKey(client, server.pub, client.pub, server.pub, 'ana');
    const onServer = deriveUserKey(server, client.pub, client.pub, server.pub, 'ana');
    expect(onClient).toBeDefined();
    expect(onClient!.equals(onServer!)).toBe(true);
    expect(deriveUserKey(server, client.pub, client.pub, server.pub, 'bob')!.equals(onServer!)).toBe(false);
  });
});
