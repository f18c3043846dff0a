/** Presence (WHO's online flag): heard within the window, not given up on, bounded to the directory. */
import { describe, expect, it } from 'vitest';
import { Presence } from '../../src/server/presence';

function presence(names: string[], window = 1000, giveUpAfter = 300) {
  const known = new Set(names);
  const p = new Presence({ window, giveUpAfter }, (n) => known.has(n), () => known.size);
  return { p, known };
}

describe('Presence', () => {
  it('is empty at first: nobody is online until heard from', () => {
    const { p } = presence(['alice']);
    expect(p.online('alice', 0)).toBe(false);
    expect(p.size).toBe(0);
  });

  it('a user heard from is online for the window, then offline until heard again', () => {
    const { p } = presence(['alice']);
    p.heard('alice', 100);
    expect(p.online('alice', 100)).toBe(true);
    expect(p.online('alice', 1100)).toBe(true);
    expect(p.online('alice', 1101)).toBe(false);
    p.heard('alice', 2000);
    expect(p.online('alice', 2500)).toBe(true);
  });

  it('pushes unanswered longer than delivery retries make the user offline; any answer clears that', () => {
    const { p } = presence(['bob']);
    p.heard('bob', 0);
    p.pushed('bob', 100);
    p.pushed('bob', 250); // a retransmission: the first unanswered push counts
    expect(p.online('bob', 400)).toBe(true);
    expect(p.online('bob', 401)).toBe(false);
    p.heard('bob', 500); // its ACK
    expect(p.online('bob', 600)).toBe(true);
  });

  it('a user delivery gave up on is offline until heard from again', () => {
    const { p } = presence(['bob']);
    p.heard('bob', 0);
    p.lost('bob');
    expect(p.online('bob', 1)).toBe(false);
    p.heard('bob', 2);
    expect(p.online('bob', 3)).toBe(true);
  });

  it('only names in the directory: unknown names are not tracked, a removed one is never online, and is pruned', () => {
    const { p, known } = presence(['alice', 'bob']);
    p.heard('mallory', 0);
    expect(p.size).toBe(0);
    expect(p.online('mallory', 0)).toBe(false);
    p.heard('alice', 0);
    p.heard('bob', 0);
    known.delete('bob');
    expect(p.online('bob', 1)).toBe(false);
    p.prune();
    expect(p.size).toBe(1);
  });

  it('forgets a user that de-registers, and everyone when serving begins', () => {
    const { p } = presence(['alice', 'bob']);
    p.heard('alice', 0);
    p.heard('bob', 0);
    p.forget('alice');
    expect(p.online('alice', 1)).toBe(false);
    expect(p.online('bob', 1)).toBe(true);
    p.clear();
    expect(p.online('bob', 1)).toBe(false);
    expect(p.size).toBe(0);
  });

  it('stays bounded however many distinct names are heard', () => {
    const known = new Set<string>();
    const p = new Presence({ window: 1000, giveUpAfter: 300 }, (n) => known.has(n), () => known.size);
    for (let i = 0; i < 5000; i++) {
      const n = `u${i}`;
      known.add(n);
      p.heard(n, i);
      // Users come and go (de-registered without a word to presence).
      if (i >= 10) known.delete(`u${i - 10}`);
    }
    expect(p.size).toBeLessThanOrEqual(10 + 64 + 1);
  });
});
