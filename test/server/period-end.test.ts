/**
 * The end of a serving period on the fake clock: a server that cannot act
 * at that very moment (its lease renewal is late, so its own clock fences
 * it) but still holds the lease hands over as soon as it can act again,
 * instead of skipping the handoff and serving for good.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { legacyDialects } from '../../src/protocol/dialects';
import { RssServer } from '../../src/server/server';
import { FakeClock } from '../../src/util/clock';
import { MemoryStore } from '../security/memory-store';
import { MemoryTransport } from '../helpers/memory-transport';

let server: RssServer | undefined;
afterEach(async () => {
  await server?.close();
});

describe('the end of a period', () => {
  it('hands over once the late renewal comes back, not never', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore();
    const renew = store.renewLease.bind(store);
    const held: (() => void)[] = [];
    let holding = false;
    store.renewLease = (holder, epoch) => (holding ? new Promise((resolve) => held.push(() => resolve(renew(holder, epoch)))) : renew(holder, epoch));
    server = new RssServer({
      tag: 'A', transport: new MemoryTransport(), peer: { host: '127.0.0.1', port: 9 }, store,
      period: 1200, dialects: legacyDialects, clock,
    });
    const handoffs: number[] = [];
    server.on('handoff', (e) => handoffs.push(e.epoch));
    server.start();
    clock.advance(0);
    await expect.poll(() => server!.serving).toBe(true);

    // The renewal sent at 250 ms does not come back before the period ends at 1200 ms: A may not act then.
    holding = true;
    clock.advance(1200);
    expect(server.serving).toBe(false);
    expect(server.role.state).toBe('serving');
    expect(handoffs).toEqual([]);

    // It comes back (A renewed at 250 ms: it may act until 1350 ms); the next try hands over.
    holding = false;
    for (const release of held.splice(0)) release();
    await expect.poll(() => server!.serving).toBe(true);
    clock.advance(100);
    await expect.poll(() => handoffs).toEqual([1]);
    expect(store.lease).toMatchObject({ holder: 'B', epoch: 2 });
  });
});
