/**
 * Crash failover with the default lease timing: when the serving server dies
 * without handing over, the other takes the lease when it expires (aim:
 * within 3 s), tells every user, and the users keep working with all their
 * data. A restarted server comes back as the non-serving one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type StartedServer } from '../../src/app/pair';
import { RssClient, type ServerChange } from '../../src/client/client';
import { startEngine, type RunningEngine } from '../../src/engine';
import { openUdp } from '../../src/transport/udp';
import { nextEvents } from '../helpers/system';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close().catch(() => {});
});

describe('crash failover', () => {
  it('the standby takes over within 3 s of a crash; a restarted server comes back as standby', async () => {
    const engine: RunningEngine = await startEngine({ port: 0 });
    opened.push(engine);
    const ta = await openUdp({ host: '127.0.0.1', port: 0 });
    const tb = await openUdp({ host: '127.0.0.1', port: 0 });
    const common = { host: '127.0.0.1', mongoUri: engine.uri, period: 600_000, dbName: `failover_${process.pid}` };
    const a: StartedServer = await startServer({ ...common, tag: 'A', port: ta.address().port, peer: tb.address() }, ta);
    const b: StartedServer = await startServer({ ...common, tag: 'B', port: tb.address().port, peer: ta.address() }, tb);
    opened.push(b);
    if (!a.server.serving) await nextEvents(a.server, 'serving');

    const client = await RssClient.open({ servers: [ta.address(), tb.address()], bind: { host: '127.0.0.1', port: 0 } });
    opened.push(client);
    await client.register('ada');
    await client.subjects('ada', ['x']);
    await client.listen('ada');

    // "Crash": A stops renewing and its socket closes; nothing is handed over.
    const crashedAt = Date.now();
    const told = nextEvents<ServerChange>(client, 'server', 1, 5000);
    const takeover = nextEvents<{ reason: string }>(b.server, 'serving', 1, 5000);
    await a.close();
    const [event] = await takeover;
    const gap = Date.now() - crashedAt;
    expect(event!.reason).toBe('failover');
    expect(gap).toBeLessThan(3000);
    expect((await told)[0]).toMatchObject({ reason: 'change-server', address: tb.address() });
    // Same user, same data, through B.
    expect((await client.publish('ada', 'x', 'after the crash')).seq).toBeGreaterThan(0);

    // A restarts on its port: it comes back as the standby and answers nothing.
    const ta2 = await openUdp({ host: '127.0.0.1', port: ta.address().port });
    const a2 = await startServer({ ...common, tag: 'A', port: ta.address().port, peer: tb.address() }, ta2);
    opened.push(a2);
    // Once it has read the lease (B's epoch), it knows it is the standby: it stays one while B renews.
    await expect.poll(() => a2.server.status().epoch, { timeout: 5000 }).toBe(b.server.status().epoch);
    expect(a2.server.status().role).toBe('standby');
    expect(a2.server.serving).toBe(false);
    expect(b.server.serving).toBe(true);
    console.info(`failover: B serving ${gap} ms after A crashed`);
  });
});
