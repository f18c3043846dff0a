/**
 * The client's book of the two servers: their addresses (A first, B second)
 * and which one serves as far as the client knows. Only these two addresses
 * may answer requests, push texts or redirect the client.
 */
import type { ServerTag } from '../protocol/messages';
import { formatAddress, normalHost, sameAddress, type Address } from '../transport/types';

export const TAG_INDEX: Record<ServerTag, 0 | 1> = { A: 0, B: 1 };

/** Addresses of servers A and B and the index of the current one (undefined until one answers). */
export class ServerBook {
  private readonly addrs: [Address, Address];
  private currentIndex: 0 | 1 | undefined;

  constructor(servers: readonly [Address, Address]) {
    this.addrs = [{ ...servers[0] }, { ...servers[1] }];
  }

  /** 0 for A, 1 for B, undefined for a stranger. */
  indexOf(addr: Address): 0 | 1 | undefined {
    if (sameAddress(addr, this.addrs[0])) return 0;
    if (sameAddress(addr, this.addrs[1])) return 1;
    return undefined;
  }

  isKnown(addr: Address): boolean {
    return this.indexOf(addr) !== undefined;
  }

  /** The serving server as far as we know. */
  get current(): Address | undefined {
    return this.currentIndex === undefined ? undefined : { ...this.addrs[this.currentIndex] };
  }

  get currentTag(): ServerTag | undefined {
    return this.currentIndex === undefined ? undefined : this.currentIndex === 0 ? 'A' : 'B';
  }

  get all(): [Address, Address] {
    return [{ ...this.addrs[0] }, { ...this.addrs[1] }];
  }

  /** Make the known server at `addr` current; true when that changed anything. */
  adopt(addr: Address): boolean {
    const i = this.indexOf(addr);
    if (i === undefined || i === this.currentIndex) return false;
    this.currentIndex = i;
    return true;
  }

  /** Replace the address of server `index` (UPDATE-SERVER); the current index is kept. */
  replace(index: 0 | 1, addr: Address): void {
    this.addrs[index] = { ...addr };
  }

  /** Where transmission goes: the current server, or both when unknown or asked. */
  targets(both: boolean): Address[] {
    const cur = this.current;
    return both || !cur ? this.all : [cur];
  }
}

/** One spelling of an IP address: lower case, IPv4-mapped IPv6 as IPv4, IPv6 compressed. */
function canonicalHost(host: string): string {
  const h = normalHost(host);
  if (!h.includes(':')) return h;
  try {
    return new URL(`http://[${h}]/`).hostname.slice(1, -1);
  } catch {
    return h;
  }
}

/**
 * The name of a server pair, the same however the pair was written: resolved
 * addresses (the caller resolves host names first), one spelling per
 * address, in sorted order (A,B and B,A are the same pair).
 */
export function pairScope(servers: readonly [Address, Address]): string {
  return servers.map((a) => formatAddress({ host: canonicalHost(a.host), port: a.port })).sort().join(',');
}
