/** Filter compilation: MongoDB query documents → predicates over stored records, via mingo. */
import type { Document } from 'bson';
import { Query } from 'mingo';
import { EngineError } from '../errors.js';
import type { DocRecord } from '../storage/record.js';
import { compileNative } from './native-match.js';
import { toPlain } from './normalize.js';

/** A compiled filter. */
export type Matcher = (rec: DocRecord) => boolean;

/** mingo options: server-side JavaScript ($where, $function) stays disabled as on a locked-down mongod. */
const MINGO_OPTIONS = { scriptEnabled: false } as const;

/** Compiles a filter; throws BadValue for malformed filters or unknown operators. */
export function compileFilter(filter: Document | undefined): Matcher {
  if (!filter || Object.keys(filter).length === 0) return () => true;
  if (typeof filter !== 'object' || Array.isArray(filter)) throw new EngineError('TypeMismatch', 'filter must be an object');
  const native = compileNative(filter);
  if (native) return (rec) => native(rec.doc);
  let q: Query;
  try {
    q = new Query(toPlain(filter) as Record<string, unknown>, MINGO_OPTIONS);
  } catch (err) {
    throw new EngineError('BadValue', (err as Error).message, {}, { cause: err });
  }
  return (rec) => {
    try {
      return q.test(rec.plain);
    } catch (err) {
      throw new EngineError('BadValue', (err as Error).message, {}, { cause: err });
    }
  };
}

/** Tests a plain object (not a stored record) against a filter, e.g. array elements for $pull. */
export function compilePlainFilter(filter: Document): (v: unknown) => boolean {
  const q = new Query(toPlain(filter) as Record<string, unknown>, MINGO_OPTIONS);
  return (v) => q.test(toPlain(v) as Record<string, unknown>);
}
