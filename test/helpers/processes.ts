/** Child processes of the built CLI (dist/rss.cjs via bin/rss), for tests that need real separate processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';

export const RSS_BIN = fileURLToPath(new URL('../../bin/rss', import.meta.url));

export interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolve with the first output line matching `re` (seen already or to come). */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Every child started by rss() and still running. */
const running = new Set<ChildProcess>();

/**
 * Kill every child still running (SIGCONT first: a stopped one must not
 * stay stopped). For afterEach: a test that timed out never reached the
 * cleanup of its own, and its processes would outlive the run.
 */
export async function killLeftovers(): Promise<void> {
  const left = [...running];
  await Promise.all(left.map((proc) => new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
  })));
}

/** Start `rss ...args`; stdout and stderr lines are collected. */
export function rss(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, [RSS_BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  // A chunk may end mid-line (long log lines): each stream keeps its unfinished line until the rest comes.
  const feeder = () => {
    let partial = '';
    return (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop()!;
      for (const l of parts) {
        if (!l) continue;
        lines.push(l);
        for (const w of [...waiters]) if (w.re.test(l)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(l); }
      }
    };
  };
  proc.stdout!.on('data', feeder());
  proc.stderr!.on('data', feeder());
  return {
    proc, lines,
    waitFor(re, ms = 10_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms; output:\n${lines.join('\n')}`)), ms);
        waiters.push({ re, resolve: (l) => { clearTimeout(t); resolve(l); } });
      });
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

/** A UDP port the OS reports free right now (for a server that must be restarted on the same port). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
