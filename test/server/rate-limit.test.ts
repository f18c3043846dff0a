/** Token buckets per key: burst, refill, and a busy key keeping its bucket among many others. */
import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../src/server/rate-limit';

describe('TokenBuckets', () => {
  it('allows a burst, then refills at its rate', () => {
    let now = 0;
    const b = new TokenBuckets({ burst: 3, perSecond: 2 }, 100, () => now);
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a')]).toEqual([true, true, true, false]);
    now += 499;
    expect(b.take('a')).toBe(false);
    now += 2;
    expect(b.take('a')).toBe(true);
    expect(b.take('b')).toBe(true);
  });

  it('a key in steady use keeps its (spent) bucket while many other keys come and go; the map stays bounded', () => {
    let now = 0;
    const b = new TokenBuckets({ burst: 2, perSecond: 0.001 }, 8, () => now);
    expect(b.take('busy')).toBe(true);
    expect(b.take('busy')).toBe(true);
    for (let i = 0; i < 200; i++) {
      b.take(`other${i}`);
      now += 1;
      // Evicted, it would come back with a full bucket and pass.
      expect(b.take('busy')).toBe(false);
    }
    expect(b.size).toBeLessThanOrEqual(8);
  });
});
