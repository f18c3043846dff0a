/**
 * HMAC-SHA256 (RFC 2104) for the native dialect's per-datagram MAC, built
 * from two one-shot SHA-256 digests over the key's inner and outer pads,
 * the pads prepared once per key object. Byte for byte what
 * `createHmac('sha256', key)` gives, at a lower cost: creating an Hmac
 * object, feeding it and digesting it crosses into C++ three times and
 * imports the key on every datagram, which was most of the MAC's cost for
 * datagrams of a few hundred bytes. Pure: no I/O.
 */
import * as crypto from 'node:crypto';

const BLOCK = 64;
/** Views kept per key (a user's datagrams come in a handful of lengths). */
const MAX_VIEWS = 32;
const DIGEST = 32;

interface Pads {
  /** key ⊕ 0x36, then room for the message (grown on demand). */
  inner: Buffer;
  /** Views of `inner` by message length: a datagram's MAC makes no Buffer object for it (lengths repeat). */
  views: Map<number, Buffer>;
  /**
   * The two views used last, found without a lookup: a user's datagrams of
   * one kind have one length, and a listener's alternate between two
   * (the push sealed, then its ACK verified).
   */
  last: Buffer | undefined;
  before: Buffer | undefined;
  /** key ⊕ 0x5c, then the inner digest. */
  outer: Buffer;
}

/**
 * One-shot digests arrived in Node 20.12; older runtimes take the Hmac
 * object. Digests come back as latin1 strings (one character per byte) and
 * are written where they go: a new Buffer per digest would cost as much as
 * the digest itself.
 */
const oneShot = (crypto as unknown as { hash?: (alg: string, data: Uint8Array, enc: 'latin1' | 'base64url') => string }).hash;

/** Pads by key object: a user's key is one Buffer for as long as the user is known. */
const padsByKey = new WeakMap<Uint8Array, Pads>();

function padsOf(key: Uint8Array): Pads {
  let p = padsByKey.get(key);
  if (p) return p;
  const k = key.length > BLOCK ? crypto.createHash('sha256').update(key).digest() : key;
  const inner = Buffer.alloc(BLOCK + 512, 0x36);
  const outer = Buffer.alloc(BLOCK + DIGEST, 0x5c);
  for (let i = 0; i < k.length; i++) {
    inner[i] = 0x36 ^ k[i]!;
    outer[i] = 0x5c ^ k[i]!;
  }
  p = { inner, outer, views: new Map(), last: undefined, before: undefined };
  padsByKey.set(key, p);
  return p;
}

/** A digest of `data` in base64url, in one call into C++ where the runtime allows. */
export function digestBase64url(alg: 'sha1' | 'sha256', data: Uint8Array): string {
  return oneShot ? oneShot(alg, data, 'base64url') : crypto.createHash(alg).update(data).digest('base64url');
}

/** HMAC-SHA256 of `data` under `key`, written into `out` at `offset` (32 bytes). */
export function hmacSha256Into(data: Uint8Array, key: Uint8Array, out: Buffer, offset: number): void {
  if (!oneShot) {
    crypto.createHmac('sha256', key).update(data).digest().copy(out, offset);
    return;
  }
  const p = padsOf(key);
  if (p.inner.length < BLOCK + data.length) {
    const grown = Buffer.allocUnsafe(BLOCK + Math.max(data.length, 2 * (p.inner.length - BLOCK)));
    p.inner.copy(grown, 0, 0, BLOCK);
    p.inner = grown;
    p.views.clear();
    p.last = p.before = undefined;
  }
  p.inner.set(data, BLOCK);
  const length = BLOCK + data.length;
  let view = p.last;
  if (view?.length !== length) {
    view = p.before;
    if (view?.length !== length) {
      view = p.views.get(data.length);
      if (view === undefined) {
        view = p.inner.subarray(0, length);
        if (p.views.size < MAX_VIEWS) p.views.set(data.length, view);
      }
    }
    p.before = p.last;
    p.last = view;
  }
  p.outer.write(oneShot('sha256', view, 'latin1'), BLOCK, 'latin1');
  out.write(oneShot('sha256', p.outer, 'latin1'), offset, 'latin1');
}

/** HMAC-SHA256 of `data` under `key`, as a new Buffer. */
export function hmacSha256(data: Uint8Array, key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(DIGEST);
  hmacSha256Into(data, key, out, 0);
  return out;
}
