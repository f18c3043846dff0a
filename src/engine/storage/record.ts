/**
 * The unit stored in a collection. A document is kept as its BSON bytes
 * ("at rest", in its collection's slabs) from insert until an update writes
 * a new version: a collection that only grows (a log of texts) then holds
 * one heap object per document instead of one per field value, and a full
 * garbage collection has that much less to mark. An updated document stays
 * decoded: documents that change are read back soon (a user's cursor), and
 * they are few.
 */
import { serialize } from 'bson';
import { decodeDocument } from '../bson-form.js';
import { toPlain } from '../query/normalize.js';
import type { Doc } from '../query/paths.js';
import type { Slabs } from './slabs.js';

/** The last document decoded from bytes: a command reads one record several times in a row (match, then project). */
let lastRead: DocRecord | undefined;
let lastDoc: Doc | undefined;
/** The plain view of `lastDoc`, once asked for. */
let lastPlain: Doc | undefined;

/**
 * A stored document. `seq` identifies the document for its whole life (kept
 * across updates) and breaks ties between equal index keys; `size` the BSON size of the document once known (so the next update
 * that only writes top-level fields measures just those).
 * Updates replace the document in place so index entries keep pointing at the record.
 */
export class DocRecord {
  private decoded: Doc | undefined;
  /** At rest: the slab holding the bytes, from `off` (their length is their own BSON prefix). */
  private slab: Buffer | undefined;
  private off = 0;
  /** The plain view of `decoded`, once asked for. */
  private plainOfDecoded: Doc | undefined;
  size?: number;

  constructor(doc: Doc, readonly seq: number) {
    this.decoded = doc;
  }

  /**
   * The document. Never change it in place: a decoded one is the stored
   * version, and one decoded from bytes is shared with the record's next
   * read (and gone once another record is read).
   */
  get doc(): Doc {
    if (this.decoded) return this.decoded;
    if (lastRead === this) return lastDoc!;
    lastDoc = decodeDocument(this.slab!, this.off);
    lastPlain = undefined;
    lastRead = this;
    return lastDoc;
  }

  /** The number-normalised view of the document the mingo matcher reads, made once per version read. */
  get plain(): Doc {
    if (this.decoded) return (this.plainOfDecoded ??= toPlain(this.decoded) as Doc);
    const doc = this.doc;
    return (lastPlain ??= toPlain(doc) as Doc);
  }

  /** A new version of the document (an update): kept decoded from now on. */
  set doc(doc: Doc) {
    if (lastRead === this) lastRead = lastDoc = lastPlain = undefined;
    this.decoded = doc;
    this.slab = undefined;
    this.plainOfDecoded = undefined;
    this.size = undefined;
  }

  /** True while the document is kept as bytes. */
  get atRest(): boolean {
    return this.slab !== undefined;
  }

  /**
   * Appends the current version as kept to `into`: the decoded document, or
   * the slab holding its bytes with their offset in `offsets` (-1 for a
   * decoded one). Neither is ever changed in place, so a snapshot may hold
   * them while the record moves on.
   */
  capture(into: (Doc | Buffer)[], offsets: number[]): void {
    into.push(this.decoded ?? this.slab!);
    offsets.push(this.decoded ? -1 : this.off);
  }

  /** Keeps the document as its BSON bytes (`bytes`, when the caller has them), in `slabs`, from now on. */
  rest(slabs: Slabs, bytes?: Uint8Array): void {
    if (!this.decoded) return;
    bytes ??= serialize(this.decoded);
    const placed = slabs.copy(bytes);
    this.slab = placed.buf;
    this.off = placed.off;
    this.size = bytes.length;
    this.decoded = undefined;
    this.plainOfDecoded = undefined;
  }
}
