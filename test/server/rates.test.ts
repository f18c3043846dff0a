import { describe, expect, it } from 'vitest';
import { RateSampler } from '../../src/server/rates';
import { FakeClock } from '../../src/util/clock';

describe('RateSampler', () => {
  it('reports 0 until a second has passed, then the growth per second', () => {
    const clock = new FakeClock();
    const counters = { requests: 0, pushes: 0 };
    const rates = new RateSampler(clock, () => counters);
    rates.start();
    counters.requests = 50;
    clock.advance(5);
    // 50 requests in 5 ms would read as 10,000/s: too short a span to call a rate.
    expect(rates.perSecond()).toEqual({ requests: 0, pushes: 0 });
    counters.pushes = 20;
    clock.advance(1995);
    expect(rates.perSecond()).toEqual({ requests: 25, pushes: 10 });
    rates.stop();
  });
});
