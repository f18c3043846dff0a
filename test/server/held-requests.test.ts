import { describe, expect, it } from 'vitest';
import { HeldRequests, type HeldRequest } from '../../src/server/held-requests';
import { TakeoverWindow } from '../../src/server/takeover-window';
import { FakeClock } from '../../src/util/clock';

const request = (rq: number, size = 10): HeldRequest => ({
  req: { type: 'ECHO', rq, text: 'x' } as unknown as HeldRequest['req'],
  dialect: 'text',
  from: { host: '127.0.0.1', port: 4000 + rq },
  bytes: new Uint8Array(size),
});

/** A TAKEOVER window of 1000 ms on a fake clock, and requests held in it. */
function setup(limits = { maxRequests: 10, maxBytes: 1000 }) {
  const clock = new FakeClock();
  const window = new TakeoverWindow(clock, 1000);
  return { clock, window, held: new HeldRequests(window, limits) };
}

describe('TakeoverWindow', () => {
  it('tells when the TAKEOVER was heard while open, nothing once closed or expired, and who listens', () => {
    const { clock, window } = setup();
    let closed = 0;
    window.onClose(() => closed++);
    expect(window.heardAt()).toBeUndefined();
    clock.advance(100);
    window.open();
    clock.advance(600);
    expect(window.heardAt()).toBe(100);
    // Reopened by a later TAKEOVER: timed from that one, and its expiry moves with it.
    window.open();
    clock.advance(999);
    expect(window.heardAt()).toBe(700);
    expect(closed).toBe(0);
    clock.advance(1);
    expect(window.heardAt()).toBeUndefined();
    expect(closed).toBe(1);
    window.open();
    window.close();
    expect(window.heardAt()).toBeUndefined();
    expect(closed).toBe(2);
    expect(clock.pending).toBe(0);
  });
});

describe('HeldRequests', () => {
  it('holds nothing until a TAKEOVER opens its window, and nothing after the window', () => {
    const { clock, window, held } = setup();
    expect(held.hold(request(1))).toBe(false);
    clock.advance(100);
    window.open();
    clock.advance(500);
    expect(held.hold(request(2))).toBe(true);
    clock.advance(501);
    expect(held.hold(request(3))).toBe(false);
    // The window passed: what it held is dropped with it.
    expect(held.size).toBe(0);
  });

  it('gives back what it held, oldest first, once; nothing more once the window is closed', () => {
    const { clock, window, held } = setup();
    window.open();
    clock.advance(10);
    for (const rq of [1, 2, 3]) held.hold(request(rq));
    expect(held.release().map((h) => h.from.port)).toEqual([4001, 4002, 4003]);
    expect(held.release()).toEqual([]);
    window.close();
    expect(held.hold(request(4))).toBe(false);
  });

  it('is bounded in count and in bytes, and counts what it refused', () => {
    const byCount = setup({ maxRequests: 2, maxBytes: 1000 });
    byCount.window.open();
    expect([1, 2, 3].map((rq) => byCount.held.hold(request(rq)))).toEqual([true, true, false]);
    expect(byCount.held.overflow).toBe(1);
    const byBytes = setup({ maxRequests: 10, maxBytes: 25 });
    byBytes.window.open();
    expect([1, 2, 3].map((rq) => byBytes.held.hold(request(rq, 10)))).toEqual([true, true, false]);
  });

  it('clear() drops what it held (the takeover did not happen)', () => {
    const { window, held } = setup();
    window.open();
    held.hold(request(1));
    held.clear();
    expect(held.size).toBe(0);
  });
});
