/** The in-memory user directory and its subject index. */
import { describe, expect, it } from 'vitest';
import { Directory } from '../../src/server/directory';
import type { UserDoc } from '../../src/store/documents';

const user = (name: string, subjects: string[], port = 4000): UserDoc => ({
  _id: name,
  host: '127.0.0.1',
  port,
  dialect: 'native',
  subjects,
  createdAt: 0,
});

const names = (users: UserDoc[]) => users.map((u) => u._id).sort();

describe('Directory', () => {
  it('fans out by subject and excludes the publisher', () => {
    const d = new Directory();
    d.load([user('alice', ['a', 'b']), user('bob', ['a']), user('carol', ['b', 'c'])]);
    expect(names(d.interested('a'))).toEqual(['alice', 'bob']);
    expect(names(d.interested('a', 'alice'))).toEqual(['bob']);
    expect(names(d.interested('b', 'bob'))).toEqual(['alice', 'carol']);
    expect(names(d.interested('c', 'carol'))).toEqual([]);
    expect(d.interested('zzz')).toEqual([]);
  });

  it('set() replaces a user: dropped subjects stop matching, the new address is returned', () => {
    const d = new Directory();
    d.set(user('alice', ['a', 'b']));
    d.set(user('alice', ['b', 'c'], 5000));
    expect(d.size).toBe(1);
    expect(d.interested('a')).toEqual([]);
    expect(d.interested('b')).toEqual([user('alice', ['b', 'c'], 5000)]);
    expect(names(d.interested('c'))).toEqual(['alice']);
    expect(d.get('alice')!.port).toBe(5000);
  });

  it('a subject listed twice yields the user once', () => {
    const d = new Directory();
    d.set(user('alice', ['a', 'a']));
    expect(names(d.interested('a'))).toEqual(['alice']);
    d.delete('alice');
    expect(d.interested('a')).toEqual([]);
  });

  it('delete() removes the user from every subject; unknown names are ignored', () => {
    const d = new Directory();
    d.load([user('alice', ['a', 'b']), user('bob', ['a'])]);
    d.delete('alice');
    d.delete('nobody');
    expect(d.get('alice')).toBeUndefined();
    expect(d.size).toBe(1);
    expect(names(d.interested('a'))).toEqual(['bob']);
    expect(d.interested('b')).toEqual([]);
    expect([...d.all()].map((u) => u._id)).toEqual(['bob']);
  });

  it('load() replaces everything', () => {
    const d = new Directory();
    d.load([user('alice', ['a'])]);
    d.load([user('bob', ['b'])]);
    expect(d.get('alice')).toBeUndefined();
    expect(d.interested('a')).toEqual([]);
    expect(names(d.interested('b'))).toEqual(['bob']);
    d.load([]);
    expect(d.size).toBe(0);
  });
});
