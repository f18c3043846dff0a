import { describe, expect, it } from 'vitest';
import { tellEveryoneToSwitch, type ChangeServer, type SwitchSender } from '../../src/server/change-server';
import { LegacyContacts, type ContactStore } from '../../src/server/legacy-contacts';
import type { ContactDoc, UserDoc } from '../../src/store/documents';
import { addressKey, type Address } from '../../src/transport/types';
import { silentLogger } from '../../src/util/log';

class FakeContactStore implements ContactStore {
  readonly docs = new Map<string, ContactDoc>();
  saves = 0;
  async saveContact(c: ContactDoc, _keep?: number): Promise<void> {
    this.saves++;
    this.docs.set(c._id, { ...c, at: Math.max(c.at, this.docs.get(c._id)?.at ?? 0) });
  }
  async removeContact(id: string): Promise<void> {
    this.docs.delete(id);
  }
}

const at = (port: number): Address => ({ host: '127.0.0.1', port });
const flush = () => new Promise((r) => setTimeout(r, 0));
const doc = (port: number, when: number, dialect: ContactDoc['dialect'] = 'pickle'): ContactDoc =>
  ({ _id: addressKey(at(port)), host: '127.0.0.1', port, dialect, at: when });

describe('LegacyContacts', () => {
  it('keeps at most `max` contacts, the least recently heard dropped first, and forgets them after `ttl`', () => {
    let now = 1000;
    const set = new LegacyContacts({ max: 2, ttl: 500, rewriteAfter: 100 }, new FakeContactStore(), silentLogger, () => now);
    set.heard(at(1), 'pickle');
    set.heard(at(2), 'text');
    set.heard(at(3), 'pickle');
    expect(set.current().map((c) => c.port)).toEqual([2, 3]);
    now += 400;
    set.heard(at(3), 'pickle');
    now += 200;
    expect(set.current().map((c) => c.port)).toEqual([3]);
    expect(set.size).toBe(1);
  });

  it('writes to the store for a new address, and again only after `rewriteAfter`', async () => {
    let now = 0;
    const store = new FakeContactStore();
    const set = new LegacyContacts({ max: 10, ttl: 10_000, rewriteAfter: 100 }, store, silentLogger, () => now);
    set.heard(at(1), 'pickle');
    set.heard(at(1), 'pickle');
    now = 50;
    set.heard(at(1), 'pickle');
    await flush();
    expect(store.saves).toBe(1);
    now = 150;
    set.heard(at(1), 'pickle');
    await flush();
    expect(store.saves).toBe(2);
    expect(store.docs.get(addressKey(at(1)))).toMatchObject({ at: 150 });
  });

  it('an address that said END-CONNECTION is removed, and an older copy read from the store does not bring it back', async () => {
    let now = 100;
    const store = new FakeContactStore();
    const set = new LegacyContacts({ max: 10, ttl: 10_000, rewriteAfter: 100 }, store, silentLogger, () => now);
    set.heard(at(1), 'pickle');
    await flush();
    const stored = [...store.docs.values()];
    now = 200;
    set.ended(at(1));
    await flush();
    expect(store.docs.size).toBe(0);
    set.load(stored);
    expect(set.current()).toEqual([]);
    // Heard again later: known again.
    set.heard(at(1), 'pickle');
    expect(set.current()).toHaveLength(1);
  });

  it('failed store writes are a warning once per burst (then once a minute while they last), and recovery is said', async () => {
    let now = 1000;
    const logged: { level: string; obj: object }[] = [];
    const log = { ...silentLogger, warn: (obj: object) => void logged.push({ level: 'warn', obj }), info: (obj: object) => void logged.push({ level: 'info', obj }) };
    const store = new FakeContactStore();
    let down = true;
    const flaky: ContactStore = {
      saveContact: (c, keep) => (down ? Promise.reject(new Error('store down')) : store.saveContact(c, keep)),
      removeContact: (id) => store.removeContact(id),
    };
    const set = new LegacyContacts({ max: 100, ttl: 1e9, rewriteAfter: 100 }, flaky, log, () => now);
    for (let port = 1; port <= 20; port++) set.heard(at(port), 'text');
    await flush();
    expect(logged.map((l) => l.level)).toEqual(['warn']);
    now += 61_000;
    set.heard(at(21), 'text');
    await flush();
    expect(logged.map((l) => l.level)).toEqual(['warn', 'warn']);
    expect(logged[1]!.obj).toMatchObject({ moreFailures: 19 });
    down = false;
    set.heard(at(22), 'text');
    await flush();
    expect(logged.map((l) => l.level)).toEqual(['warn', 'warn', 'info']);
    expect(store.docs.has(addressKey(at(22)))).toBe(true);
  });

  it('merges what the store holds with what it heard itself, the more recent winning', () => {
    const set = new LegacyContacts({ max: 10, ttl: 10_000, rewriteAfter: 100 }, new FakeContactStore(), silentLogger, () => 1000);
    set.heard(at(1), 'text');
    set.load([doc(1, 500, 'pickle'), doc(2, 900)]);
    expect(set.current().map((c) => [c.port, c.dialect, c.at])).toEqual([[1, 'text', 1000], [2, 'pickle', 900]]);
  });
});

describe('tellEveryoneToSwitch', () => {
  const msg: ChangeServer = { type: 'CHANGE-SERVER', host: '127.0.0.1', port: 9, tag: 'B', epoch: 2 };
  const user = (name: string, port: number, dialect: UserDoc['dialect'], addrOk: boolean): UserDoc =>
    ({ _id: name, host: '127.0.0.1', port, dialect, subjects: [], createdAt: 0, addrOk });

  it('tells each legacy address once, however many names live there; native users each get their own', () => {
    const sent: string[] = [];
    const budget = new Set([2, 4]);
    const send: SwitchSender = {
      toUser: (u) => (u.addrOk ? (sent.push(`user ${u._id}`), true) : false),
      toAddress: (a) => (budget.has(a.port) ? (sent.push(`addr ${a.port}`), true) : false),
    };
    const told = tellEveryoneToSwitch(msg, [
      user('one', 1, 'pickle', true), user('two', 1, 'pickle', true),
      user('n1', 5, 'native', true), user('n2', 5, 'native', true),
      user('late', 2, 'text', false),
    ], [doc(1, 0), doc(2, 0), doc(3, 0), doc(4, 0)], send);
    expect(sent).toEqual(['user one', 'user n1', 'user n2', 'addr 2', 'addr 4']);
    // one, two, n1, n2 and late (reached as a contact); 4 is no user; 3's budget was spent.
    expect(told).toEqual({ users: 5, others: 1 });
  });
});
