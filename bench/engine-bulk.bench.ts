/** Bulk-load cost in the core alone (no driver): node --import tsx bench/engine-bulk.bench.ts [docs] */
import { BSON } from 'bson';
import { EngineCore } from '../src/engine/core.js';
import { compactNumbers } from '../src/engine/query/normalize.js';

const N = Number(process.argv[2] ?? 1_000_000);
const core = new EngineCore();
const wire = (d: object) => compactNumbers(BSON.deserialize(BSON.serialize(d), { promoteValues: false }));
core.execute('b', wire({ createIndexes: 'big', indexes: [{ key: { k: 1 }, name: 'k_1' }] }), 1);
const t0 = performance.now();
let last = t0;
for (let i = 0; i < N; i += 10_000) {
  const docs = [];
  for (let j = i; j < Math.min(N, i + 10_000); j++) docs.push({ _id: j, k: (j * 2654435761) % N, g: j % 100 });
  const body = wire({ insert: 'big', documents: docs, ordered: false });
  const r = core.execute('b', body, 1);
  if (r.reply.n !== docs.length) throw new Error(JSON.stringify(r.reply).slice(0, 300));
  if ((i / 10_000) % 20 === 19) {
    const now = performance.now();
    console.log(`${i + 10_000} docs, last 200k at ${Math.round(200_000 / ((now - last) / 1000))} docs/s, heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`);
    last = now;
  }
}
console.log(`total ${Math.round(N / ((performance.now() - t0) / 1000))} docs/s`);
