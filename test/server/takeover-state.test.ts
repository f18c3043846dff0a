import { describe, expect, it } from 'vitest';
import { TakeoverStateLoader, type TakeoverState } from '../../src/server/takeover-state';
import { TakeoverWindow } from '../../src/server/takeover-window';
import { FakeClock } from '../../src/util/clock';

/** A loader whose reads are numbered: read n gives one user named `read n` (and the fence line `fence(n)`). */
function loader(fail: (n: number) => boolean = () => false, fence: (n: number) => number | null = () => 5) {
  let reads = 0;
  const clock = new FakeClock();
  const load = async (): Promise<TakeoverState> => {
    const n = ++reads;
    if (fail(n)) throw new Error(`read ${n} failed`);
    return { fence: fence(n), block: 16, users: [{ _id: `read ${n}` } as never], recent: [], contacts: [] };
  };
  const window = new TakeoverWindow(clock, 3000);
  const states = new TakeoverStateLoader(load, window);
  // As the server does: a TAKEOVER opens the window and starts the read.
  const heard = (epoch: number) => {
    window.open();
    states.readAhead(epoch);
  };
  return { clock, window, states, heard, reads: () => reads };
}

const who = async (s: Promise<TakeoverState>) => (await s).users[0]!._id;

describe('TakeoverStateLoader', () => {
  it('a handoff to the epoch a TAKEOVER named takes what was read ahead, once', async () => {
    const l = loader();
    l.heard(7);
    expect(l.reads()).toBe(1);
    expect(await who(l.states.take(7, true))).toBe('read 1');
    // Taken: the next takeover reads anew.
    expect(await who(l.states.take(7, true))).toBe('read 2');
  });

  it('another epoch, a failover or a resume, or a read ahead past its window: read now', async () => {
    const l = loader();
    l.heard(7);
    expect(await who(l.states.take(8, true))).toBe('read 2');
    l.heard(9);
    expect(await who(l.states.take(9, false))).toBe('read 4');
    l.heard(10);
    l.clock.advance(3000);
    expect(await who(l.states.take(10, true))).toBe('read 6');
    // Or a window closed early (the server stopped, or stood by).
    l.heard(11);
    l.window.close();
    expect(await who(l.states.take(11, true))).toBe('read 8');
  });

  it('a read ahead that found the lease not ours (no fence) is done again', async () => {
    const l = loader(undefined, (n) => (n === 1 ? null : 9));
    l.heard(3);
    const s = await l.states.take(3, true);
    expect(s).toMatchObject({ fence: 9, users: [{ _id: 'read 2' }] });
  });

  it('a read ahead that failed is read again; nothing is left unhandled', async () => {
    const l = loader((n) => n === 1);
    l.heard(3);
    await new Promise((r) => setImmediate(r));
    expect(await who(l.states.take(3, true))).toBe('read 2');
    // One that fails and is never taken is dropped without an unhandled rejection.
    const m = loader(() => true);
    m.heard(4);
    m.clock.advance(3000);
    await new Promise((r) => setImmediate(r));
    await expect(m.states.take(4, true)).rejects.toThrow('read 2 failed');
  });
});
