/**
 * A ring of three servers (A, B, C) as separate processes on one
 * `rss engine`, under the chaos test's faults (loss, duplication,
 * reordering) at every server: turns cycle through all three, then the
 * serving server is SIGKILLed and, a period later, the next one; the last
 * one serves; the first killed, restarted, rejoins and gets a turn. Every
 * acknowledged publish is stored exactly once and delivered to every
 * interested user exactly once, in order. Half the clients are given only A
 * and B: they learn C from the ring list their REGISTERED carries.
 *
 * Short in CI; RSS_RING_CHAOS_LONG=1 runs more users and texts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RssClient, type ReceivedText } from '../../src/client/client';
import { cursorsPast, deliveryFaults, joinAsListener, storedFaults, untilDelivered, type Acked } from '../helpers/delivery-check';
import { freeUdpPort, rss, type Child } from '../helpers/processes';
import { delay } from '../helpers/system';

const LONG = process.env.RSS_RING_CHAOS_LONG === '1';
const USERS = LONG ? 20 : 8;
const SUBJECTS = ['s0', 's1', 's2', 's3'];
const MIN_PER_USER = LONG ? 150 : 40;
const CHAOS = 'drop=0.1,dup=0.05,reorder=0.1,delay=0-3ms';
const PERIOD_MS = 1500;
const TAGS = ['A', 'B', 'C'] as const;
type Tag = (typeof TAGS)[number];

const children: Child[] = [];
const clients: RssClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(children.map((c) => c.kill('SIGKILL')));
});

const interests = (i: number) => [SUBJECTS[i % SUBJECTS.length]!, SUBJECTS[(i + 1) % SUBJECTS.length]!];

/** The epoch and reason of each "X serving (epoch N, reason)" line a server printed, in order. */
function servingLines(c: Child): { epoch: number; reason: string }[] {
  return c.lines.flatMap((l) => {
    const m = / serving \(epoch (\d+), (\w+)\)/.exec(l);
    return m ? [{ epoch: Number(m[1]), reason: m[2]! }] : [];
  });
}

function lastRole(c: Child): 'serving' | 'standby' {
  const l = [...c.lines].reverse().find((x) => / (serving|standby) \(epoch/.test(x));
  return l?.includes(' serving ') ? 'serving' : 'standby';
}

describe('a ring of three servers under faults, crashes and a restart', () => {
  it('cycles turns, survives two crashes, rejoins a restarted server, loses nothing acknowledged', async () => {
    const engine = rss(['engine', '--port', '0']);
    children.push(engine);
    const uri = (await engine.waitFor(/^mongodb:\/\//)).trim();
    const ports: Record<Tag, number> = { A: await freeUdpPort(), B: await freeUdpPort(), C: await freeUdpPort() };
    const peers = TAGS.map((t) => `${t}=127.0.0.1:${ports[t]}`).join(',');
    const serverArgs = (tag: Tag) => [
      'server', '--role', tag, '--peers', peers, '--mongo', uri, '--period', `${PERIOD_MS}ms`,
      '--chaos', `${CHAOS},seed=${11 * (TAGS.indexOf(tag) + 1)}`, '--log-level', 'warn',
    ];
    const servers = {} as Record<Tag, Child>;
    const running = new Set<Tag>(TAGS);
    const start = (tag: Tag) => {
      servers[tag] = rss(serverArgs(tag));
      children.push(servers[tag]);
      running.add(tag);
      return servers[tag].waitFor(/ready on/);
    };
    await Promise.all(TAGS.map(start));
    const serving = (): Tag | undefined => TAGS.find((t) => running.has(t) && lastRole(servers[t]) === 'serving');
    const address = (t: Tag) => ({ host: '127.0.0.1', port: ports[t] });

    const received = new Map<string, ReceivedText[]>();
    for (let i = 0; i < USERS; i++) {
      const c = await RssClient.open({
        // Odd users know only A and B: the ring list in REGISTERED tells them about C.
        servers: i % 2 === 0 ? TAGS.map(address) : [address('A'), address('B')],
        bind: { host: '127.0.0.1', port: 0 },
        policy: { ackTimeoutMs: 80, maxRetransmit: 60, maxWaitMs: 400, exchangeLifetimeMs: 30_000, listenSilenceMs: 1500 },
      });
      clients.push(c);
      await joinAsListener(c, `u${i}`, interests(i), received);
      expect(c.servers).toHaveLength(3);
    }

    // The scenario runs while everyone publishes.
    let scenarioDone = false;
    const story: string[] = [];
    const scenario = (async () => {
      // 1. Turns cycle through all three.
      await expect.poll(() => TAGS.every((t) => servingLines(servers[t]).some((l) => l.reason === 'handoff')), { timeout: 15_000, interval: 100 }).toBe(true);
      story.push('every server served a turn');
      // 2. SIGKILL the serving server; the next in ring order takes its lease over.
      const first = serving()!;
      running.delete(first);
      await servers[first].kill('SIGKILL');
      story.push(`killed ${first}`);
      await expect.poll(() => serving(), { timeout: 10_000, interval: 50 }).toBeDefined();
      // One standby only took the lease: the next in ring order.
      const took = serving()!;
      expect(took).toBe(TAGS[(TAGS.indexOf(first) + 1) % TAGS.length]);
      story.push(`${took} took over`);
      // 3. A period later, SIGKILL whoever serves then.
      await delay(PERIOD_MS);
      await expect.poll(() => serving(), { timeout: 10_000, interval: 50 }).toBeDefined();
      const second = serving()!;
      running.delete(second);
      await servers[second].kill('SIGKILL');
      story.push(`killed ${second}`);
      // 4. The last one serves.
      const last = TAGS.find((t) => t !== first && t !== second)!;
      await expect.poll(() => serving(), { timeout: 10_000, interval: 50 }).toBe(last);
      story.push(`${last} serves alone`);
      // 5. The first killed, restarted, rejoins as a standby and gets a turn by handoff.
      const before = servingLines(servers[last]).length;
      await start(first);
      await expect.poll(() => servingLines(servers[first]).some((l) => l.reason === 'handoff'), { timeout: 15_000, interval: 100 }).toBe(true);
      expect(servingLines(servers[last]).length).toBeGreaterThanOrEqual(before);
      story.push(`${first} restarted and served again`);
      scenarioDone = true;
    })();
    scenario.catch(() => {});

    const acked: Acked[] = [];
    await Promise.all(clients.map(async (c, i) => {
      const name = `u${i}`;
      for (let k = 0; k < MIN_PER_USER || !scenarioDone; k++) {
        const subject = interests(i)[k % 2]!;
        const text = `${name}#${k}`;
        const r = await c.publish(name, subject, text);
        acked.push({ name, subject, text, seq: r.seq });
        // Spread the publishes over the whole scenario.
        await delay(20);
        if (k > 10_000) break;
      }
    }));
    await scenario;
    console.info(`ring chaos: ${story.join('; ')}`);
    expect(story).toHaveLength(6);

    const stored = await storedFaults(uri, acked);
    expect({ lost: stored.lost, storedTwice: stored.storedTwice, wrongSeq: stored.wrongSeq }).toEqual({ lost: 0, storedTwice: 0, wrongSeq: 0 });
    const wants = (name: string, subject: string) => interests(Number(name.slice(1))).includes(subject);
    // Until every user was shown all it is owed (pushes, then gap-filling), or 30 s: then count what is missing.
    await untilDelivered(clients, received, acked, wants);
    const got = deliveryFaults(received, acked, wants, 'ring chaos');
    expect(await cursorsPast(uri, received, acked, wants, 'ring chaos')).toBe(0);
    console.info(`ring chaos: ${JSON.stringify({ acknowledged: acked.length, stored: stored.stored, ...got })}`);
    expect({ missing: got.missing, duplicates: got.duplicates, outOfOrder: got.outOfOrder }).toEqual({ missing: 0, duplicates: 0, outOfOrder: 0 });
  }, LONG ? 300_000 : 120_000);
});
