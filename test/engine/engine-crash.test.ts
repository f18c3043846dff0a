/**
 * Crash safety: a child process writes through the driver to an engine with
 * a data directory and reports each acknowledged write; the parent SIGKILLs
 * it mid-stream, restarts the engine on the same directory and checks every
 * acknowledged write survived, with its content.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startEngine, type RunningEngine } from '../../src/engine/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

describe('engine crash recovery', () => {
  let dir = '';
  let engine: RunningEngine | undefined;
  let client: MongoClient | undefined;
  afterEach(async () => {
    await client?.close();
    await engine?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('every acknowledged write is present after SIGKILL and restart', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rss-engine-crash-'));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'engine-crash-child.ts'), dir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let maxInc = 0;
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    let buf = '';
    const target = 1000;
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child too slow: ${acked.length} acks; stderr: ${stderr}`)), 30_000);
      child.stdout.on('data', (b: Buffer) => {
        buf += b.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.startsWith('ack ')) acked.push(Number(line.slice(4)));
          else if (line.startsWith('inc ')) maxInc = Math.max(maxInc, Number(line.slice(4)));
        }
        if (acked.length >= target) {
          clearTimeout(timer);
          // Kill while writes are still in flight.
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        if (acked.length < target) reject(new Error(`child exited early; stderr: ${stderr}`));
      });
    });
    await exited;

    const warnings: string[] = [];
    engine = await startEngine({ dataDir: dir, onWarning: (m) => warnings.push(m) });
    client = new MongoClient(engine.uri);
    const coll = client.db('crash').collection<{ _id: number; payload: string; n: number }>('c');
    const docs = await coll.find({ _id: { $in: acked } }).toArray();
    expect(docs.length).toBe(new Set(acked).size);
    for (const d of docs) {
      expect(d.payload).toBe(`p${d._id}`.repeat(4));
      expect(d.n).toBe(d._id * 3);
    }
    // Writes that were not yet acknowledged may or may not be there, but nothing else may appear.
    const total = await coll.countDocuments();
    expect(total).toBeGreaterThanOrEqual(acked.length);
    const ids = (await coll.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id);
    expect(Math.max(...ids)).toBeLessThan(acked.length + 64);
    const counter = await client.db('crash').collection<{ _id: string; n: number }>('counter').findOne({ _id: 'k' });
    expect(counter!.n).toBeGreaterThanOrEqual(maxInc);
  }, 60_000);
});
