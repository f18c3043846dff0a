/**
 * Reads a V8 CPU profile (node --cpu-prof) of a bundled worker and names
 * where the time went: self time per function, mapped back through the
 * bundle's source map to src/ file:line, and grouped by layer.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, relative, resolve } from 'node:path';

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; hitCount?: number }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[] }

export interface HotSpot {
  name: string;
  where: string;
  layer: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  top: HotSpot[];
  layers: { layer: string; ms: number; share: number }[];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Which part of the system a source location belongs to. */
function layerOf(where: string, name: string): string {
  if (name === '(idle)') return 'idle (waiting for I/O)';
  if (name === '(garbage collector)') return 'garbage collector';
  if (name === '(program)') return 'V8/Node native (program)';
  if (where.startsWith('src/engine/')) return 'embedded engine (src/engine)';
  if (where.startsWith('src/store/')) return 'rss store (src/store)';
  if (where.startsWith('src/server/') || where.startsWith('src/app/')) return 'rss server (src/server)';
  if (where.startsWith('src/protocol/')) return 'rss protocol (src/protocol)';
  if (where.startsWith('src/transport/')) return 'rss transport (src/transport)';
  if (where.includes('node_modules/mongodb/')) return 'mongodb driver';
  if (where.includes('node_modules/bson/')) return 'bson';
  if (where.startsWith('node:')) return 'Node core (node:*)';
  if (where === '') return 'V8/Node native';
  return 'other';
}

/** Summarize `profilePath`; `bundle` is the worker's .cjs (its .map beside it). */
export function readProfile(profilePath: string, bundle: string, top = 20): ProfileSummary {
  const prof = JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile;
  const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')));
  const bundleUrl = `file://${bundle}`;
  const totalSamples = prof.samples.length;
  const totalMs = (prof.endTime - prof.startTime) / 1000;
  const perSample = totalMs / Math.max(1, totalSamples);
  const byKey = new Map<string, HotSpot>();
  for (const n of prof.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const cf = n.callFrame;
    let where = cf.url.replace(/^file:\/\//, '');
    if (cf.url === bundleUrl) {
      const e = map.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string; originalLine?: number };
      where = e.originalSource
        ? `${relative(ROOT, resolve(dirname(bundle), e.originalSource.replace(/^file:\/\//, ''))).replace(/^bench\/out\/tree\//, '')}:${(e.originalLine ?? 0) + 1}`
        : `${bundle}:${cf.lineNumber + 1}`;
    } else if (where.startsWith('/')) {
      where = `${relative(ROOT, where)}:${cf.lineNumber + 1}`;
    } else if (where) {
      where = `${where}:${cf.lineNumber + 1}`;
    }
    const name = cf.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const h = byKey.get(key) ?? { name, where, layer: layerOf(where, name), ms: 0, share: 0 };
    h.ms += hits * perSample;
    byKey.set(key, h);
  }
  const all = [...byKey.values()];
  for (const h of all) h.share = h.ms / totalMs;
  const layers = new Map<string, number>();
  for (const h of all) layers.set(h.layer, (layers.get(h.layer) ?? 0) + h.ms);
  return {
    totalMs,
    top: all.filter((h) => h.name !== '(idle)').sort((a, b) => b.ms - a.ms).slice(0, top),
    layers: [...layers].map(([layer, ms]) => ({ layer, ms, share: ms / totalMs })).sort((a, b) => b.ms - a.ms),
  };
}
