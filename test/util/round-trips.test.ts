import { describe, expect, it } from 'vitest';
import { RoundTrips } from '../../src/util/round-trips';

describe('RoundTrips', () => {
  it('stays at the floor for fast round trips, grows with slow ones, and never passes its ceiling', () => {
    const t = new RoundTrips();
    expect(t.wait(150, 2000)).toBe(150);
    for (let i = 0; i < 20; i++) t.sample(5);
    expect(t.wait(150, 2000)).toBe(150);
    for (let i = 0; i < 20; i++) t.sample(400);
    expect(t.wait(150, 2000)).toBeGreaterThan(400);
    expect(t.wait(150, 2000)).toBeLessThan(2000);
    for (let i = 0; i < 20; i++) t.sample(10_000);
    expect(t.wait(150, 2000)).toBe(2000);
  });

  it('the first measurement counts with half of itself as its variation; a steady one settles just above it', () => {
    const t = new RoundTrips();
    t.sample(300);
    expect(t.wait(0, 10_000)).toBe(900);
    for (let i = 0; i < 50; i++) t.sample(300);
    expect(t.wait(0, 10_000)).toBeGreaterThan(300);
    expect(t.wait(0, 10_000)).toBeLessThan(310);
  });

  it('a wait that ran out doubles the next ones, once for many together, until a round trip is measured', () => {
    const t = new RoundTrips();
    for (let i = 0; i < 10; i++) t.ranOut(150);
    expect(t.wait(150, 2000)).toBe(300);
    t.ranOut(300);
    expect(t.wait(150, 2000)).toBe(600);
    t.ranOut(5_000);
    expect(t.wait(150, 2000)).toBe(2000);
    t.sample(3);
    expect(t.wait(150, 2000)).toBe(150);
  });

  it('ignores impossible samples', () => {
    const t = new RoundTrips();
    for (const ms of [Number.NaN, -5, Infinity]) t.sample(ms);
    expect(t.wait(150, 2000)).toBe(150);
  });
});
