import { describe, expect, it } from 'vitest';
import type { Guard } from '../../src/server/guard';
import { Outbox } from '../../src/server/outbox';
import { SendBudgets } from '../../src/server/send-budgets';
import type { Address, Transport } from '../../src/transport/types';

function world() {
  const sent: string[] = [];
  const transport = { send: (b: Buffer) => void sent.push(b.toString()) } as unknown as Transport;
  // No allowance: only the 3× rule (send-budgets.test.ts covers the allowance).
  const budgets = new SendBudgets(100, { burst: 0, perSecond: 0 });
  const counters = { requests: 0, replies: 0, duplicates: 0, malformed: 0, ignored: 0, published: 0, pushes: 0, textsPurged: 0 };
  const outbox = new Outbox(transport, { sendBudgets: budgets } as unknown as Guard, {}, counters);
  return { sent, budgets, outbox };
}

const to: Address = { host: '127.0.0.1', port: 4000 };
const parts = ['a', 'b', 'c'].map((c) => Buffer.from(c.repeat(1000)));

describe('Outbox.sendTo', () => {
  it('sends everything uncharged when told to (a native user\'s own answer at its proven address)', () => {
    const { sent, outbox } = world();
    expect(outbox.sendTo(parts, to, 0, false)).toBe(3);
    expect(sent.map((s) => s[0])).toEqual(['a', 'b', 'c']);
  });

  it('stops at the budget of an unvalidated address, and a repetition from there gets every part through', () => {
    const { sent, budgets, outbox } = world();
    // Each 400-byte request allows 1200 bytes back: one 1000-byte part per request.
    let resume = 0;
    for (let request = 0; request < 3; request++) {
      budgets.received(to, 400);
      resume = outbox.sendTo(parts, to, resume) % parts.length;
    }
    expect(sent.map((s) => s[0]).sort()).toEqual(['a', 'b', 'c']);
  });
});
