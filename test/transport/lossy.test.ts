import { afterEach, describe, expect, it } from 'vitest';
import { lossy, mulberry32, parseChaosSpec, type LossyTransport } from '../../src/transport/lossy';
import { openUdp } from '../../src/transport/udp';
import { FakeClock } from '../../src/util/clock';
import { MemoryTransport } from '../helpers/memory-transport';

const peer = { host: '127.0.0.1', port: 9 };
const numbers = (bufs: Buffer[]) => bufs.map((b) => b[0]! | (b[1]! << 8));

/** Send 0..n-1 through a lossy wrapper; return what reached the inner transport, in order. */
function runOut(spec: string, n: number, clock = new FakeClock()): { got: number[]; t: LossyTransport } {
  const inner = new MemoryTransport();
  const t = lossy(inner, parseChaosSpec(spec), { clock });
  for (let i = 0; i < n; i++) t.send(Buffer.from([i & 0xff, i >> 8]), peer);
  clock.advance(60_000);
  return { got: numbers(inner.sent.map((s) => s.bytes)), t };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

describe('mulberry32', () => {
  it('is reproducible and roughly uniform', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });
});

describe('lossy', () => {
  it('passes everything through unchanged without faults', () => {
    const { got } = runOut('seed=3', 100);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('drops at the configured rate (within tolerance for a fixed seed)', () => {
    const { got, t } = runOut('drop=0.2,seed=7', 5000);
    expect(t.stats.out.dropped).toBe(5000 - got.length);
    expect(t.stats.out.dropped / 5000).toBeGreaterThan(0.17);
    expect(t.stats.out.dropped / 5000).toBeLessThan(0.23);
  });

  it('duplicates at the configured rate, each copy right after its original when not delayed', () => {
    const { got, t } = runOut('dup=0.1,seed=7', 5000);
    expect(got.length).toBe(5000 + t.stats.out.duplicated);
    expect(t.stats.out.duplicated / 5000).toBeGreaterThan(0.08);
    expect(t.stats.out.duplicated / 5000).toBeLessThan(0.12);
    expect([...new Set(got)]).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it('is reproducible for the same seed and differs for another', () => {
    const spec = 'drop=0.1,dup=0.1,reorder=0.1,delay=0-20ms';
    const a = runOut(`${spec},seed=11`, 500).got;
    const b = runOut(`${spec},seed=11`, 500).got;
    const c = runOut(`${spec},seed=12`, 500).got;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('reorder really swaps a held datagram with the next one', () => {
    const { got, t } = runOut('reorder=0.2,seed=5', 1000);
    expect(t.stats.out.reordered).toBeGreaterThan(150);
    expect(got.length).toBe(1000);
    expect([...got].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    let inversions = 0;
    for (let i = 1; i < got.length; i++) if (got[i]! < got[i - 1]!) inversions++;
    expect(inversions).toBeGreaterThan(100);
  });

  it('releases a held datagram after the hold time when nothing follows it', () => {
    const clock = new FakeClock();
    const inner = new MemoryTransport();
    const t = lossy(inner, parseChaosSpec('reorder=1,seed=1'), { clock, reorderHoldMs: 30 });
    t.send(Buffer.from([1, 0]), peer);
    expect(inner.sent).toHaveLength(0);
    clock.advance(29);
    expect(inner.sent).toHaveLength(0);
    clock.advance(1);
    expect(inner.sent).toHaveLength(1);
  });

  it('delays within the configured range on the injected clock', () => {
    const clock = new FakeClock();
    const inner = new MemoryTransport();
    const t = lossy(inner, parseChaosSpec('delay=10-20ms,seed=2'), { clock });
    for (let i = 0; i < 50; i++) t.send(Buffer.from([i, 0]), peer);
    clock.advance(9);
    expect(inner.sent).toHaveLength(0);
    clock.advance(11);
    expect(inner.sent).toHaveLength(50);
    expect(t.stats.out.delayed).toBe(50);
  });

  it('applies faults to one direction only', () => {
    const clock = new FakeClock();
    const inner = new MemoryTransport();
    const t = lossy(inner, parseChaosSpec('in:drop=1,seed=1'), { clock });
    const received: number[] = [];
    t.onDatagram((b) => received.push(b[0]!));
    for (let i = 0; i < 20; i++) {
      t.send(Buffer.from([i, 0]), peer);
      inner.inject(i);
    }
    expect(inner.sent).toHaveLength(20);
    expect(received).toEqual([]);
    expect(t.stats.in.dropped).toBe(20);
  });

  it('keeps a copy of the bytes for delayed sends', () => {
    const clock = new FakeClock();
    const inner = new MemoryTransport();
    const t = lossy(inner, parseChaosSpec('delay=5ms'), { clock });
    const buf = Buffer.from([1, 0]);
    t.send(buf, peer);
    buf[0] = 99;
    clock.advance(5);
    expect(inner.sent[0]!.bytes[0]).toBe(1);
  });

  it('close() cancels pending deliveries and closes the inner transport', async () => {
    const clock = new FakeClock();
    const inner = new MemoryTransport();
    const t = lossy(inner, parseChaosSpec('delay=5ms,reorder=0.5'), { clock });
    for (let i = 0; i < 10; i++) t.send(Buffer.from([i, 0]), peer);
    await t.close();
    expect(clock.pending).toBe(0);
    clock.advance(100);
    expect(inner.sent).toHaveLength(0);
    expect(inner.closed).toBe(1);
  });

  it('wraps a real loopback socket', async () => {
    const a = lossy(await openUdp({ host: '127.0.0.1' }), parseChaosSpec('out:dup=1,seed=1'));
    const b = await openUdp({ host: '127.0.0.1' });
    closers.push(() => a.close(), () => b.close());
    const got: string[] = [];
    b.onDatagram((bytes) => got.push(bytes.toString()));
    a.send(Buffer.from('twice'), b.address());
    await expect.poll(() => got).toEqual(['twice', 'twice']);
  });
});
