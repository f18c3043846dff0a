/** What a command handler receives, and the helpers shared by handlers. */
import type { Document } from 'bson';
import { EngineError } from '../errors.js';
import type { ExecStats } from '../query/execute.js';
import { toNumber } from '../query/order.js';
import type { Catalog } from '../storage/catalog.js';
import type { Mutation } from '../storage/mutation.js';
import type { DocRecord } from '../storage/record.js';
import type { CursorStore } from './cursors.js';

/** Per-command context. Handlers change data only through {@link CommandContext.apply}. */
export interface CommandContext {
  /** Database the command runs against (`$db`). */
  readonly db: string;
  readonly catalog: Catalog;
  readonly cursors: CursorStore;
  readonly connectionId: number;
  /** Compressors both sides support, for the hello reply. */
  readonly compressors: string[];
  /** Applies a mutation to the catalog and records it for the journal. */
  apply(m: Mutation): DocRecord | undefined;
  /** Statistics of the last query run by this command (for explain). */
  stats: ExecStats;
}

/** A command implementation. Synchronous: durability waits happen in the server after it returns. */
export type Handler = (cmd: Document, ctx: CommandContext) => Document;

/** Reads an optional numeric argument (any BSON number type). */
export function optNum(cmd: Document, field: string): number | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  const n = toNumber(v);
  if (Number.isNaN(n) && typeof v !== 'number') {
    throw new EngineError('TypeMismatch', `BSON field '${field}' is the wrong type '${typeof v}', expected a number`);
  }
  return n;
}

/** Reads the collection name that is the value of the command's first field. */
export function collName(cmd: Document): string {
  const name = cmd[Object.keys(cmd)[0]];
  if (typeof name !== 'string' || name === '') {
    throw new EngineError('InvalidNamespace', `collection name has invalid type ${typeof name}`);
  }
  if (name.includes('\0') || name.startsWith('.') || name.includes('$')) {
    throw new EngineError('InvalidNamespace', `Invalid collection name: ${name}`);
  }
  return name;
}

/** Reads an optional sub-document argument. */
export function optDoc(cmd: Document, field: string): Document | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v) || (v as { _bsontype?: string })._bsontype) {
    throw new EngineError('TypeMismatch', `BSON field '${field}' is the wrong type, expected type 'object'`);
  }
  return v as Document;
}

/** A write error entry as it appears in `writeErrors`. */
export function writeError(index: number, err: EngineError): Document {
  return { index, code: err.code, errmsg: err.message, ...err.extra };
}

/**
 * Fails loudly on options that would change results if ignored
 * (collation, tailable cursors, min/max, let variables).
 */
export function rejectUnsupported(cmd: Document, fields: readonly string[] = ['collation', 'let']): void {
  for (const f of fields) {
    if (cmd[f] !== undefined && cmd[f] !== false) {
      throw new EngineError('NotImplemented', `option '${f}' is not supported by this engine`);
    }
  }
}
