/** Per-key serialization of request handling. */
import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../src/server/keyed-queue';

/** A promise the test settles by hand. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('KeyedQueue', () => {
  it('runs tasks of one key one at a time, in order', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const results = gates.map((g, i) =>
      q.run('bob', async () => {
        log.push(`start ${i}`);
        await g.promise;
        log.push(`end ${i}`);
        return i;
      }),
    );
    await flush();
    expect(log).toEqual(['start 0']);
    gates[2]!.resolve();
    gates[1]!.resolve();
    await flush();
    expect(log).toEqual(['start 0']);
    gates[0]!.resolve();
    expect(await Promise.all(results)).toEqual([0, 1, 2]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('different keys run concurrently', async () => {
    const q = new KeyedQueue();
    const gate = deferred();
    const started: string[] = [];
    const a = q.run('alice', async () => {
      started.push('alice');
      await gate.promise;
    });
    const b = q.run('bob', async () => {
      started.push('bob');
    });
    await b;
    await flush();
    expect(started).toEqual(['alice', 'bob']);
    expect(q.active).toBe(1);
    gate.resolve();
    await a;
  });

  it('a failing task rejects its own caller and does not block the next', async () => {
    const q = new KeyedQueue();
    const first = q.run('bob', async () => {
      throw new Error('boom');
    });
    const second = q.run('bob', async () => 'ok');
    await expect(first).rejects.toThrow('boom');
    expect(await second).toBe('ok');
  });

  it('forgets a key once its last task is done', async () => {
    const q = new KeyedQueue();
    await q.run('bob', async () => 1);
    await flush();
    expect(q.active).toBe(0);
  });

  it('drain() waits for every task queued so far, including ones queued while draining', async () => {
    const q = new KeyedQueue();
    const gate = deferred();
    const done: string[] = [];
    void q.run('alice', async () => {
      await gate.promise;
      done.push('alice');
      void q.run('carol', async () => {
        await flush();
        done.push('carol');
      });
    });
    void q.run('bob', async () => {
      done.push('bob');
    }).catch(() => {});
    let drained = false;
    const d = q.drain().then(() => (drained = true));
    await flush();
    expect(drained).toBe(false);
    gate.resolve();
    await d;
    expect(done.sort()).toEqual(['alice', 'bob', 'carol']);
    expect(q.active).toBe(0);
  });

  it('drain() of an idle queue resolves at once: a fresh one, and one whose tasks have all settled', async () => {
    const q = new KeyedQueue();
    const drainedNow = async () => {
      let drained = false;
      void q.drain().then(() => (drained = true));
      await flush();
      return drained;
    };
    expect(await drainedNow()).toBe(true);
    await q.run('alice', async () => 1);
    await q.run('bob', async () => Promise.reject(new Error('refused'))).catch(() => {});
    await flush();
    expect(q.active).toBe(0);
    expect(await drainedNow()).toBe(true);
  });
});
