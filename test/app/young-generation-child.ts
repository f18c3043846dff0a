/**
 * Child of young-generation.test.ts: grows a heap whose objects survive
 * (as a server's texts do), in turns of the event loop, with or without
 * the ceiling, and prints the young generation's size at the end.
 */
import { tuneHeapForServing } from '../../src/app/heap-tuning';
import { youngGenerationSize } from '../../src/app/young-generation';

if (process.argv[2] === 'capped') tuneHeapForServing({ oldGrowth: false });
const kept: { i: number; s: string }[] = [];
for (let turn = 0; turn < 200; turn++) {
  for (let i = 0; i < 10_000; i++) kept.push({ i, s: `text ${turn}/${i}` });
  await new Promise((r) => setImmediate(r));
}
process.stdout.write(`${youngGenerationSize()} ${kept.length}\n`);
