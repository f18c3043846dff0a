/**
 * Throughput of Journal.append with 1 and with 64 concurrent appenders
 * (each append awaited before the appender issues its next one).
 *
 * Usage: node --import tsx test/engine/journal-bench.ts [seconds-per-case]
 * Uses a temp directory under os.tmpdir(), removed afterwards.
 *
 * Measured 2026-11-21, `node --import tsx test/engine/journal-bench.ts 3`,
 * Node v20.20.2, Linux 6.18 Firecracker VM, 2 vCPU Intel Xeon, ext4 on a
 * virtio disk (/dev/vda) whose fsync is far cheaper than a physical disk's:
 *   concurrency  1: 1,856-2,822 appends/s (one fdatasync each), p50 0.25-0.33 ms
 *   concurrency 64: 94,326-99,512 appends/s, ~1,500 fdatasyncs/s, 64 records/fsync
 * Later runs on the same VM while other test suites loaded it (load avg ~7):
 *   concurrency  1: 340-1,577 appends/s, p50 0.2-2.1 ms
 *   concurrency 64: 28,224-64,043 appends/s, 441-1,001 fdatasyncs/s, 64 records/fsync
 * On real storage expect concurrency 1 to be bounded by fsync latency
 * (hundreds/s on a disk, low thousands on NVMe) and concurrency 64 to scale
 * by roughly the batch size.
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
