/**
 * What a planned handoff waits for, in store round trips, since users see
 * no answer meanwhile: the old server writes the replay marks in one
 * command and moves the fence with the lease when its numbers are settled;
 * the next server renews the epoch its TAKEOVER names without reading the
 * lease first, fences (nothing to fence: one lease update) and reads its
 * state while it does, and answers the first publish from the block it
 * took with the fence. Each step is timed in the status report.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerEvents } from '../../src/server/server';
import type { StorePort } from '../../src/server/store-port';
import { nextEvents, startSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem | undefined;
afterEach(async () => {
  await sys?.close();
  sys = undefined;
});

/** Every call to `store` from now on, by method, in call order (with when it was answered, as `<method> done`). */
function record(store: StorePort, log: string[]): void {
  const target = store as unknown as Record<string, unknown>;
  for (const method of ['readLease', 'renewLease', 'fenceSeqs', 'allocateSeqs', 'loadUsers', 'recentReplies', 'loadContacts', 'updateUser', 'saveReplayMarks', 'storeText']) {
    const orig = (target[method] as (...a: unknown[]) => Promise<unknown>).bind(store);
    target[method] = async (...args: unknown[]) => {
      log.push(method);
      const out = await orig(...args);
      log.push(`${method} done`);
      return out;
    };
  }
}

describe('a planned handoff, step by step', () => {
  it('the next server serves after one round of store calls at once: renewing the epoch of its TAKEOVER, the fence, its state; nothing is fenced', async () => {
    // The standby checks the lease only at start (no poll of its own in the way): the TAKEOVER is what brings B in.
    sys = await startSystem({ roleTiming: { pollEvery: 60_000 } });
    const a = sys.pair.a.server;
    const b = sys.pair.b.server;
    const alice = await sys.client();
    const bob = await sys.client();
    await alice.register('alice');
    await bob.register('bob');
    await alice.subjects('alice', ['s']);
    await bob.subjects('bob', ['s']);
    for (let i = 0; i < 3; i++) await alice.publish('alice', 's', `before ${i}`);

    const aCalls: string[] = [];
    const bCalls: string[] = [];
    record(a.store, aCalls);
    record(b.store, bCalls);
    const serving = nextEvents<ServerEvents['serving'][0]>(b, 'serving', 1);
    expect(await a.handoff()).toBe(true);
    const [took] = await serving;
    const answered = await alice.publish('alice', 's', 'after');

    // A: the marks of both users in one command (never one per user), and no text numbers left to fence.
    expect(aCalls.filter((c) => c === 'saveReplayMarks')).toHaveLength(1);
    expect(aCalls).not.toContain('updateUser');
    const lease = await (await sys.raw()).control.findOne({ _id: 'lease' } as never);
    expect(lease).toMatchObject({ holder: 'B', epoch: 2 });
    expect((lease as { fenced?: number }).fenced ?? 0).toBe(0);
    // B: no lease read (the TAKEOVER named the epoch); the fence and its users read beside the renewal, not after it;
    // and the publish after the handoff numbered from the block the fence took (no allocation of its own).
    const upToServing = bCalls.slice(0, bCalls.indexOf('fenceSeqs done') + 1);
    expect(upToServing[0]).toBe('renewLease');
    expect(upToServing).not.toContain('readLease');
    expect(bCalls.indexOf('loadUsers')).toBeLessThan(bCalls.indexOf('renewLease done'));
    expect(bCalls.indexOf('fenceSeqs')).toBeLessThan(bCalls.indexOf('renewLease done'));
    expect(bCalls.filter((c) => c === 'fenceSeqs')).toHaveLength(1);
    expect(bCalls.slice(0, bCalls.indexOf('storeText done'))).not.toContain('allocateSeqs');
    expect(answered.seq).toBe(lease!.seq - 15);

    // The steps as the servers timed them: what `rss status` shows.
    expect(Object.keys(took!.took.phases)).toEqual(['lease', 'load', 'serve', 'held']);
    expect(took!.took.totalMs).toBeGreaterThanOrEqual(0);
    expect(Object.keys(a.telemetry.lastHandoff!.phases)).toEqual(['drain', 'cursors', 'lease', 'told']);
    expect(b.telemetry.lastTakeover).toMatchObject({ reason: 'handoff', totalMs: took!.took.totalMs });
    expect(a.status().lastHandoffMs).toBe(a.telemetry.lastHandoff!.totalMs);
    expect(b.status().lastTakeoverMs).toBe(took!.took.totalMs);
  });
});
