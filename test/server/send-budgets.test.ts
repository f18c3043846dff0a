import { describe, expect, it } from 'vitest';
import { SendBudgets } from '../../src/server/send-budgets';
import type { Address } from '../../src/transport/types';

const a: Address = { host: '127.0.0.2', port: 4000 };
const b: Address = { host: '127.0.0.2', port: 4001 };

function budgetsAt(burst = 1000, perSecond = 500, host = { burst: 1e9, perSecond: 1e9 }) {
  let now = 0;
  const budgets = new SendBudgets(100, { burst, perSecond }, () => now, host);
  return { budgets, advance: (ms: number) => (now += ms) };
}

describe('SendBudgets (what may be sent to an address)', () => {
  it('an unproven address gets 3 × what it sent plus the allowance, and no more', () => {
    const { budgets } = budgetsAt();
    budgets.received(a, 100);
    expect(budgets.available(a)).toBe(1300);
    expect(budgets.allow(a, 1300)).toBe(true);
    expect(budgets.allow(a, 1)).toBe(false);
    expect(budgets.stats.amplificationDrops).toBe(1);
    // Budgets are per address.
    expect(budgets.available(b)).toBe(1000);
  });

  it('the allowance refills slowly, up to its burst', () => {
    const { budgets, advance } = budgetsAt();
    expect(budgets.allow(a, 1000)).toBe(true);
    advance(1000);
    expect(budgets.available(a)).toBe(500);
    advance(60_000);
    expect(budgets.available(a)).toBe(1000);
  });

  it('earned credit cannot be banked without bound', () => {
    const { budgets } = budgetsAt(0, 0);
    for (let i = 0; i < 1000; i++) budgets.received(a, 1000);
    expect(budgets.available(a)).toBeLessThan(100_000);
  });

  it('no count of datagrams lifts the budget of an address', () => {
    const { budgets } = budgetsAt(0, 0);
    for (let i = 0; i < 10; i++) budgets.received(a, 100);
    expect(budgets.available(a)).toBe(3000);
    expect(budgets.allow(a, 3001)).toBe(false);
  });

  it('the ports of one host share a host allowance: spoofed users at N ports do not get the host N allowances', () => {
    const { budgets, advance } = budgetsAt(1000, 500, { burst: 2500, perSecond: 1000 });
    const port = (p: number): Address => ({ host: '127.0.0.9', port: p });
    expect(budgets.allow(port(1), 1000)).toBe(true);
    expect(budgets.allow(port(2), 1000)).toBe(true);
    expect(budgets.available(port(3))).toBe(500);
    expect(budgets.allow(port(3), 501)).toBe(false);
    // Another host has its own; bytes earned from an address are still its own to spend.
    expect(budgets.available({ host: '127.0.0.8', port: 1 })).toBe(1000);
    budgets.received(port(4), 100);
    expect(budgets.available(port(4))).toBe(800);
    advance(1000);
    expect(budgets.available(port(5))).toBe(1000);
  });

  it('a reservation takes the bytes of an answer sized to the budget at once', () => {
    const { budgets } = budgetsAt(0, 0);
    budgets.received(a, 100);
    budgets.reserve(a, 250);
    expect(budgets.available(a)).toBe(50);
    expect(budgets.allow(a, 51)).toBe(false);
  });
});
