/**
 * A blind spoofer for tests: sends UDP datagrams whose source address is
 * someone else's (a small python3 helper with a raw socket; needs root, as
 * CI runs). Counts the bytes sent in each forged source's name.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { addressKey, type Address } from '../../src/transport/types';

const HELPER = fileURLToPath(new URL('./spoof.py', import.meta.url));

/** True when this process may send forged datagrams (root and python3 present). */
export function canSpoof(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('python3', ['-c', 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)']).status === 0;
}

export interface Spoofer {
  /** Send `bytes` to `to` as if from `from`; resolves once it is sent. */
  send(bytes: Uint8Array, from: Address, to: Address): Promise<void>;
  /** Bytes sent so far in `from`'s name. */
  sentAs(from: Address): number;
  close(): void;
}

export function spoofer(): Spoofer {
  const child: ChildProcessWithoutNullStreams = spawn('python3', [HELPER], { stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting: (() => void)[] = [];
  const sent = new Map<string, number>();
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      buffered = buffered.slice(nl + 1);
      waiting.shift()?.();
    }
  });
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w();
    if (code) throw new Error(`spoof helper exited ${code}: ${stderr}`);
  });
  return {
    send(bytes, from, to) {
      sent.set(addressKey(from), (sent.get(addressKey(from)) ?? 0) + bytes.length);
      return new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin.write(`${from.host} ${from.port} ${to.host} ${to.port} ${Buffer.from(bytes).toString('hex')}\n`);
      });
    },
    sentAs: (from) => sent.get(addressKey(from)) ?? 0,
    close: () => child.stdin.end(),
  };
}

/** A socket standing for a victim at another loopback address: counts every byte it receives. */
export interface Victim {
  address: Address;
  received: number;
  datagrams: Buffer[];
  close(): void;
}

export async function victimAt(host: string): Promise<Victim> {
  const socket: Socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, host, r));
  const v: Victim = {
    address: { host, port: socket.address().port },
    received: 0,
    datagrams: [],
    close: () => socket.close(),
  };
  socket.on('message', (b) => {
    v.received += b.length;
    v.datagrams.push(b);
  });
  return v;
}
