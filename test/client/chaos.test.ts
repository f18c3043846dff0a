/**
 * The client over a seeded lossy transport (drops, duplicates, reorders in
 * both directions) against a fake server that behaves as the real one must:
 * a reply cache for retransmissions and stop-and-wait pushes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RssClient } from '../../src/client/client';
import { lossy, parseChaosSpec } from '../../src/transport/lossy';
import { openUdp } from '../../src/transport/udp';
import { FakeServer, successFor, text } from './fake-server';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((c) => c()));
});

describe.each([3, 17, 42])('client under chaos (seed %i)', (seed) => {
  it('executes each request once and shows every pushed text once, in order', async () => {
    const server = await FakeServer.open();
    const executed = new Map<string, number>(); // request bytes → times executed
    const cache = new Map<string, Buffer>();
    let nextSeq = 100;
    server.onMessage = (r) => {
      if (r.message.type === 'ACK') return;
      const key = r.bytes.toString('hex');
      let reply = cache.get(key);
      if (!reply) {
        executed.set(key, (executed.get(key) ?? 0) + 1);
        const body = r.message.type === 'PUBLISH' ? { ...successFor(r), seq: nextSeq++ } : successFor(r);
        reply = server.replyBytes(r, body);
        cache.set(key, reply);
      }
      server.socket.send(reply, r.from);
    };
    const transport = lossy(await openUdp({ host: '127.0.0.1' }), parseChaosSpec(`drop=0.2,dup=0.2,reorder=0.2,delay=0-5ms,seed=${seed}`));
    const client = await RssClient.open({
      servers: [server.address, server.address], transport, policy: { ackTimeoutMs: 20, maxWaitMs: 80, exchangeLifetimeMs: 5000 },
    });
    cleanup.push(() => client.close(), () => server.close());

    await client.register('bob');
    const seqs = await Promise.all(Array.from({ length: 10 }, (_, i) => client.publish('bob', 'news', `n${i}`)));
    expect(new Set(seqs.map((s) => s.seq)).size).toBe(10);
    expect([...executed.values()].every((n) => n === 1)).toBe(true);

    // Stop-and-wait pushes: the next only after the ACK of the previous, retransmitting every 15 ms.
    const shown: number[] = [];
    client.on('message', (t) => shown.push(t.seq));
    const to = client.localAddress;
    const pushSeqs = [1, 2, 4, 8, 9, 15, 16, 23, 42, 43];
    for (const seq of pushSeqs) {
      let acked = false;
      server.onMessage = (r) => {
        if (r.message.type === 'ACK' && (r.message as { seq?: number }).seq === seq) acked = true;
      };
      while (!acked) {
        server.send({ type: 'MESSAGE', ...text(seq) }, to);
        await new Promise((r) => setTimeout(r, 15));
      }
    }
    expect(shown).toEqual(pushSeqs);
    expect(transport.stats.in.dropped + transport.stats.out.dropped).toBeGreaterThan(0);
  });
});
