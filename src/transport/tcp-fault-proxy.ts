/**
 * A TCP proxy that injects the store faults real deployments meet, put
 * between the servers and MongoDB (or the embedded engine): the servers'
 * URI names the proxy, the proxy forwards to the store.
 *
 * - `up`: forwards both ways (after `delayMs`, when set: a slow store).
 * - `down`: refuses new connections (the listening socket is closed:
 *   ECONNREFUSED) and resets the open ones, as a store that died.
 * - `reset`: resets the open connections once (a network blip; new ones work).
 * - `blackhole`: accepts and keeps connections but forwards nothing, as a
 *   partition or a frozen store; the connections it starved are reset when
 *   it ends (their byte streams lost data).
 * - `flap(ms)`: down and up in turn, `ms` each, until another mode is set.
 */
import { createServer, createConnection, type Server, type Socket } from 'node:net';

export interface ProxyTarget {
  host: string;
  port: number;
}

export type ProxyMode = 'up' | 'down' | 'blackhole';

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Data was dropped while blackholed: the streams are out of step, reset when the blackhole ends. */
  starved: boolean;
}

export class TcpFaultProxy {
  private mode: ProxyMode = 'up';
  /** Added to every chunk forwarded (both directions), ms. */
  private delay = 0;
  private readonly pairs = new Set<Pair>();
  private listening = true;
  private flapTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly target: ProxyTarget,
    readonly host: string,
    readonly port: number,
  ) {}

  /** Listen on `host:port` (port 0 picks a free one) and forward to `target`. */
  static async open(target: ProxyTarget, listen: { host?: string; port?: number } = {}): Promise<TcpFaultProxy> {
    const host = listen.host ?? '127.0.0.1';
    let proxy: TcpFaultProxy | undefined;
    const server = createServer((socket) => proxy?.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port ?? 0, host, () => resolve());
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('proxy has no TCP address');
    proxy = new TcpFaultProxy(server, target, host, addr.port);
    server.on('error', () => {});
    return proxy;
  }

  /** What the proxy is doing now, in words (for the demo console and logs). */
  describe(): string {
    if (this.flapTimer) return `flapping (now ${this.mode})`;
    return this.mode === 'up' && this.delay > 0 ? `slow (+${this.delay} ms per chunk)` : this.mode;
  }

  /** Forward again, without delay. */
  up(): void {
    this.stopFlap();
    this.delay = 0;
    this.setMode('up');
  }

  down(): void {
    this.stopFlap();
    this.setMode('down');
  }

  blackhole(): void {
    this.stopFlap();
    this.setMode('blackhole');
  }

  /** Up, each chunk forwarded `ms` late. */
  slow(ms: number): void {
    this.stopFlap();
    this.delay = ms;
    this.setMode('up');
  }

  /** Reset every open connection now; the proxy stays as it was. */
  reset(): void {
    for (const p of [...this.pairs]) this.drop(p);
  }

  /** Down for `ms`, up for `ms`, and so on. */
  flap(ms: number): void {
    this.stopFlap();
    this.delay = 0;
    this.setMode('down');
    this.flapTimer = setInterval(() => this.setMode(this.mode === 'down' ? 'up' : 'down'), ms);
    this.flapTimer.unref();
  }

  /** Open connections (both ends), for tests. */
  get connections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopFlap();
    this.reset();
    if (this.listening) await new Promise<void>((r) => this.server.close(() => r()));
    this.listening = false;
  }

  private stopFlap(): void {
    if (this.flapTimer) clearInterval(this.flapTimer);
    this.flapTimer = undefined;
  }

  private setMode(mode: ProxyMode): void {
    const was = this.mode;
    this.mode = mode;
    if (mode === 'down') {
      this.reset();
      if (this.listening) {
        this.listening = false;
        this.server.close();
      }
      return;
    }
    if (was === 'blackhole' && mode !== 'blackhole') for (const p of [...this.pairs]) if (p.starved) this.drop(p);
    if (!this.listening && !this.closed) {
      this.listening = true;
      // The same port: the servers' URI names it. Refused meanwhile by the OS, as a dead store is.
      this.server.listen(this.port, this.host);
    }
  }

  private accept(client: Socket): void {
    if (this.mode === 'down' || this.closed) return void client.resetAndDestroy();
    const upstream = createConnection(this.target);
    const pair: Pair = { client, upstream, starved: false };
    this.pairs.add(pair);
    this.forward(pair, client, upstream);
    this.forward(pair, upstream, client);
    const end = () => this.drop(pair);
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  }

  /** Copy `from` to `to`, through the current mode and delay, keeping the order of chunks. */
  private forward(pair: Pair, from: Socket, to: Socket): void {
    let due = 0;
    from.on('data', (chunk: Buffer) => {
      if (this.mode === 'blackhole') {
        pair.starved = true;
        return;
      }
      if (this.delay <= 0 && due <= Date.now()) return void to.write(chunk);
      // Never before the chunk ahead of it, even when the delay just got shorter.
      due = Math.max(due, Date.now() + this.delay);
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, due - Date.now());
    });
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    for (const s of [pair.client, pair.upstream]) {
      if (s.destroyed) continue;
      // A reset, not a polite close: what a crashed store or a broken network looks like to the driver.
      if (s.readyState === 'open') s.resetAndDestroy();
      else s.destroy();
    }
  }
}
