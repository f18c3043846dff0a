import { describe, expect, it } from 'vitest';
import { parseChaosSpec } from '../../src/transport/chaos-spec';
import { switchable } from '../../src/transport/switchable';
import { FakeClock } from '../../src/util/clock';
import { MemoryTransport } from '../helpers/memory-transport';

const peer = { host: '127.0.0.1', port: 9 };
const one = (n: number) => Buffer.from([n]);

describe('switchable', () => {
  it('passes everything without a spec, loses everything with drop=1, and recovers when turned off', () => {
    const inner = new MemoryTransport();
    const t = switchable(inner, undefined, { clock: new FakeClock() });
    const got: number[] = [];
    t.onDatagram((b) => got.push(b[0]!));
    t.send(one(1), peer);
    inner.handler!(one(1), peer);
    expect(t.spec).toBeUndefined();
    expect(t.stats).toBeUndefined();

    t.setSpec(parseChaosSpec('drop=1'));
    t.send(one(2), peer);
    inner.handler!(one(2), peer);
    expect(t.stats).toMatchObject({ in: { dropped: 1 }, out: { dropped: 1 } });

    t.setSpec(undefined);
    t.send(one(3), peer);
    inner.handler!(one(3), peer);
    expect(inner.sent.map((s) => s.bytes[0])).toEqual([1, 3]);
    expect(got).toEqual([1, 3]);
  });

  it('starts with the given spec, and one direction can be faulty alone', () => {
    const inner = new MemoryTransport();
    const t = switchable(inner, parseChaosSpec('in:drop=1'), { clock: new FakeClock() });
    const got: number[] = [];
    t.onDatagram((b) => got.push(b[0]!));
    t.send(one(1), peer);
    inner.handler!(one(1), peer);
    expect(inner.sent).toHaveLength(1);
    expect(got).toEqual([]);
  });

  it('closes the socket once, and never because of a switch', async () => {
    const inner = new MemoryTransport();
    const t = switchable(inner, parseChaosSpec('drop=0.5'));
    t.setSpec(parseChaosSpec('dup=0.5'));
    t.setSpec(undefined);
    expect(inner.closed).toBe(0);
    await Promise.all([t.close(), t.close()]);
    expect(inner.closed).toBe(1);
    t.setSpec(parseChaosSpec('drop=1')); // ignored after close
    expect(t.spec).toBeUndefined();
  });
});
