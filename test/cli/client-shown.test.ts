import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileShownLog, shownFileFor } from '../../src/cli/client-shown';
import { MemoryKeyRing } from '../../src/client/keys';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'rss-shown-'));
  dirs.push(dir);
  const keys = new MemoryKeyRing();
  keys.set('bob', Buffer.alloc(32, 1));
  return { file: join(dir, 'client-id.shown.json'), keys };
}

describe('the command line record of the last seq shown', () => {
  it('is named after the identity file', () => {
    expect(shownFileFor('/d/client-id.json')).toBe('/d/client-id.shown.json');
    expect(shownFileFor('/d/me')).toBe('/d/me.shown.json');
  });

  it('gives a later run the number written at flush, per server pair, never the key itself', async () => {
    const { file, keys } = await setup();
    const log = new FileShownLog(file, 'pair-1', keys);
    log.set('bob', 7);
    log.set('bob', 9);
    log.flush();
    expect(new FileShownLog(file, 'pair-1', keys).get('bob')).toBe(9);
    expect(new FileShownLog(file, 'pair-2', keys).get('bob')).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toContain(Buffer.alloc(32, 1).toString('base64url'));
  });

  it('after its own write, still answers the number it wrote (not the file as first read)', async () => {
    const { file, keys } = await setup();
    const before = new FileShownLog(file, 'p', keys);
    before.set('bob', 5);
    before.flush();
    const log = new FileShownLog(file, 'p', keys);
    expect(log.get('bob')).toBe(5);
    log.set('bob', 7);
    log.flush();
    expect(log.get('bob')).toBe(7);
  });

  it('writes by itself shortly after a text is shown', async () => {
    const { file, keys } = await setup();
    new FileShownLog(file, 'p', keys).set('bob', 4);
    await expect.poll(() => new FileShownLog(file, 'p', keys).get('bob')).toBe(4);
  });

  it('forgets a number shown under another key (the name registered again)', async () => {
    const { file, keys } = await setup();
    const log = new FileShownLog(file, 'p', keys);
    log.set('bob', 9);
    log.flush();
    keys.set('bob', Buffer.alloc(32, 2));
    expect(new FileShownLog(file, 'p', keys).get('bob')).toBe(0);
  });

  it('keeps the larger number when two listeners write, and other users entries', async () => {
    const { file, keys } = await setup();
    keys.set('ann', Buffer.alloc(32, 3));
    const one = new FileShownLog(file, 'p', keys);
    const two = new FileShownLog(file, 'p', keys);
    one.set('bob', 12);
    one.set('ann', 3);
    one.flush();
    two.set('bob', 10);
    two.flush();
    const read = new FileShownLog(file, 'p', keys);
    expect([read.get('bob'), read.get('ann')]).toEqual([12, 3]);
  });

  it('treats a damaged file as empty (a text may be shown again, none is lost)', async () => {
    const { file, keys } = await setup();
    writeFileSync(file, 'not json');
    const log = new FileShownLog(file, 'p', keys);
    expect(log.get('bob')).toBe(0);
    log.set('bob', 5);
    log.flush();
    expect(new FileShownLog(file, 'p', keys).get('bob')).toBe(5);
  });
});
