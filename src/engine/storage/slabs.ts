/**
 * Where a collection keeps its documents' bytes: large buffers filled in
 * order, so a stored document costs no heap object of its own. A slab is
 * freed once no document in it is stored any more; one set per collection
 * keeps short-lived documents (replies kept for retransmissions) from
 * pinning the slabs of long-lived ones (texts).
 */

/** Bytes per slab: about 400 short texts. */
const SLAB_BYTES = 64 * 1024;
/** A document larger than this gets a buffer of its own (a slab would waste its tail). */
const OWN_BUFFER_OVER = SLAB_BYTES / 4;

/** Where a copy was placed. */
export interface Placed {
  buf: Buffer;
  off: number;
}

/** The slabs of one collection. */
export class Slabs {
  private slab: Buffer | undefined;
  private used = SLAB_BYTES;

  /** Copies `bytes` into a slab. */
  copy(bytes: Uint8Array): Placed {
    const n = bytes.length;
    if (n > OWN_BUFFER_OVER) {
      const own = Buffer.allocUnsafeSlow(n);
      own.set(bytes);
      return { buf: own, off: 0 };
    }
    if (this.used + n > SLAB_BYTES || !this.slab) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    const off = this.used;
    this.slab.set(bytes, off);
    this.used += n;
    return { buf: this.slab, off };
  }
}
