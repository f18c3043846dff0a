/** In-memory standard streams for CLI commands run in-process: collects what they write. */
import { PassThrough } from 'node:stream';
import type { CliIo } from '../../src/cli/client-output';

export function memoryIo(env: Record<string, string | undefined> = {}) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  const all: string[] = [];
  stdout.on('data', (d) => { out.push(String(d)); all.push(String(d)); });
  stderr.on('data', (d) => { err.push(String(d)); all.push(String(d)); });
  const io: CliIo = { stdin, stdout, stderr, env };
  return { io, stdin, out: () => out.join(''), err: () => err.join(''), all: () => all.join('') };
}
