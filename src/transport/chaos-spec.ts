/**
 * The fault-injection spec of the lossy transport and its parser, e.g.
 * `drop=0.1,dup=0.05,reorder=0.1,delay=0-20ms,seed=7` or, for one direction
 * only, `out:drop=0.2,in:delay=5ms`. Unprefixed parts apply to both
 * directions.
 */
import { InvalidArgumentError } from '../errors';

/** Faults applied to the datagrams of one direction. */
export interface DirectionFaults {
  /** Probability that a datagram is lost. */
  drop: number;
  /** Probability that a datagram is delivered twice. */
  dup: number;
  /** Probability that a datagram is held back and delivered after the next one. */
  reorder: number;
  /** Uniform extra latency, in ms. */
  delayMinMs: number;
  delayMaxMs: number;
}

/** What `lossy()` does to each direction, reproducibly for one seed. */
export interface ChaosSpec {
  seed: number;
  in: DirectionFaults;
  out: DirectionFaults;
}

/** No faults at all. */
export function noFaults(): DirectionFaults {
  return { drop: 0, dup: 0, reorder: 0, delayMinMs: 0, delayMaxMs: 0 };
}

/** A spec with no faults and seed 1 (fresh object). */
export function defaultChaosSpec(): ChaosSpec {
  return { seed: 1, in: noFaults(), out: noFaults() };
}

function fail(part: string, why: string): never {
  throw new InvalidArgumentError(`chaos spec: "${part}": ${why}`);
}

function probability(part: string, key: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) fail(part, `${key} must be a probability between 0 and 1`);
  return n;
}

/** "250", "250ms", "2s" → ms. */
function duration(part: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value.trim());
  if (!m) fail(part, 'delay must look like 20ms, 1s or 0-20ms');
  const n = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  if (n > 60_000) fail(part, 'delay longer than 60s');
  return n;
}

/** "0-20ms" (the unit of the upper bound applies to a bare lower bound), "5ms". */
function delayRange(part: string, value: string): [number, number] {
  const dash = value.indexOf('-');
  if (dash < 0) {
    const d = duration(part, value);
    return [d, d];
  }
  const hi = value.slice(dash + 1);
  let lo = value.slice(0, dash);
  const unit = /(ms|s)$/.exec(hi)?.[1];
  if (unit && /^\d+(\.\d+)?$/.test(lo.trim())) lo += unit;
  const range: [number, number] = [duration(part, lo), duration(part, hi)];
  if (range[0] > range[1]) fail(part, 'delay range goes from high to low');
  return range;
}

/** Parse a spec; throws InvalidArgumentError naming the bad part. */
export function parseChaosSpec(text: string): ChaosSpec {
  const spec = defaultChaosSpec();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    let body = part;
    let dirs: ('in' | 'out')[] = ['in', 'out'];
    const prefix = /^(in|out):/.exec(part);
    if (prefix) {
      dirs = [prefix[1] as 'in' | 'out'];
      body = part.slice(prefix[0].length);
    }
    const eq = body.indexOf('=');
    if (eq < 0) fail(part, 'expected key=value');
    const key = body.slice(0, eq).trim();
    const value = body.slice(eq + 1).trim();
    if (key === 'seed') {
      if (prefix) fail(part, 'seed applies to both directions (no in:/out: prefix)');
      if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) fail(part, 'seed must be an integer 0..4294967295');
      spec.seed = Number(value);
      continue;
    }
    for (const d of dirs) {
      const f = spec[d];
      switch (key) {
        case 'drop': f.drop = probability(part, key, value); break;
        case 'dup': f.dup = probability(part, key, value); break;
        case 'reorder': f.reorder = probability(part, key, value); break;
        case 'delay': [f.delayMinMs, f.delayMaxMs] = delayRange(part, value); break;
        default: fail(part, `unknown key "${key}" (expected drop, dup, reorder, delay or seed)`);
      }
    }
  }
  return spec;
}
