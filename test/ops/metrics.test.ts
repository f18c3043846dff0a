/**
 * GET /metrics of a running pair: the exposition parses back, has the rss_
 * metrics with their types and the process defaults, and each counter moves
 * with the event it counts (requests by type/dialect/outcome, duplicates,
 * pushes, retransmissions, handoffs, takeovers, store errors); /readyz turns
 * 503 with a one-line reason when the store goes away.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startOpsHttp, type OpsHttp } from '../../src/ops/http';
import type { OpsHost } from '../../src/ops/host';
import { rawPeer } from '../helpers/raw';
import { aliceAndBob, startSystem, type TestSystem } from '../helpers/system';
import { parseExposition } from './exposition';

const open: { http?: OpsHttp; sys?: TestSystem; engineClosed?: boolean }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.http?.close();
    if (o.sys && o.engineClosed) await o.sys.pair.close();
    else await o.sys?.close();
  }
});

function hostOf(sys: TestSystem): OpsHost {
  return { servers: () => (['A', 'B'] as const).map((tag) => ({ tag, server: (tag === 'A' ? sys.pair.a : sys.pair.b).server, running: sys.pair.running(tag) })) };
}

async function started() {
  const sys = await startSystem();
  const http = await startOpsHttp(hostOf(sys), { host: '127.0.0.1', port: 0 });
  const entry: (typeof open)[number] = { http, sys };
  open.push(entry);
  const scrape = async () => {
    const res = await fetch(`${http.url}metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };
  return { sys, http, scrape, entry };
}

describe('GET /metrics', () => {
  it('parses back: every rss_ metric with its type and a server label, plus the process defaults', async () => {
    const { scrape } = await started();
    const m = await scrape();
    const want: Record<string, string> = {
      rss_serving: 'gauge', rss_epoch: 'gauge', rss_users: 'gauge', rss_users_online: 'gauge', rss_texts_stored: 'gauge',
      rss_requests_total: 'counter', rss_pushes_total: 'counter', rss_push_retransmissions_total: 'counter',
      rss_duplicates_total: 'counter', rss_handoffs_total: 'counter', rss_takeovers_total: 'counter',
      rss_store_errors_total: 'counter', rss_request_duration_seconds: 'histogram',
    };
    for (const [name, type] of Object.entries(want)) expect(m.types.get(name), name).toBe(type);
    expect(m.value('rss_serving', { server: 'A' })).toBe(1);
    expect(m.value('rss_serving', { server: 'B' })).toBe(0);
    expect(m.value('rss_epoch', { server: 'A' })).toBe(1);
    expect(m.value('rss_takeovers_total', { server: 'A', cause: 'initial' })).toBe(1);
    expect(m.value('rss_request_duration_seconds_bucket', { server: 'A', le: '+Inf' })).toBe(0);
    expect(m.types.get('process_cpu_seconds_total')).toBe('counter');
    expect(m.types.get('nodejs_heap_size_used_bytes')).toBe('gauge');
    for (const s of m.samples.filter((x) => x.name.startsWith('rss_'))) expect(s.labels.server, s.name).toMatch(/^[AB]$/);
  });

  it('each counter moves with its event', async () => {
    const { sys, scrape } = await started();
    const { alice, bob } = await aliceAndBob(sys);
    let m = await scrape();
    expect(m.value('rss_requests_total', { server: 'A', type: 'REGISTER', dialect: 'native', outcome: 'ok' })).toBe(2);
    expect(m.value('rss_requests_total', { server: 'A', type: 'SUBJECTS', dialect: 'native', outcome: 'ok' })).toBe(2);
    expect(m.value('rss_users', { server: 'A' })).toBe(2);
    expect(m.value('rss_users_online', { server: 'A' })).toBe(2);
    const executed = m.value('rss_request_duration_seconds_count', { server: 'A' })!;
    expect(executed).toBeGreaterThanOrEqual(4);
    expect(m.value('rss_request_duration_seconds_bucket', { server: 'A', le: '+Inf' })).toBe(executed);

    // A canonical text request sent twice, byte for byte: denied, then answered again from the reply cache.
    const tom = await rawPeer();
    try {
      tom.send(Buffer.from('SUBJECTS 8 nobody x'), sys.servers[0]);
      await expect.poll(async () => (await scrape()).value('rss_requests_total', { server: 'A', type: 'SUBJECTS', dialect: 'text', outcome: 'denied' })).toBe(1);
      // (A native client's own retransmissions under load may add duplicates too: at least this one.)
      const before = (await scrape()).value('rss_duplicates_total', { server: 'A' })!;
      tom.send(Buffer.from('SUBJECTS 8 nobody x'), sys.servers[0]);
      await expect.poll(async () => (await scrape()).value('rss_requests_total', { server: 'A', type: 'SUBJECTS', dialect: 'text', outcome: 'duplicate' })).toBe(1);
      expect((await scrape()).value('rss_duplicates_total', { server: 'A' })).toBeGreaterThan(before);
      // B is not serving: what reaches it is counted as ignored.
      tom.send(Buffer.from('SUBJECTS 9 nobody x'), sys.servers[1]);
      await expect.poll(async () => (await scrape()).value('rss_requests_total', { server: 'B', type: 'SUBJECTS', dialect: 'text', outcome: 'ignored' })).toBe(1);
    } finally {
      tom.close();
    }

    await alice.publish('alice', 'news', 'counted');
    await expect.poll(async () => (await scrape()).value('rss_pushes_total', { server: 'A' })).toBe(1);
    m = await scrape();
    expect(m.value('rss_texts_stored', { server: 'A' })).toBe(1);
    expect(m.value('rss_requests_total', { server: 'A', type: 'PUBLISH', dialect: 'native', outcome: 'ok' })).toBe(1);

    // Bob goes away without a word: his push is retransmitted for want of an ACK.
    await bob.close();
    expect(m.value('rss_push_retransmissions_total', { server: 'A' })).toBe(0);
    await alice.publish('alice', 'news', 'unheard');
    await expect.poll(async () => (await scrape()).value('rss_push_retransmissions_total', { server: 'A' }), { timeout: 5000 }).toBeGreaterThan(0);

    expect(await sys.pair.a.server.handoff()).toBe(true);
    await expect.poll(async () => (await scrape()).value('rss_serving', { server: 'B' })).toBe(1);
    m = await scrape();
    expect(m.value('rss_handoffs_total', { server: 'A' })).toBe(1);
    expect(m.value('rss_handoffs_total', { server: 'B' })).toBe(0);
    expect(m.value('rss_takeovers_total', { server: 'B', cause: 'handoff' })).toBe(1);
    // Each step of that handoff and takeover, as the servers timed them.
    expect(m.types.get('rss_last_handoff_step_seconds')).toBe('gauge');
    expect(m.value('rss_last_handoff_step_seconds', { server: 'A', step: 'lease' })).toBe(sys.pair.a.server.telemetry.lastHandoff!.phases.lease! / 1000);
    expect(m.value('rss_last_takeover_step_seconds', { server: 'B', step: 'load' })).toBe(sys.pair.b.server.telemetry.lastTakeover!.phases.load! / 1000);
    expect(m.value('rss_epoch', { server: 'B' })).toBe(2);
    expect(m.value('rss_serving', { server: 'A' })).toBe(0);

    await sys.pair.stopServer('B');
    await expect.poll(async () => (await scrape()).value('rss_takeovers_total', { server: 'A', cause: 'failover' }), { timeout: 5000 }).toBe(1);
    expect((await scrape()).value('rss_up', { server: 'B' })).toBe(0);
  });

  it('/readyz: 200 while the store answers; 503 with a one-line reason, and store errors counted, once it is gone', async () => {
    const { sys, http, scrape, entry } = await started();
    // Ready once both servers' lease checks are answered (on a loaded machine, not at once).
    await expect.poll(async () => (await fetch(`${http.url}readyz`)).status, { timeout: 10_000 }).toBe(200);
    expect(await (await fetch(`${http.url}readyz`)).text()).toBe('ready\n');
    expect((await scrape()).value('rss_store_errors_total', { server: 'A' })).toBe(0);

    await sys.engine.close();
    entry.engineClosed = true;
    await expect.poll(async () => (await fetch(`${http.url}readyz`)).status, { timeout: 10_000 }).toBe(503);
    // First the holder's lease lapses, then no lease check has been answered for a whole lease.
    await expect
      .poll(async () => (await fetch(`${http.url}readyz`)).text(), { timeout: 10_000 })
      .toMatch(/^server [AB]: store unreachable \(no lease check answered for \d+ ms\)\n$/);
    expect((await fetch(`${http.url}healthz`)).status).toBe(200);
    await expect.poll(async () => (await scrape()).value('rss_store_errors_total', { server: 'A' }), { timeout: 10_000 }).toBeGreaterThan(0);
  });
});
