/**
 * Store faults on demand: a TCP fault proxy in front of a single-host
 * mongodb:// URI, and the few words that drive it (the demo console's
 * `store ...` command and `rss store-proxy` read the same ones).
 */
import { InvalidArgumentError } from '../errors';
import { TcpFaultProxy } from '../transport/tcp-fault-proxy';

export type { TcpFaultProxy };

export const STORE_FAULT_HELP = 'up | down | reset | blackhole | slow [MS, default 300] | flap [MS, default 1000]';

/** Put a fault proxy in front of `uri` (one host:port); returns the proxy and the URI that goes through it. */
export async function proxyInFront(uri: string, listen: { host?: string; port?: number } = {}): Promise<{ proxy: TcpFaultProxy; uri: string }> {
  const m = /^mongodb:\/\/(?:([^@/]*)@)?([^/?,]+):(\d+)([/?].*)?$/.exec(uri);
  if (!m) throw new InvalidArgumentError(`a fault proxy needs a single-host mongodb:// URI with a port (got ${uri.replace(/\/\/[^@/]*@/, '//***@')})`);
  const proxy = await TcpFaultProxy.open({ host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) }, listen);
  const auth = m[1] !== undefined ? `${m[1]}@` : '';
  return { proxy, uri: `mongodb://${auth}${proxy.host}:${proxy.port}${m[4] || '/'}` };
}

/** Apply one fault command (`down`, `slow 500`, ...); returns what the proxy does now, in words. */
export function applyStoreFault(proxy: TcpFaultProxy, line: string): string {
  const [word, arg] = line.trim().split(/\s+/, 2);
  const ms = (fallback: number) => {
    if (arg === undefined) return fallback;
    const n = Number(arg.replace(/ms$/, ''));
    if (!Number.isInteger(n) || n < 0 || n > 600_000) throw new InvalidArgumentError(`invalid duration "${arg}" (milliseconds)`);
    return n;
  };
  switch (word?.toLowerCase()) {
    case 'up': proxy.up(); break;
    case 'down': proxy.down(); break;
    case 'reset': proxy.reset(); break;
    case 'blackhole': proxy.blackhole(); break;
    case 'slow': proxy.slow(ms(300)); break;
    case 'flap': proxy.flap(Math.max(1, ms(1000))); break;
    default: throw new InvalidArgumentError(`unknown store fault "${word ?? ''}" (${STORE_FAULT_HELP})`);
  }
  return proxy.describe();
}
