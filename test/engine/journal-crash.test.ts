import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Journal } from '../../src/engine/storage/journal.js';
import { cleanupDirs, tempDir } from './journal-helpers.js';

afterEach(cleanupDirs);

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, 'journal-crash-child.ts');
const repoRoot = path.resolve(here, '../..');

/** Run the child until it has acknowledged for ~killAfterMs, SIGKILL it, return the acknowledged ids. */
function runAndKill(dir: string, killAfterMs: number): Promise<{ acked: number[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (!timer && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`child exited early (code ${code}): ${stderr}`));
      // Only complete lines count; the ids are acknowledged appends in ack order.
      const lines = out.slice(0, out.lastIndexOf('\n') + 1).split('\n').filter((l) => l && l !== 'ready');
      resolve({ acked: lines.map(Number), stderr });
    });
  });
}

describe('crash safety', () => {
  it('after SIGKILL every acknowledged id is recovered, in order, with no gaps or duplicates', async () => {
    const dir = await tempDir();
    let resumeAt = 0; // the child continues after the last recovered id
    for (let round = 0; round < 3; round++) {
      const { acked, stderr } = await runAndKill(dir, 250 + round * 50);
      expect(stderr).not.toMatch(/compact:/);
      expect(acked.length).toBeGreaterThan(0);
      const warnings: string[] = [];
      const { journal, snapshot, records } = await Journal.open(dir, { onWarning: (m) => warnings.push(m) });
      await journal.close();
      for (const w of warnings) expect(w).toMatch(/dropped a torn final record/);
      const recovered: number[] = [];
      for (const chunk of snapshot ?? []) recovered.push(...(chunk.ids as number[]));
      for (const r of records) recovered.push(r.id as number);
      // Ids are handed out in append order, so a correct log is exactly 0..n-1.
      expect(recovered.every((id, i) => id === i)).toBe(true);
      // Acks arrive in append order and every one of them survived.
      for (let i = 1; i < acked.length; i++) expect(acked[i]).toBe(acked[i - 1]! + 1);
      expect(acked[0]).toBe(resumeAt);
      expect(recovered.length).toBeGreaterThan(acked[acked.length - 1]!);
      resumeAt = recovered.length;
    }
  }, 60_000);
});
