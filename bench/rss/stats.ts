/** Small statistics helpers shared by the workers and the report. */

/** The q-quantile (0..1) of `sorted` (ascending), nearest rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** p50/p99/p99.9/max of `values` (ms). */
export function summarize(values: number[] | Float64Array): Summary {
  const s = Float64Array.from(values).sort();
  return { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99), p999: quantile(s, 0.999), max: s.length ? s[s.length - 1]! : NaN };
}

export const median = (xs: number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
