/**
 * Child of helper-threads.test.ts: puts the serving thread first, then
 * prints the nice value of each of its threads as `tid:nice`, the main
 * thread first.
 */
import { readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { servingThreadFirst } from '../../src/app/helper-threads';

servingThreadFirst();
const tids = readdirSync('/proc/self/task').map(Number).sort((a, b) => (a === process.pid ? -1 : b === process.pid ? 1 : a - b));
process.stdout.write(`${tids.map((t) => `${t}:${getPriority(t)}`).join(' ')}\n`);
