/**
 * The dashboard's state (/api/state and the event stream) of a running
 * pair: servers with roles, users with subjects and online flags, the
 * latest texts, a timeline with the handoff; and nothing in it that is an
 * address, a key or a secret.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OpsHost } from '../../src/ops/host';
import { startOpsHttp, type OpsHttp } from '../../src/ops/http';
import { aliceAndBob, startSystem, type TestSystem } from '../helpers/system';

const open: { http: OpsHttp; sys: TestSystem }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.http.close();
    await o.sys.close();
  }
});

function hostOf(sys: TestSystem): OpsHost {
  return { servers: () => (['A', 'B'] as const).map((tag) => ({ tag, server: (tag === 'A' ? sys.pair.a : sys.pair.b).server, running: sys.pair.running(tag) })) };
}

/** Read the event stream until `done` says so; returns the snapshots seen. */
async function watch(url: string, done: (snap: Record<string, any>) => boolean, ms = 5000, onSnapshot?: () => void): Promise<Record<string, any>[]> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), ms);
  const res = await fetch(`${url}events`, { signal: ctl.signal });
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const seen: Record<string, any>[] = [];
  let buf = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += Buffer.from(chunk).toString('utf8');
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (!block.startsWith('event: snapshot\n')) continue;
        const snap = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as Record<string, any>;
        seen.push(snap);
        onSnapshot?.();
        if (done(snap)) return seen;
      }
    }
  } finally {
    clearTimeout(timer);
    ctl.abort();
  }
  throw new Error(`the stream ended first; last snapshot: ${JSON.stringify(seen.at(-1))}`);
}

describe('the dashboard state', () => {
  it('shows servers, users, texts and the handoff as it happens, and no address, key or secret', async () => {
    const sys = await startSystem();
    const http = await startOpsHttp(hostOf(sys), { host: '127.0.0.1', port: 0, processMetrics: false });
    open.push({ http, sys });
    const { alice } = await aliceAndBob(sys);
    await alice.publish('alice', 'news', 'on the board');

    const first = await watch(http.url, (s) => s.latest.length === 1);
    const snap = first.at(-1)!;
    expect(snap.serving).toBe('A');
    expect(snap.servers.map((s: any) => [s.tag, s.role, s.running])).toEqual([['A', 'serving', true], ['B', 'standby', true]]);
    expect(snap.servers[0].timeLeftOf).toBe('period');
    expect(snap.users.list).toEqual([
      { name: 'alice', dialect: 'native', subjects: ['news'], online: true },
      { name: 'bob', dialect: 'native', subjects: ['news'], online: true },
    ]);
    expect(snap.latest.map((t: any) => [t.name, t.subject, t.text])).toEqual([['alice', 'news', 'on the board']]);
    expect(snap.timeline.map((e: any) => e.kind)).toEqual(['takeover']);

    // The page hears of a handoff at once, not at the next second.
    // The page is open (its first snapshot is in) before the handoff is asked for.
    let pageOpened!: () => void;
    const pageOpen = new Promise<void>((r) => (pageOpened = r));
    const handoff = watch(http.url, (s) => s.serving === 'B', 3000, pageOpened);
    await pageOpen;
    const asked = Date.now();
    expect(await sys.pair.a.server.handoff()).toBe(true);
    const after = (await handoff).at(-1)!;
    expect(Date.now() - asked).toBeLessThan(900);
    expect(after.timeline.map((e: any) => e.kind).slice(0, 2).sort()).toEqual(['handoff', 'takeover']);
    expect(after.timeline.find((e: any) => e.kind === 'handoff').text).toMatch(/^handoff A → B \(epoch 2\)/);

    // Nothing that locates or authenticates anyone.
    const text = JSON.stringify(after) + (await (await fetch(`${http.url}api/state`)).text());
    for (const s of sys.servers) expect(text).not.toContain(`:${s.port}`);
    expect(text).not.toMatch(/127\.0\.0\.1|"(key|nonce|host|port|address|ctrHigh|secret)"/);
  });
});
