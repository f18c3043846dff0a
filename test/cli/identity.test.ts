/** The identity file names a server pair the same however --servers wrote it. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileKeyRing, keyScope } from '../../src/cli/client-identity';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('keyScope', () => {
  it('is order-free and has one spelling per address', () => {
    const a = { host: '127.0.0.1', port: 5001 };
    const b = { host: '::ffff:127.0.0.1', port: 5002 };
    expect(keyScope([a, b])).toBe('127.0.0.1:5001,127.0.0.1:5002');
    expect(keyScope([{ host: '127.0.0.1', port: 5002 }, a])).toBe('127.0.0.1:5001,127.0.0.1:5002');
    expect(keyScope([{ host: '0:0:0:0:0:0:0:1', port: 1 }, { host: '::1', port: 2 }])).toBe('[::1]:1,[::1]:2');
  });
});

describe('FileKeyRing', () => {
  it('reads keys filed by earlier versions under B-before-A, and moves them to the one spelling when it writes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rss-identity-'));
    const file = join(dir, 'id.json');
    const bobKey = Buffer.alloc(32, 7);
    await writeFile(file, JSON.stringify({ cid: 'abc', keys: { '127.0.0.1:5002,127.0.0.1:5001': { bob: bobKey.toString('base64url') }, 'other:1,other:2': { x: 'AA' } } }));
    const ring = new FileKeyRing(file, keyScope([{ host: '127.0.0.1', port: 5001 }, { host: '127.0.0.1', port: 5002 }]));
    expect(ring.get('bob')).toEqual(bobKey);
    expect(ring.names()).toEqual(['bob']);
    ring.set('carol', Buffer.alloc(32, 9));
    const doc = JSON.parse(await readFile(file, 'utf8')) as { cid: string; keys: Record<string, Record<string, string>> };
    expect(Object.keys(doc.keys).sort()).toEqual(['127.0.0.1:5001,127.0.0.1:5002', 'other:1,other:2']);
    expect(Object.keys(doc.keys['127.0.0.1:5001,127.0.0.1:5002']!).sort()).toEqual(['bob', 'carol']);
    // A deleted key does not come back from an older spelling.
    ring.delete('bob');
    expect(new FileKeyRing(file, '127.0.0.1:5001,127.0.0.1:5002').get('bob')).toBeUndefined();
    expect(doc.cid).toBe('abc');
  });
});
