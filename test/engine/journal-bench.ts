/**
 * Throughput of Journal.append with 1 and with 64 concurrent appenders
 * (each append awaited before the appender issues its next one).
 *
 * Usage: node --import tsx test/engine/journal-bench.ts [seconds-per-case]
 * Uses a temp directory under os.tmpdir(), removed afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Journal } from '../../src/engine/storage/journal.js';

const seconds = Number(process.argv[2] ?? 3);

async function run(concurrency: number): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rss-journal-bench-'));
  try {
    const { journal } = await Journal.open(dir);
    const record = { op: 'i', ns: 'bench.c', doc: { _id: 0, name: 'x'.repeat(60), n: 1 } };
    const deadline = performance.now() + seconds * 1000;
    let count = 0;
    const latencies: number[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const t = performance.now();
          await journal.append({ ...record, seq: count++ });
          latencies.push(performance.now() - t);
        }
      }),
    );
    const elapsed = seconds;
    const s = journal.stats;
    await journal.close();
    latencies.sort((a, b) => a - b);
    const p = (q: number): string => latencies[Math.floor(q * (latencies.length - 1))]!.toFixed(2);
    console.log(
      `concurrency ${String(concurrency).padStart(2)}: ${Math.round(s.records / elapsed)} appends/s, ` +
        `${Math.round(s.syncs / elapsed)} fsyncs/s, ${(s.records / s.syncs).toFixed(1)} records/fsync, ` +
        `latency p50 ${p(0.5)} ms p99 ${p(0.99)} ms`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu?'} x${os.cpus().length}, ${os.platform()} ${os.release()}, tmpdir ${os.tmpdir()}`);
for (const c of [1, 64]) await run(c);
