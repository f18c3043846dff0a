/**
 * One engine per data directory: the journal has no locking of its own and
 * two writers would interleave frames. A lock file holding the owner's pid
 * is created exclusively; a lock left by a process that no longer exists
 * (killed, crashed) is taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { EngineStorageError } from '../errors.js';

/** Name of the lock file inside the data directory. */
const LOCK_FILE = 'engine.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A held lock; release() removes the file. */
export interface DirLock {
  release(): Promise<void>;
}

/** Takes the lock of `dir` (which must exist) or fails with EngineStorageError naming the owner. */
export async function lockDir(dir: string): Promise<DirLock> {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return { release: () => unlink(file).catch(() => undefined) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
      throw new EngineStorageError('ENGINE_STORAGE', `data directory ${dir} is in use by another engine (pid ${owner}${owner === process.pid ? ', this process' : ''})`);
    }
    await unlink(file).catch(() => undefined); // stale: its owner is gone
  }
  throw new EngineStorageError('ENGINE_STORAGE', `could not lock data directory ${dir}`);
}
