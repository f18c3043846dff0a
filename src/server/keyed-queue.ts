/**
 * Runs tasks one at a time per key (per user name), so two requests of one
 * user never interleave their store reads and writes, while different users
 * proceed concurrently.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  get active(): number {
    return this.tails.size;
  }

  /** Run `task` after the key's earlier tasks; its outcome (a rejection too) is the caller's to handle. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(task, task);
    // The chain only waits for the outcome; the caller holds `result` and handles its rejection.
    const tail = result.then(noop, noop);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves when every task queued so far has finished. */
  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}

function noop(): void {}
