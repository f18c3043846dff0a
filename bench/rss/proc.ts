/**
 * The bench's processes and how they talk: the orchestrator starts each
 * worker (server side, load generator, Aedes) as its own Node process,
 * optionally pinned to one core with taskset, and drives it with commands
 * over the IPC channel ({id, cmd, args} → {id, ok, result | error});
 * workers may also send events ({event, ...}).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export type Handlers = Record<string, (args: any) => unknown>;

/** Worker side: answer the orchestrator's commands with `handlers`. */
export function serveCommands(handlers: Handlers): void {
  process.on('message', (m: { id: number; cmd: string; args: unknown }) => {
    void (async () => {
      try {
        const h = handlers[m.cmd];
        if (!h) throw new Error(`unknown command ${m.cmd}`);
        const result = await h(m.args);
        process.send!({ id: m.id, ok: true, result });
      } catch (err) {
        process.send!({ id: m.id, ok: false, error: (err as Error).stack ?? String(err) });
      }
    })();
  });
  // The orchestrator went away: so does the worker.
  process.on('disconnect', () => process.exit(0));
}

/** Worker side: tell the orchestrator something happened. */
export function emitEvent(event: string, data: Record<string, unknown> = {}): void {
  process.send?.({ event, ...data });
}

export interface Worker {
  proc: ChildProcess;
  call<T = any>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Events of this worker (`event` field), in arrival order. */
  on(event: string, f: (data: any) => void): void;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** True when taskset exists (the bench then pins each process to one core). */
export const canPin = (() => {
  if (process.platform !== 'linux') return false;
  const r = spawnSync('taskset', ['-c', '0', 'true']);
  return r.status === 0;
})();

export interface WorkerOptions {
  /** Pin to this core (when taskset is available). */
  cpu?: number;
  nodeArgs?: string[];
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Start a bundled worker script (bench/out/*.cjs) and wait for its IPC channel. */
export function startWorker(script: string, o: WorkerOptions = {}): Worker {
  if (!existsSync(script)) throw new Error(`${script} is missing (bench/rss/build.ts builds it)`);
  const nodeArgv = [...(o.nodeArgs ?? []), script, ...(o.args ?? [])];
  const [cmd, argv] = o.cpu !== undefined && canPin
    ? ['taskset', ['-c', String(o.cpu), process.execPath, ...nodeArgv]]
    : [process.execPath, nodeArgv];
  const proc = spawn(cmd, argv as string[], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...o.env } });
  let next = 1;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, ((d: any) => void)[]>();
  proc.on('message', (m: any) => {
    if (m && typeof m.event === 'string') {
      for (const f of listeners.get(m.event) ?? []) f(m);
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`worker ${script}: ${m.error}`));
  });
  proc.on('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`worker ${script} exited (${code ?? signal})`));
    pending.clear();
  });
  return {
    proc,
    call(cmdName, args, timeoutMs = 600_000) {
      const id = next++;
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`worker ${script}: ${cmdName} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => { clearTimeout(t); resolve(v); },
          reject: (e) => { clearTimeout(t); reject(e); },
        });
        proc.send({ id, cmd: cmdName, args });
      });
    },
    on(event, f) {
      listeners.set(event, [...(listeners.get(event) ?? []), f]);
    },
    kill(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill(signal);
      });
    },
  };
}
