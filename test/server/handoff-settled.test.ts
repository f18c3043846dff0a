/**
 * The handoff moves the fence with the lease only when nothing is left in
 * flight, and a replay mark whose write failed is written again.
 */
import { describe, expect, it } from 'vitest';
import { Handoff, type HandoffHost } from '../../src/server/handoff';
import { FakeClock } from '../../src/util/clock';
import { silentLogger } from '../../src/util/log';

function host(o: { drained: boolean; inFlight: number; failMarks?: number }) {
  const handOvers: (number | undefined)[] = [];
  const markWrites: { user: string; ctrHigh: number }[][] = [];
  const users = new Map([['bob', { _id: 'bob', ctrHigh: 5 }]]);
  let failMarks = o.failMarks ?? 0;
  const h = {
    clock: new FakeClock(),
    tag: 'A',
    log: silentLogger,
    role: { epoch: 3, handOver: async (_to: string, settled: number | undefined) => (handOvers.push(settled), false) },
    succession: { nextLive: () => 'B', addressOf: () => ({ host: '127.0.0.1', port: 1 }), size: 2 },
    guard: { highMarks: () => [['bob', 9]] },
    directory: { get: (name: string) => users.get(name) },
    cursors: { flush: async () => {} },
    delivery: { pause() {}, resumeAll() {} },
    store: {
      saveReplayMarks: async (marks: { user: string; ctrHigh: number }[]) => {
        markWrites.push(marks);
        if (failMarks-- > 0) throw new Error('store away');
      },
    },
    sequencer: { settled: () => 56 },
    faults: { report() {} },
    serving: () => true,
    drained: async () => o.drained,
    inFlight: () => o.inFlight,
    startPeriod() {},
    stopPeriod() {},
  } as unknown as HandoffHost;
  return { h, handOvers, markWrites, users };
}

describe('Handoff: what moves with the lease', () => {
  it('moves the fence with the lease when every request finished', async () => {
    const { h, handOvers } = host({ drained: true, inFlight: 0 });
    await new Handoff(h).run();
    expect(handOvers).toEqual([56]);
  });

  it('leaves the fence to the next holder when a request outlived the drain (it may still number a text below it)', async () => {
    const { h, handOvers } = host({ drained: false, inFlight: 1 });
    await new Handoff(h).run();
    expect(handOvers).toEqual([undefined]);
  });

  it('writes a replay mark again when its first write failed, and records it only once written', async () => {
    const { h, markWrites, users } = host({ drained: true, inFlight: 0, failMarks: 1 });
    await new Handoff(h).run();
    expect(markWrites).toEqual([[{ user: 'bob', ctrHigh: 9 }], [{ user: 'bob', ctrHigh: 9 }]]);
    expect(users.get('bob')!.ctrHigh).toBe(9);
  });
});
