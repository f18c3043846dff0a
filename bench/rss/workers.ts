/** Starting and stopping the bench's worker processes with their cores: server side on core 0, load on core 1. */
import { workerPath, type WorkerName } from './build';
import { startWorker, type Worker, type WorkerOptions } from './proc';

export const SERVER_CPU = 0;
export const LOAD_CPU = 1;

/** Start a worker and wait until it listens for commands. */
export async function worker(name: WorkerName, o: WorkerOptions = {}): Promise<Worker> {
  // BENCH_PROFILE_LOAD=<dir>: a V8 CPU profile of every load generator, written there at its exit (what the generator itself costs).
  const dir = process.env.BENCH_PROFILE_LOAD;
  if (dir && name.endsWith('load')) o = { ...o, nodeArgs: [...(o.nodeArgs ?? []), '--cpu-prof', '--cpu-prof-dir', dir] };
  // BENCH_SERVER_NODE_ARGS: more node options for rss's server processes (experiments, e.g. V8 heap flags).
  const extra = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  if (name === 'server' && extra.length > 0) o = { ...o, nodeArgs: [...(o.nodeArgs ?? []), ...extra] };
  const w = startWorker(workerPath(name), o);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} did not start`)), 15_000);
    w.on('up', () => { clearTimeout(t); resolve(); });
    w.proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`${name} exited (${code}) before it started`)); });
  });
  return w;
}

/** Ask a worker to close what it opened, then let it exit (a profile is written at exit). */
export async function stop(w: Worker): Promise<void> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
  await w.call('close', undefined, 20_000).catch(() => {});
  const exited = new Promise<void>((r) => w.proc.once('exit', () => r()));
  if (w.proc.connected) w.proc.disconnect();
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  await w.kill('SIGKILL');
}

/** CPU seconds (user + system) a worker used between two cpu() answers. */
export function cpuSeconds(a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number {
  return (b.user - a.user + b.system - a.system) / 1e6;
}
