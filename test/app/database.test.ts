import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedEngine } from '../../src/app/database';
import { EngineStorageError, type RunningEngine } from '../../src/engine';
import { StorageError } from '../../src/errors';

describe('startEmbeddedEngine', () => {
  const open: RunningEngine[] = [];
  let dir = '';
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("turns the engine's own storage error (a data directory in use) into StorageError", async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rss-db-'));
    open.push(await startEmbeddedEngine({ dataDir: dir }));
    const err = await startEmbeddedEngine({ dataDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('RSS_STORAGE');
    expect((err as StorageError).message).toMatch(/in use by another engine/);
    expect((err as StorageError).cause).toBeInstanceOf(EngineStorageError);
  });
});
