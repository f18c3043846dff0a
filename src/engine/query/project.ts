/**
 * Projections. Plain inclusion/exclusion (the common case) is done here on
 * the typed document so field order and BSON types are preserved; projection
 * operators ($slice, $elemMatch, expressions) are delegated to mingo.
 */
import type { Document } from 'bson';
import { Query } from 'mingo';
import { EngineError } from '../errors.js';
import { isNumeric, toNumber } from './order.js';
import { isPlainObject, type Doc } from './paths.js';

type Tree = { [k: string]: Tree | true };

/** A compiled projection: document → projected document. */
export type Projector = (doc: Doc) => Doc;

function truthy(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (isNumeric(v)) return toNumber(v) !== 0;
  return undefined;
}

/** Compiles a projection document; an empty or missing projection returns documents unchanged. */
export function compileProjection(spec: Document | undefined): Projector {
  if (!spec || Object.keys(spec).length === 0) return (d) => d;
  let include: boolean | undefined;
  let idOn = true;
  const tree: Tree = {};
  for (const [path, v] of Object.entries(spec)) {
    const t = truthy(v);
    if (t === undefined) return viaMingo(spec);
    if (path === '_id') {
      idOn = t;
      continue;
    }
    if (include === undefined) include = t;
    else if (include !== t) {
      throw new EngineError('Location31254', `Cannot do ${t ? 'inclusion' : 'exclusion'} on field ${path} in ${include ? 'inclusion' : 'exclusion'} projection`);
    }
    let node = tree;
    const parts = path.split('.');
    parts.forEach((p, i) => {
      if (i === parts.length - 1) node[p] = true;
      else {
        const n = node[p];
        if (n === true) return;
        node = node[p] = n ?? {};
      }
    });
  }
  if (include === undefined) include = false; // only _id was mentioned
  if (!idOn) tree._id = true;
  if (include) {
    return (d) => {
      const out = includeFields(d, tree);
      if (idOn && d._id !== undefined) return { _id: d._id, ...out };
      return out;
    };
  }
  return (d) => excludeFields(d, tree);
}

function includeFields(d: Doc, tree: Tree): Doc {
  const out: Doc = {};
  for (const k in d) {
    const t = tree[k];
    if (t === undefined || (k === '_id' && t === true)) continue;
    if (t === true) out[k] = d[k];
    else {
      const v = sub(d[k], t, includeFields);
      if (v !== undefined) out[k] = v;
    }
  }
  return out;
}

function excludeFields(d: Doc, tree: Tree): Doc {
  const out: Doc = {};
  for (const k in d) {
    const t = tree[k];
    if (t === true) continue;
    out[k] = t === undefined ? d[k] : (sub(d[k], t, excludeFields) ?? d[k]);
  }
  return out;
}

function sub(v: unknown, t: Tree, f: (d: Doc, t: Tree) => Doc): unknown {
  if (isPlainObject(v)) return f(v, t);
  if (Array.isArray(v)) return v.filter((e) => isPlainObject(e) || f === excludeFields).map((e) => (isPlainObject(e) ? f(e, t) : e));
  return f === excludeFields ? v : undefined;
}

function viaMingo(spec: Document): Projector {
  let q: Query;
  try {
    q = new Query({}, { scriptEnabled: false });
  } catch (err) {
    throw new EngineError('BadValue', (err as Error).message);
  }
  return (d) => {
    try {
      const [out] = q.find([d], spec as Record<string, unknown>).all();
      return out as Doc;
    } catch (err) {
      throw new EngineError('BadValue', (err as Error).message);
    }
  };
}
