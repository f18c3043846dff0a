import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getPriority } from 'node:os';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HELPER_NICE, HelperPriority, helperNice } from '../../src/app/helper-threads';

const child = fileURLToPath(new URL('./helper-threads-child.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

describe('helperNice: RSS_HELPER_PRIORITY', () => {
  it('defaults to HELPER_NICE, keep is 0, a nice value is taken, anything else is refused by name', () => {
    expect(helperNice(undefined)).toBe(HELPER_NICE);
    expect(helperNice('')).toBe(HELPER_NICE);
    expect(helperNice('keep')).toBe(0);
    expect(helperNice('5')).toBe(5);
    expect(helperNice('19')).toBe(19);
    for (const bad of ['20', '-1', '2.5', 'low']) expect(() => helperNice(bad)).toThrow(/RSS_HELPER_PRIORITY/);
  });
});

describe('HelperPriority', () => {
  it('lowers each helper thread once, skips one already at HELPER_NICE or lower, and survives a thread that ended', () => {
    let threads = [11, 12, 13];
    const nice = new Map([[11, 0], [12, HELPER_NICE], [13, 5]]);
    const set: [number, number][] = [];
    const p = new HelperPriority(HELPER_NICE, () => threads, {
      get: (tid) => {
        const n = nice.get(tid);
        if (n === undefined) throw new Error('ESRCH');
        return n;
      },
      set: (tid, n) => void set.push([tid, n]),
    });
    expect(p.apply()).toBe(2);
    expect(set).toEqual([[11, HELPER_NICE], [13, HELPER_NICE]]);
    // Threads created since (libuv's pool on first use) are lowered on the next look; one that ended is skipped.
    threads = [11, 12, 13, 14, 15];
    nice.set(14, 0);
    expect(p.apply()).toBe(1);
    expect(set.at(-1)).toEqual([14, HELPER_NICE]);
    expect(p.apply()).toBe(0);
    // An id that ended and came back (a new thread) is looked at again.
    threads = [11, 12, 13];
    p.apply();
    threads = [11, 12, 13, 14];
    nice.set(14, 0);
    expect(p.apply()).toBe(1);
  });
});

// Run at HELPER_NICE or lower already, every thread is there: nothing would show the lowering.
describe.runIf(process.platform === 'linux' && getPriority() < HELPER_NICE)('servingThreadFirst (Linux)', () => {
  it("leaves the main thread's priority and lowers every other thread of the process", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child], { cwd: repoRoot, env: { ...process.env, RSS_HELPER_PRIORITY: '' } });
    const [main, ...helpers] = stdout.trim().split(' ').map((t) => Number(t.split(':')[1]));
    // The child inherits this process's priority; its main thread keeps it.
    expect(main).toBe(getPriority());
    // V8's platform threads at least (garbage collection, compilation).
    expect(helpers.length).toBeGreaterThanOrEqual(2);
    expect(helpers.every((n) => n === HELPER_NICE)).toBe(true);
  }, 30_000);

  it('RSS_HELPER_PRIORITY=keep leaves every thread as it was', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child], { cwd: repoRoot, env: { ...process.env, RSS_HELPER_PRIORITY: 'keep' } });
    const nices = stdout.trim().split(' ').map((t) => Number(t.split(':')[1]));
    expect(nices.every((n) => n === getPriority())).toBe(true);
  }, 30_000);
});
