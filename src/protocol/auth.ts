/**
 * The cryptography of native authentication, pure (no I/O), on node:crypto
 * only:
 *
 * - User key agreement at REGISTER: the client sends an X25519 public key,
 *   the server answers with an ephemeral one of its own, and both derive
 *   K = HKDF-SHA256(shared secret, salt = clientPub ‖ serverPub,
 *   info = "rss user key" ‖ name). No secret ever crosses the wire, and K is
 *   bound to both fresh keys and to the name.
 * - Key wrapping: the server keeps K in the user document encrypted with
 *   AES-256-GCM under a key derived from the peer secret, the name as
 *   associated data (a wrapped key copied to another user does not unwrap).
 * - The peer MAC key for server-to-server messages, derived from the peer
 *   secret (a different HKDF label than the wrapping key).
 */
import {
  createCipheriv, createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes,
  type JsonWebKey, type KeyObject,
} from 'node:crypto';

/** Bytes of a user key and of the derived server keys. */
const KEY_BYTES = 32;

/** An X25519 key pair; `pub` is the raw public key in base64url (43 characters). */
export interface AgreementKeys {
  privateKey: KeyObject;
  pub: string;
}

/** A fresh X25519 key pair (the client's per REGISTER, the server's per registration). */
export function newAgreementKeys(): AgreementKeys {
  // The public half is encoded inside the key-generation job: exporting a generated key afterwards
  // (`publicKey.export({ format: 'jwk' })`) can deadlock Node 20 for good when a garbage collection during the
  // export destroys the finished job, which takes the lock the export holds (seen in the bench: a process hung
  // at a REGISTER, its main thread in ~KeyGenJob under KeyObjectHandle::ExportJWK). Same cost as before.
  // (Node's typings lack the 'jwk' encoding for key generation; Node has it since 15.9.)
  const pair = generateKeyPairSync('x25519', { publicKeyEncoding: { format: 'jwk' } } as never) as unknown as { privateKey: KeyObject; publicKey: JsonWebKey };
  return { privateKey: pair.privateKey, pub: pair.publicKey.x! };
}

/**
 * K for `name` from our key pair and the other side's public key. Returns
 * undefined when the other key is unusable (e.g. a low-order point, which
 * would make the shared secret predictable).
 */
export function deriveUserKey(ours: AgreementKeys, theirPub: string, clientPub: string, serverPub: string, name: string): Buffer | undefined {
  let shared: Buffer;
  try {
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: theirPub }, format: 'jwk' });
    shared = diffieHellman({ privateKey: ours.privateKey, publicKey });
  } catch {
    return undefined;
  }
  if (shared.every((b) => b === 0)) return undefined;
  const salt = Buffer.concat([Buffer.from(clientPub, 'base64url'), Buffer.from(serverPub, 'base64url')]);
  return Buffer.from(hkdfSync('sha256', shared, salt, Buffer.from(`rss user key${name}`, 'utf8'), KEY_BYTES));
}

/** A key derived from the peer secret for one purpose (`label`). */
export function deriveServerKey(peerSecret: string, label: 'rss key wrap' | 'rss peer mac'): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(peerSecret, 'utf8'), Buffer.from('rss', 'utf8'), Buffer.from(label, 'utf8'), KEY_BYTES));
}

/** Encrypt user key `k` for storage: base64url of iv(12) ‖ ciphertext ‖ tag(16). */
export function wrapUserKey(k: Uint8Array, wrapKey: Uint8Array, name: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', wrapKey, iv);
  c.setAAD(Buffer.from(name, 'utf8'));
  const body = Buffer.concat([c.update(k), c.final()]);
  return Buffer.concat([iv, body, c.getAuthTag()]).toString('base64url');
}

/** Decrypt a wrapped key; undefined when it was not wrapped for `name` under `wrapKey` (or is damaged). */
export function unwrapUserKey(wrapped: string, wrapKey: Uint8Array, name: string): Buffer | undefined {
  const raw = Buffer.from(wrapped, 'base64url');
  if (raw.length !== 12 + KEY_BYTES + 16) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', wrapKey, raw.subarray(0, 12));
    d.setAAD(Buffer.from(name, 'utf8'));
    d.setAuthTag(raw.subarray(12 + KEY_BYTES));
    return Buffer.concat([d.update(raw.subarray(12, 12 + KEY_BYTES)), d.final()]);
  } catch {
    return undefined;
  }
}

/** A random challenge nonce (16 bytes, base64url). */
export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}
