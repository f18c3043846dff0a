/**
 * The status report with the store's counts, through a real RssServer on a
 * fake transport and an in-memory store: the counts are in it when the store
 * answers; a store that never answers or fails leaves them out (the report
 * still comes), and only the failure is counted as one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { legacyDialects } from '../../src/protocol/dialects';
import { RssServer } from '../../src/server/server';
import type { Transport } from '../../src/transport/types';
import { MemoryStore } from '../security/memory-store';

const SELF = { host: '10.0.0.1', port: 5001 };

let server: RssServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serving(store: MemoryStore): Promise<RssServer> {
  const transport: Transport = { send: () => {}, onDatagram: () => {}, address: () => SELF, close: async () => {} };
  server = new RssServer({ tag: 'A', transport, peer: { host: '10.0.0.9', port: 5002 }, self: SELF, store, period: 3_600_000, dialects: legacyDialects });
  const up = new Promise((r) => server!.once('serving', r));
  server.start();
  await up;
  return server;
}

describe('statusReport', () => {
  it("has the store's counts when the store answers", async () => {
    const store = new MemoryStore();
    store.countTexts = async () => 7;
    store.countUsers = async () => 3;
    const s = await serving(store);
    expect(await s.statusReport()).toMatchObject({ texts: 7, users: 3 });
  });

  it('comes without them when the store is silent or fails; only the failure is a fault', async () => {
    const store = new MemoryStore();
    store.countTexts = () => new Promise<number>(() => {});
    store.countUsers = async () => {
      throw new Error('store away');
    };
    const s = await serving(store);
    const report = await s.statusReport();
    expect(report.texts).toBeUndefined();
    // The serving server reports the users it has loaded instead.
    expect(report.users).toBe(0);
    expect(s.faults.counts.status).toBe(1);
  });
});
