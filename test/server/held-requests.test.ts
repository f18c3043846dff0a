import { describe, expect, it } from 'vitest';
import { HeldRequests, type HeldRequest } from '../../src/server/held-requests';

const request = (rq: number, size = 10): HeldRequest => ({
  req: { type: 'ECHO', rq, text: 'x' } as unknown as HeldRequest['req'],
  dialect: 'text',
  from: { host: '127.0.0.1', port: 4000 + rq },
  bytes: new Uint8Array(size),
});

describe('HeldRequests', () => {
  it('holds nothing until a TAKEOVER opens its window, and nothing after the window', () => {
    const held = new HeldRequests({ window: 1000, maxRequests: 10, maxBytes: 1000 });
    expect(held.hold(request(1), 0)).toBe(false);
    held.open(100);
    expect(held.hold(request(2), 600)).toBe(true);
    expect(held.hold(request(3), 1101)).toBe(false);
    // The window passed: what it held is dropped with it.
    expect(held.size).toBe(0);
  });

  it('gives back what it held, oldest first, once; then holds nothing more', () => {
    const held = new HeldRequests({ window: 1000, maxRequests: 10, maxBytes: 1000 });
    held.open(0);
    for (const rq of [1, 2, 3]) held.hold(request(rq), 10);
    expect(held.release().map((h) => h.from.port)).toEqual([4001, 4002, 4003]);
    expect(held.release()).toEqual([]);
    expect(held.hold(request(4), 20)).toBe(false);
  });

  it('is bounded in count and in bytes, and counts what it refused', () => {
    const byCount = new HeldRequests({ window: 1000, maxRequests: 2, maxBytes: 1000 });
    byCount.open(0);
    expect([1, 2, 3].map((rq) => byCount.hold(request(rq), 1))).toEqual([true, true, false]);
    expect(byCount.overflow).toBe(1);
    const byBytes = new HeldRequests({ window: 1000, maxRequests: 10, maxBytes: 25 });
    byBytes.open(0);
    expect([1, 2, 3].map((rq) => byBytes.hold(request(rq, 10), 1))).toEqual([true, true, false]);
  });

  it('clear() drops what it held and closes the window (the takeover did not happen)', () => {
    const held = new HeldRequests();
    held.open(0);
    held.hold(request(1), 1);
    held.clear();
    expect(held.size).toBe(0);
    expect(held.hold(request(2), 2)).toBe(false);
  });
});
