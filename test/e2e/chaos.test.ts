/**
 * Issue "Nothing acknowledged is ever lost": servers A and B as separate
 * processes sharing one `rss engine`, 20 clients, 2,000 publishes over 5
 * subjects, 10% loss + 5% duplication + reordering in both directions at
 * both servers, a handoff every 2 s and one SIGKILL of the serving server
 * mid-run (restarted on the same port). Afterwards every acknowledged
 * publish is stored exactly once and every interested user received each
 * text exactly once, in sequence order.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RssClient, type ReceivedText } from '../../src/client/client';
import { delay } from '../helpers/system';
import { freeUdpPort, rss, type Child } from '../helpers/processes';
import { deliveryFaults, storedFaults, type Acked } from '../helpers/delivery-check';

const USERS = 20;
const SUBJECTS = ['s0', 's1', 's2', 's3', 's4'];
const PER_USER = 100;
const CHAOS = 'drop=0.1,dup=0.05,reorder=0.1,delay=0-3ms';

const children: Child[] = [];
const clients: RssClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(children.map((c) => c.kill('SIGKILL')));
});

const interests = (i: number) => [SUBJECTS[i % 5]!, SUBJECTS[(i + 1) % 5]!];

describe('chaos: loss, duplication, reordering, handoffs and a crash', () => {
  it('loses nothing acknowledged and delivers each text exactly once, in order', async () => {
    const engine = rss(['engine', '--port', '0']);
    children.push(engine);
    const uri = (await engine.waitFor(/^mongodb:\/\//)).trim();
    const [pa, pb] = [await freeUdpPort(), await freeUdpPort()];
    const serverArgs = (role: 'A' | 'B') => [
      'server', '--role', role, '--port', String(role === 'A' ? pa : pb), '--peer', `127.0.0.1:${role === 'A' ? pb : pa}`,
      '--mongo', uri, '--period', '2s', '--chaos', `${CHAOS},seed=${role === 'A' ? 11 : 22}`, '--log-level', 'warn',
    ];
    const servers: Record<'A' | 'B', Child> = { A: rss(serverArgs('A')), B: rss(serverArgs('B')) };
    children.push(servers.A, servers.B);
    await servers.A.waitFor(/ready on/);
    await servers.B.waitFor(/ready on/);
    const addrs: [{ host: string; port: number }, { host: string; port: number }] = [{ host: '127.0.0.1', port: pa }, { host: '127.0.0.1', port: pb }];

    const received = new Map<string, ReceivedText[]>();
    for (let i = 0; i < USERS; i++) {
      const c = await RssClient.open({
        servers: addrs, bind: { host: '127.0.0.1', port: 0 },
        policy: { ackTimeoutMs: 80, maxRetransmit: 40, maxWaitMs: 400, exchangeLifetimeMs: 30_000, listenSilenceMs: 1500 },
      });
      clients.push(c);
      const name = `u${i}`;
      received.set(name, []);
      c.on('message', (t) => received.get(name)!.push(t));
      await c.register(name);
      await c.subjects(name, interests(i));
      await c.listen(name);
    }

    // Publish: each user 100 texts alternating over its two subjects; kill the serving server a third of the way in.
    const acked: Acked[] = [];
    let killed = false;
    const publishing = Date.now();
    const killServing = async () => {
      killed = true;
      const serving = lastRole(servers.A) === 'serving' ? 'A' : 'B';
      await servers[serving].kill('SIGKILL');
      servers[serving] = rss(serverArgs(serving));
      children.push(servers[serving]);
    };
    await Promise.all(clients.map(async (c, i) => {
      const name = `u${i}`;
      for (let k = 0; k < PER_USER; k++) {
        const subject = interests(i)[k % 2]!;
        const text = `${name}#${k}`;
        const r = await c.publish(name, subject, text);
        acked.push({ name, subject, text, seq: r.seq });
        if (!killed && acked.length >= (USERS * PER_USER) / 3) await killServing();
      }
    }));
    expect(acked).toHaveLength(USERS * PER_USER);
    phase('publish', publishing);

    // Let pushes settle, then gap-fill everything still owed.
    await delay(1500);
    const settled = Date.now();
    // listen() gap-fills through the client's ordered delivery, so retrieved texts are shown like pushes.
    await Promise.all(clients.map((c, i) => c.listen(`u${i}`)));
    phase('gap fill', settled);
    await delay(300);

    // 1. Every acknowledged publish is stored exactly once, under the seq it was acknowledged with.
    const stored = await storedFaults(uri, acked);
    expect({ lost: stored.lost, storedTwice: stored.storedTwice, wrongSeq: stored.wrongSeq }).toEqual({ lost: 0, storedTwice: 0, wrongSeq: 0 });

    // 2. Every interested user received each text exactly once (push or retrieve), in sequence order.
    const got = deliveryFaults(received, acked, (name, subject) => interests(Number(name.slice(1))).includes(subject), 'chaos');
    const totals = { published: USERS * PER_USER, acknowledged: acked.length, stored: stored.stored, ...got };
    console.info(`chaos: ${JSON.stringify(totals)}`);
    expect({ missing: got.missing, duplicates: got.duplicates, outOfOrder: got.outOfOrder }).toEqual({ missing: 0, duplicates: 0, outOfOrder: 0 });
  }, 120_000);
});

function phase(name: string, since: number): void {
  console.info(`chaos: ${name} took ${Date.now() - since} ms`);
}

function lastRole(c: Child): 'serving' | 'standby' {
  const l = [...c.lines].reverse().find((x) => / (serving|standby) \(epoch/.test(x));
  return l?.includes(' serving ') ? 'serving' : 'standby';
}
