/**
 * Child process for journal-crash.test.ts: appends records as fast as it can
 * from several concurrent writers, compacting now and then, and prints every
 * acknowledged id on stdout (one per line) the moment its append resolves.
 * The parent SIGKILLs it at a random point and checks the directory.
 *
 * Usage: node --import tsx journal-crash-child.ts <dir>
 * Resumes from whatever is in <dir>: ids continue after the last recovered one.
 */
import { Journal } from '../../src/engine/storage/journal.js';

const WRITERS = 8;
const COMPACT_EVERY = 300;
const CHUNK = 1000;

const dir = process.argv[2];
if (!dir) throw new Error('usage: journal-crash-child.ts <dir>');

const { journal, snapshot, records } = await Journal.open(dir, { onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
// The engine-side state: every id whose append was called, in order.
const state: number[] = [];
for (const chunk of snapshot ?? []) state.push(...(chunk.ids as number[]));
for (const r of records) state.push(r.id as number);
let next = state.length ? state[state.length - 1]! + 1 : 0;
let sinceCompact = 0;

function chunksOfState(): { ids: number[] }[] {
  const out: { ids: number[] }[] = [];
  for (let i = 0; i < state.length; i += CHUNK) out.push({ ids: state.slice(i, i + CHUNK) });
  return out;
}

async function writer(): Promise<never> {
  for (;;) {
    const id = next++;
    state.push(id);
    const done = journal.append({ id, pad: 'p'.repeat(id % 200) });
    if (++sinceCompact >= COMPACT_EVERY && !journal.compacting) {
      sinceCompact = 0;
      // Chunks are copied now, so they hold exactly the ids appended so far.
      void journal.compact(chunksOfState()).catch((e: Error) => process.stderr.write(`compact: ${e.message}\n`));
    }
    await done;
    process.stdout.write(`${id}\n`);
  }
}

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: WRITERS }, writer));
