/** BSON type names and numbers as used by $type (MongoDB's BSON types table). */
import { EngineError } from '../errors.js';

/** Alias → type number. */
const ALIASES: Record<string, number> = {
  double: 1, string: 2, object: 3, array: 4, binData: 5, undefined: 6, objectId: 7, bool: 8, date: 9, null: 10,
  regex: 11, dbPointer: 12, javascript: 13, symbol: 14, int: 16, timestamp: 17, long: 18, decimal: 19, minKey: -1, maxKey: 127,
};

const BY_BSONTYPE: Record<string, number> = {
  Double: 1, Int32: 16, Long: 18, Decimal128: 19, ObjectId: 7, Binary: 5, Timestamp: 17, BSONRegExp: 11,
  BSONSymbol: 14, Code: 13, MinKey: -1, MaxKey: 127, DBRef: 3,
};

/** The BSON type number a value is stored as (plain JS numbers as the serializer would store them). */
export function bsonTypeNumber(v: unknown): number | undefined {
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 ? 16 : 1;
    case 'bigint':
      return 18;
    case 'string':
      return 2;
    case 'boolean':
      return 8;
    case 'undefined':
      return undefined;
  }
  if (v === null) return 10;
  if (Array.isArray(v)) return 4;
  if (v instanceof Date) return 9;
  if (v instanceof RegExp) return 11;
  const t = (v as { _bsontype?: string })._bsontype;
  if (t !== undefined) return BY_BSONTYPE[t];
  if (v instanceof Uint8Array) return 5;
  return 3;
}

/** Parses a $type argument (alias, number, "number", or an array of those) into a predicate on type numbers. */
export function parseTypeSpec(spec: unknown): (n: number) => boolean {
  const list = Array.isArray(spec) ? spec : [spec];
  const wanted = new Set<number>();
  let anyNumber = false;
  for (const s of list) {
    if (typeof s === 'string') {
      if (s === 'number') anyNumber = true;
      else if (s in ALIASES) wanted.add(ALIASES[s]);
      else throw new EngineError('BadValue', `Unknown type name alias: ${s}`);
    } else {
      const n = Number((s as { valueOf(): unknown })?.valueOf?.() ?? s);
      if (!Number.isInteger(n) || !Object.values(ALIASES).includes(n)) throw new EngineError('BadValue', `Invalid numerical type code: ${String(s)}`);
      wanted.add(n);
    }
  }
  return (n) => wanted.has(n) || (anyNumber && (n === 1 || n === 16 || n === 18 || n === 19));
}
