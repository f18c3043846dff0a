/** The unit stored in a collection. */
import type { Doc } from '../query/paths.js';

/**
 * A stored document. `seq` identifies the document for its whole life (kept
 * across updates) and breaks ties between equal index keys; `plain` caches
 * the number-normalised view the mingo matcher reads; `size` the BSON size
 * of `doc` once an update measured it (so the next update that only writes
 * top-level fields measures just those).
 * Updates replace `doc` in place so index entries keep pointing at the record.
 */
export interface DocRecord {
  doc: Doc;
  readonly seq: number;
  plain?: Doc;
  size?: number;
}
