import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors';
import { parseChaosSpec } from '../../src/transport/chaos-spec';

describe('parseChaosSpec', () => {
  it('parses every key for both directions', () => {
    const s = parseChaosSpec('drop=0.1,dup=0.05,reorder=0.1,delay=0-20ms,seed=7');
    expect(s.seed).toBe(7);
    for (const d of [s.in, s.out]) {
      expect(d).toEqual({ drop: 0.1, dup: 0.05, reorder: 0.1, delayMinMs: 0, delayMaxMs: 20 });
    }
  });

  it('applies in:/out: prefixes to one direction only', () => {
    const s = parseChaosSpec('out:drop=0.2, in:delay=5ms');
    expect(s.out.drop).toBe(0.2);
    expect(s.in.drop).toBe(0);
    expect(s.in.delayMinMs).toBe(5);
    expect(s.in.delayMaxMs).toBe(5);
    expect(s.out.delayMaxMs).toBe(0);
  });

  it('reads seconds and bare milliseconds', () => {
    expect(parseChaosSpec('delay=1s').out.delayMinMs).toBe(1000);
    expect(parseChaosSpec('delay=3-7').out).toMatchObject({ delayMinMs: 3, delayMaxMs: 7 });
    expect(parseChaosSpec('delay=0.5-1s').out).toMatchObject({ delayMinMs: 500, delayMaxMs: 1000 });
  });

  it('an empty spec means no faults', () => {
    expect(parseChaosSpec('').out).toEqual({ drop: 0, dup: 0, reorder: 0, delayMinMs: 0, delayMaxMs: 0 });
  });

  it.each([
    ['drop=1.5', /"drop=1.5".*probability/],
    ['drop=', /"drop=".*probability/],
    ['dup=abc', /"dup=abc"/],
    ['jitter=3', /"jitter=3".*unknown key "jitter"/],
    ['drop', /"drop".*key=value/],
    ['delay=20-5ms', /"delay=20-5ms".*high to low/],
    ['delay=fast', /"delay=fast".*20ms/],
    ['seed=-1', /"seed=-1".*integer/],
    ['out:seed=3', /"out:seed=3".*both directions/],
    ['side:drop=0.1', /"side:drop=0.1"/],
  ])('rejects %s naming the bad part', (spec, message) => {
    expect(() => parseChaosSpec(`seed=1,${spec}`)).toThrow(InvalidArgumentError);
    expect(() => parseChaosSpec(spec)).toThrow(message);
  });
});
