/**
 * `node --expose-gc --import tsx bench/bounded-maps.bench.ts [entries]`
 *
 * CPU per insertion into a full bounded map (one eviction each): the
 * server's BoundedMap and ReplyCache, beside a plain Map that finds its
 * oldest key by `keys().next()` (what both did before OldestFirst). At
 * the reply cache's bound (200,000) the plain Map walks over the slots of
 * the keys deleted before (src/server/oldest-first.ts). Each variant fills
 * a map of its own, dropped (and collected, with --expose-gc) before the
 * next. process.cpuUsage, best of 5 rounds.
 */
import { BoundedMap } from '../src/server/bounded-map';
import { ReplyCache } from '../src/server/reply-cache';

const entries = Number(process.argv[2] ?? 200_000);
const N = 100_000;
const reply = [{ type: 'END-CONNECTION-OK' as const, rq: 1 }];
const wire = [Buffer.alloc(90, 1)];

function cpuPerOp(fill: (i: number) => void): number {
  let i = 0;
  for (; i < entries; i++) fill(i);
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t = process.cpuUsage();
    for (let j = 0; j < N; j++) fill(i++);
    const u = process.cpuUsage(t);
    best = Math.min(best, (u.user + u.system) / N);
  }
  return best;
}

/** Each variant makes its map when it runs, so none keeps another's alive. */
const variants: Record<string, () => (i: number) => void> = {
  'Map, oldest by keys().next()': () => {
    const plain = new Map<string, number>();
    return (i) => {
      plain.set(`k${i}`, i);
      if (plain.size > entries) plain.delete(plain.keys().next().value!);
    };
  },
  BoundedMap: () => {
    const m = new BoundedMap<string, number>(entries);
    return (i) => m.set(`k${i}`, i);
  },
  ReplyCache: () => {
    const c = new ReplyCache(entries, Infinity);
    return (i) => c.set(`k${i}`, reply, i, wire);
  },
};
const gc = (globalThis as { gc?: () => void }).gc;
for (const [name, make] of Object.entries(variants)) {
  gc?.();
  process.stdout.write(`${name.padEnd(30)} ${cpuPerOp(make()).toFixed(2)} µs per insertion at ${entries.toLocaleString('en-US')} entries\n`);
}
