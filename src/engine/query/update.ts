/**
 * Update documents: replacement or operator form ($set, $unset, $inc, $mul,
 * $min, $max, $rename, $setOnInsert, $currentDate, $push, $addToSet, $pull,
 * $pullAll, $pop). Written here rather than delegated to mingo because the
 * numeric type rules and the error codes must be MongoDB's; anything else
 * fails with FailedToParse instead of silently doing something different.
 */
import type { Document } from 'bson';
import { Timestamp } from 'bson';
import { EngineError } from '../errors.js';
import { arith, numKind, zeroLike } from './arith.js';
import { compilePlainFilter } from './match.js';
import { expandPath, isPositional, type PositionalContext } from './positional.js';
import { clearSlot, cloneDoc, readSlot, slotOf, typeName, writeSlot } from './mutate-path.js';
import { compareValues, toNumber } from './order.js';
import { isPlainObject, type Doc } from './paths.js';

/** One operator applied to one path, e.g. `$inc` of `a.b` by `arg`. */
type UpdateOp = { op: string; path: string; parts: string[]; arg: unknown };

/**
 * A parsed update: either a replacement document or a list of operator
 * applications. `fields`, judged once at parse: the top-level fields the
 * ops write (each once) when every op replaces a whole top-level field (see
 * replacesTopLevel); undefined otherwise.
 */
export type ParsedUpdate = { kind: 'replace'; doc: Doc } | { kind: 'ops'; ops: UpdateOp[]; fields: string[] | undefined };

const OPERATORS = new Set(['$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$setOnInsert', '$currentDate', '$push', '$addToSet', '$pull', '$pullAll', '$pop']);

/** Parses and validates an update document (operators, conflicts, immutable _id). */
export function parseUpdate(u: unknown): ParsedUpdate {
  if (Array.isArray(u)) throw new EngineError('NotImplemented', 'pipeline-style updates are not supported by this engine');
  if (!isPlainObject(u)) throw new EngineError('FailedToParse', 'update must be an object');
  const keys = Object.keys(u);
  if (keys.length === 0 || !keys[0].startsWith('$')) return replacement(u);
  const ops: UpdateOp[] = [];
  const claimed: string[] = [];
  for (const op of keys) {
    const spec = operatorSpec(op, u[op]);
    for (const path of Object.keys(spec)) {
      // $rename writes both its source and its target.
      const targets = op === '$rename' ? [path, String(spec[path])] : [path];
      for (const target of targets) claimPath(claimed, target);
      ops.push({ op, path, parts: path.split('.'), arg: spec[path] });
    }
  }
  const fields = ops.every(replacesTopLevel) ? [...new Set(ops.flatMap((o) => (o.op === '$rename' ? [o.path, String(o.arg)] : [o.path])))] : undefined;
  return { kind: 'ops', ops, fields };
}

/** A replacement document may not hold operators. */
function replacement(u: Doc): ParsedUpdate {
  const dollar = Object.keys(u).find((k) => k.startsWith('$'));
  if (dollar !== undefined) throw new EngineError('BadValue', `The dollar ($) prefixed field '${dollar}' in '${dollar}' is not allowed in a replacement document`);
  return { kind: 'replace', doc: u };
}

/** The `{path: arg}` document of a known operator. */
function operatorSpec(op: string, spec: unknown): Doc {
  if (!OPERATORS.has(op)) {
    throw new EngineError('FailedToParse', `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
  }
  if (!isPlainObject(spec)) throw new EngineError('FailedToParse', `Modifiers operate on fields but we found type ${typeName(spec)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${String(spec)}}`);
  return spec;
}

/** Records that the update writes `path`; writing one path twice, or a path and its prefix, is a conflict. */
function claimPath(claimed: string[], path: string): void {
  if (path === '' || path.split('.').some((p) => p === '')) throw new EngineError('BadValue', `An empty update path is not valid.`);
  const clash = claimed.find((c) => c === path || c.startsWith(path + '.') || path.startsWith(c + '.'));
  if (clash !== undefined) {
    throw new EngineError('ConflictingUpdateOperators', `Updating the path '${path}' would create a conflict at '${clash.length < path.length ? clash : path}'`);
  }
  claimed.push(path);
}

const NO_POSITIONAL: PositionalContext = { arrayFilters: new Map() };

/**
 * Applies a parsed update to a copy of `doc`; `inserting` enables
 * $setOnInsert (upserts); `pos` resolves positional paths ($, $[], $[id]).
 */
export function applyUpdate(doc: Doc, u: ParsedUpdate, inserting: boolean, pos: PositionalContext = NO_POSITIONAL): Doc {
  if (u.kind === 'replace') {
    const out: Doc = { _id: doc._id };
    for (const k in u.doc) if (k !== '_id' || inserting) out[k] = cloneDoc(u.doc[k]);
    if (!inserting && u.doc._id !== undefined && compareValues(u.doc._id, doc._id) !== 0) throw immutableId();
    if (out._id === undefined) delete out._id;
    return out;
  }
  // Operators that only replace a top-level field leave nested containers as they are: those can be shared
  // with the stored version (never mutated in place); the array operators change arrays in place and need a deep copy.
  const out = u.fields ? { ...doc } : cloneDoc(doc);
  for (const { op, path, parts, arg } of u.ops) {
    if (parts[0] === '_id' && op !== '$setOnInsert' && !inserting) {
      if (!(op === '$set' && parts.length === 1 && compareValues(arg, doc._id) === 0)) throw immutableId();
    }
    if (isPositional(parts)) {
      if (op === '$rename') throw new EngineError('BadValue', `The source field for $rename may not be dynamic: ${path}`);
      for (const concrete of expandPath(out, parts, pos)) applyOp(out, op, concrete.join('.'), concrete, arg, inserting);
    } else {
      applyOp(out, op, path, parts, arg, inserting);
    }
  }
  return out;
}

/**
 * The top-level fields an update writes when it writes nothing else (each
 * operator replacing a whole field, see {@link replacesTopLevel}); undefined
 * for any other update. Every other field of the result is the stored one.
 * Each field once.
 */
export function topLevelFields(u: ParsedUpdate): string[] | undefined {
  return u.kind === 'ops' ? u.fields : undefined;
}

/** Operators that write a whole field (never change a container in place). */
const SLOT_WRITERS = new Set(['$set', '$unset', '$inc', '$mul', '$min', '$max', '$setOnInsert', '$currentDate', '$rename']);

/** The op writes a top-level field (for $rename, both of them) without changing anything in place. */
function replacesTopLevel(o: UpdateOp): boolean {
  return SLOT_WRITERS.has(o.op) && o.parts.length === 1 && (o.op !== '$rename' || !String(o.arg).includes('.'));
}

function immutableId(): EngineError {
  return new EngineError('ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
}

function idOf(doc: Doc): string {
  return `{_id: ${String(doc._id)}}`;
}

function applyOp(doc: Doc, op: string, path: string, parts: string[], arg: unknown, inserting: boolean): void {
  switch (op) {
    case '$setOnInsert':
      // Only an upsert's insert applies it, and then it behaves as $set.
      if (inserting) writeSlot(slotOf(doc, parts, true)!, cloneDoc(arg));
      return;
    case '$set':
      writeSlot(slotOf(doc, parts, true)!, cloneDoc(arg));
      return;
    case '$unset': {
      const s = slotOf(doc, parts, false);
      if (s) clearSlot(s);
      return;
    }
    case '$inc':
    case '$mul': {
      if (numKind(arg) === undefined) {
        throw new EngineError('TypeMismatch', `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${typeName(arg)}}`);
      }
      const s = slotOf(doc, parts, true)!;
      const cur = readSlot(s);
      if (cur === undefined) {
        writeSlot(s, op === '$inc' ? arg : zeroLike(arg));
        return;
      }
      if (numKind(cur) === undefined) {
        throw new EngineError('TypeMismatch', `Cannot apply ${op} to a value of non-numeric type. ${idOf(doc)} has the field '${parts[parts.length - 1]}' of non-numeric type ${typeName(cur)}`);
      }
      writeSlot(s, arith(op === '$inc' ? 'inc' : 'mul', cur, arg));
      return;
    }
    case '$min':
    case '$max': {
      const s = slotOf(doc, parts, true)!;
      const cur = readSlot(s);
      const c = cur === undefined ? 0 : compareValues(arg, cur);
      if (cur === undefined || (op === '$min' ? c < 0 : c > 0)) writeSlot(s, cloneDoc(arg));
      return;
    }
    case '$rename': {
      if (typeof arg !== 'string') throw new EngineError('BadValue', `The 'to' field for $rename must be a string: ${path}: ${String(arg)}`);
      const from = slotOf(doc, parts, false);
      if (!from || Array.isArray(from.parent)) return;
      const v = readSlot(from);
      if (v === undefined) return;
      clearSlot(from);
      writeSlot(slotOf(doc, arg.split('.'), true)!, v);
      return;
    }
    case '$currentDate': {
      const wantTs = isPlainObject(arg) && arg.$type === 'timestamp';
      const now = new Date();
      writeSlot(slotOf(doc, parts, true)!, wantTs ? Timestamp.fromBits(0, Math.floor(now.getTime() / 1000)) : now);
      return;
    }
    default:
      return applyArrayOp(doc, op, path, parts, arg);
  }
}

/** The array at `path`; `create` (for $push and $addToSet) makes a missing one. Null or missing means nothing to remove. */
function arrayAt(doc: Doc, path: string, parts: string[], create: boolean): unknown[] | undefined {
  const s = slotOf(doc, parts, create);
  if (!s) return undefined;
  const cur = readSlot(s);
  if (cur === undefined) {
    if (!create) return undefined;
    const arr: unknown[] = [];
    writeSlot(s, arr);
    return arr;
  }
  if (cur === null && !create) return undefined;
  if (!Array.isArray(cur)) throw notArray(doc, path, cur);
  return cur;
}

function notArray(doc: Doc, path: string, v: unknown): EngineError {
  return new EngineError('BadValue', `The field '${path}' must be an array but is of type ${typeName(v)} in document ${idOf(doc)}`);
}

function eachOf(arg: unknown): { values: unknown[]; mods: Doc } {
  if (isPlainObject(arg) && '$each' in arg) {
    if (!Array.isArray(arg.$each)) throw new EngineError('BadValue', 'The argument to $each must be an array');
    return { values: arg.$each.map(cloneDoc), mods: arg };
  }
  return { values: [cloneDoc(arg)], mods: {} };
}

function applyArrayOp(doc: Doc, op: string, path: string, parts: string[], arg: unknown): void {
  switch (op) {
    case '$push': {
      const arr = arrayAt(doc, path, parts, true)!;
      const { values, mods } = eachOf(arg);
      const pos = mods.$position === undefined ? arr.length : toNumber(mods.$position);
      const at = pos < 0 ? Math.max(0, arr.length + pos) : Math.min(pos, arr.length);
      arr.splice(at, 0, ...values);
      if (mods.$sort !== undefined) sortArray(arr, mods.$sort);
      if (mods.$slice !== undefined) {
        const n = toNumber(mods.$slice);
        const kept = n >= 0 ? arr.slice(0, n) : arr.slice(Math.max(0, arr.length + n));
        arr.length = 0;
        arr.push(...kept);
      }
      return;
    }
    case '$addToSet': {
      const arr = arrayAt(doc, path, parts, true)!;
      for (const v of eachOf(arg).values) if (!arr.some((e) => compareValues(e, v) === 0)) arr.push(v);
      return;
    }
    case '$pull': {
      const arr = arrayAt(doc, path, parts, false);
      if (!arr) return;
      const test = pullTest(arg);
      filterInPlace(arr, (e) => !test(e));
      return;
    }
    case '$pullAll': {
      if (!Array.isArray(arg)) throw new EngineError('BadValue', `$pullAll requires an array argument but was given a ${typeName(arg)}`);
      const arr = arrayAt(doc, path, parts, false);
      if (arr) filterInPlace(arr, (e) => !arg.some((v) => compareValues(e, v) === 0));
      return;
    }
    case '$pop': {
      const arr = arrayAt(doc, path, parts, false);
      const n = toNumber(arg);
      if (n !== 1 && n !== -1) throw new EngineError('FailedToParse', `$pop expects 1 or -1, found: ${String(arg)}`);
      if (arr && arr.length) {
        if (n === 1) arr.pop();
        else arr.shift();
      }
      return;
    }
  }
}

function filterInPlace(arr: unknown[], keep: (e: unknown) => boolean): void {
  const kept = arr.filter(keep);
  arr.length = 0;
  arr.push(...kept);
}

/** $pull condition: an operator expression or sub-document query is matched as a query, anything else by equality. */
function pullTest(cond: unknown): (e: unknown) => boolean {
  if (isPlainObject(cond)) {
    const keys = Object.keys(cond);
    if (keys.length > 0 && keys.every((k) => k.startsWith('$'))) {
      const q = compilePlainFilter({ v: cond } as Document);
      return (e) => q({ v: e });
    }
    const q = compilePlainFilter(cond as Document);
    return (e) => isPlainObject(e) && q(e);
  }
  return (e) => compareValues(e, cond) === 0;
}

/** $push's $sort: by the listed fields of sub-documents, or by the elements themselves. */
function sortArray(arr: unknown[], spec: unknown): void {
  if (!isPlainObject(spec)) {
    const dir = toNumber(spec) < 0 ? -1 : 1;
    arr.sort((a, b) => compareValues(a, b) * dir);
    return;
  }
  const fields = Object.keys(spec).map((f) => [f.split('.'), toNumber(spec[f]) < 0 ? -1 : 1] as const);
  arr.sort((a, b) => {
    for (const [parts, dir] of fields) {
      const c = compareValues(fieldOf(a, parts), fieldOf(b, parts));
      if (c !== 0) return c * dir;
    }
    return 0;
  });
}

/** The value at a dotted path of an element, null when missing (no array expansion). */
function fieldOf(element: unknown, parts: readonly string[]): unknown {
  let v = element;
  for (const p of parts) v = isPlainObject(v) ? v[p] : undefined;
  return v ?? null;
}
