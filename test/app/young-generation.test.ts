import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GrowthSwitch, YOUNG_GENERATION_CEILING } from '../../src/app/young-generation';

const child = fileURLToPath(new URL('./young-generation-child.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The young generation's size (bytes) after the child kept 2,000,000 objects. */
async function youngAfterGrowth(mode: 'capped' | 'free'): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child, mode], { cwd: repoRoot });
  const [size, kept] = stdout.trim().split(' ').map(Number);
  expect(kept).toBe(2_000_000);
  return size!;
}

describe('tuneHeapForServing, young generation: a serving process keeps its minor collections short', () => {
  it('V8 grows the young generation past the ceiling when nothing stops it, and not past it once capped', async () => {
    const [free, capped] = await Promise.all([youngAfterGrowth('free'), youngAfterGrowth('capped')]);
    // Without the ceiling the same heap grows it beyond (else this test could not tell).
    expect(free).toBeGreaterThan(YOUNG_GENERATION_CEILING);
    expect(capped).toBeLessThanOrEqual(YOUNG_GENERATION_CEILING);
    expect(capped).toBeGreaterThan(YOUNG_GENERATION_CEILING / 4);
  }, 30_000);
});

describe('GrowthSwitch', () => {
  it('stops growth at the ceiling and allows it again once V8 shrank the young generation (a quiet spell), setting the flag only on a change', () => {
    let size = 4;
    const set: number[] = [];
    const growth = new GrowthSwitch(() => size, (f) => set.push(f), 16);
    growth.check();
    expect(set).toEqual([]);
    size = 16;
    growth.check();
    growth.check();
    expect(set).toEqual([1]);
    size = 2;
    growth.check();
    expect(set).toEqual([1, 2]);
    size = 16;
    growth.check();
    expect(set).toEqual([1, 2, 1]);
  });
});
