import { describe, expect, it } from 'vitest';
import { tellEveryoneToSwitch, type ChangeServer, type SwitchSender } from '../../src/server/change-server';
import { LegacyContacts, type ContactStore } from '../../src/server/legacy-contacts';
import type { ContactDoc, UserDoc } from '../../src/store/documents';
import { addressKey, type Address } from '../../src/transport/types';
import { silentLogger } from '../../src/util/log';

class FakeContactStore implements ContactStore {
  readonly docs = new Map<string, ContactDoc>();
  saves = 0;
  async saveContact(c: ContactDoc): Promise<void> {
    this.saves++;
    this.docs.set(c._id, { ...c });
  }
  async removeContact(id: string): Promise<void> {
    this.docs.delete(id);
  }
}

const at = (port: number): Address => ({ host: '127.0.0.1', port });
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('LegacyContacts', () => {
  it('keeps at most `max` contacts, the least recently heard dropped first, and forgets them after `ttl`', () => {
    let now = 1000;
    const set = new LegacyContacts({ max: 2, ttl: 500, rewriteAfter: 100 }, new FakeContactStore(), silentLogger, () => now);
    set.heard(at(1), 'pickle', false, false);
    set.heard(at(2), 'text', false, false);
    set.heard(at(3), 'pickle', false, false);
    expect(set.current().map((c) => c.port)).toEqual([2, 3]);
    now += 400;
    set.heard(at(3), 'pickle', false, false);
    now += 200;
    expect(set.current().map((c) => c.port)).toEqual([3]);
    expect(set.size).toBe(1);
  });

  it('writes to the store only when serving, for a new, newly validated or long unwritten address', async () => {
    let now = 0;
    const store = new FakeContactStore();
    const set = new LegacyContacts({ max: 10, ttl: 10_000, rewriteAfter: 100 }, store, silentLogger, () => now);
    set.heard(at(1), 'pickle', false, false);
    await flush();
    expect(store.saves).toBe(0);
    set.heard(at(1), 'pickle', false, true);
    set.heard(at(1), 'pickle', false, true);
    await flush();
    expect(store.saves).toBe(1);
    set.heard(at(1), 'pickle', true, true);
    await flush();
    expect(store.docs.get(addressKey(at(1)))).toMatchObject({ validated: true });
    now = 150;
    set.heard(at(1), 'pickle', false, true);
    await flush();
    expect(store.saves).toBe(3);
    // Once validated it stays so.
    expect(store.docs.get(addressKey(at(1)))).toMatchObject({ validated: true, at: 150 });
  });

  it('an address that said END-CONNECTION is removed, and an older copy read from the store does not bring it back', async () => {
    let now = 100;
    const store = new FakeContactStore();
    const set = new LegacyContacts({ max: 10, ttl: 10_000, rewriteAfter: 100 }, store, silentLogger, () => now);
    set.heard(at(1), 'pickle', false, true);
    await flush();
    const stored = [...store.docs.values()];
    now = 200;
    set.ended(at(1));
    await flush();
    expect(store.docs.size).toBe(0);
    set.load(stored);
    expect(set.current()).toEqual([]);
    // Heard again later: known again.
    set.heard(at(1), 'pickle', false, false);
    expect(set.current()).toHaveLength(1);
  });

  it('merges what the store holds with what it heard itself, the more recent winning', () => {
    const now = 1000;
    const set = new LegacyContacts({ max: 10, ttl: 10_000, rewriteAfter: 100 }, new FakeContactStore(), silentLogger, () => now);
    set.heard(at(1), 'text', false, false);
    set.load([
      { _id: addressKey(at(1)), host: '127.0.0.1', port: 1, dialect: 'pickle', at: 500, validated: true },
      { _id: addressKey(at(2)), host: '127.0.0.1', port: 2, dialect: 'pickle', at: 900, validated: false },
    ]);
    expect(set.current().map((c) => [c.port, c.dialect, c.validated])).toEqual([[1, 'text', true], [2, 'pickle', false]]);
  });
});

describe('tellEveryoneToSwitch', () => {
  const msg: ChangeServer = { type: 'CHANGE-SERVER', host: '127.0.0.1', port: 9, tag: 'B', epoch: 2 };
  const user = (name: string, port: number, dialect: UserDoc['dialect'], addrOk: boolean): UserDoc =>
    ({ _id: name, host: '127.0.0.1', port, dialect, subjects: [], createdAt: 0, addrOk });
  const contact = (port: number, validated = false): ContactDoc =>
    ({ _id: addressKey(at(port)), host: '127.0.0.1', port, dialect: 'pickle', at: 0, validated });

  function recorder(budget: Set<number>): SwitchSender & { sent: string[] } {
    const sent: string[] = [];
    return {
      sent,
      toUser: (u) => (u.addrOk ? (sent.push(`user ${u._id}`), true) : false),
      toAddress: (a, _d, _m, validated) => (validated || budget.has(a.port) ? (sent.push(`addr ${a.port}`), true) : false),
      isValidated: () => false,
    };
  }

  it('tells each legacy address once, however many names live there; native users each get their own', () => {
    const send = recorder(new Set([2]));
    const told = tellEveryoneToSwitch(msg, [
      user('one', 1, 'pickle', true), user('two', 1, 'pickle', true),
      user('n1', 5, 'native', true), user('n2', 5, 'native', true),
      user('late', 2, 'text', false),
    ], [contact(1), contact(2), contact(3), contact(4, true)], send);
    expect(send.sent).toEqual(['user one', 'user n1', 'user n2', 'addr 2', 'addr 4']);
    // one, two, n1, n2 and late (reached as a contact within its budget); 4 is no user; 3 had no budget.
    expect(told).toEqual({ users: 5, others: 1 });
  });
});
