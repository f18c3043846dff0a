/**
 * The client's book of the servers: their names and addresses in ring order
 * (A and B of a pair, or every server of a ring) and which one serves as far
 * as the client knows. Only these addresses may answer requests, push texts
 * or redirect the client; a ring list MACed with a user's key (REGISTERED,
 * CHANGE-SERVER) replaces the book.
 */
import { positionTag, type RingMember, type ServerTag } from '../protocol/messages';
import { formatAddress, normalHost, sameAddress, type Address } from '../transport/types';

/** Named servers and the index of the current one (undefined until one answers). */
export class ServerBook {
  private members: RingMember[];
  private currentIndex: number | undefined;

  /** Servers given by address only are named by position: A, B, C, ... */
  constructor(servers: readonly Address[]) {
    this.members = servers.map((s, i) => ({ tag: positionTag(i), host: s.host, port: s.port }));
  }

  /** The position of the server at `addr`, undefined for a stranger. */
  indexOf(addr: Address): number | undefined {
    const i = this.members.findIndex((m) => sameAddress(addr, m));
    return i < 0 ? undefined : i;
  }

  isKnown(addr: Address): boolean {
    return this.indexOf(addr) !== undefined;
  }

  /** The serving server as far as we know. */
  get current(): Address | undefined {
    const m = this.currentIndex === undefined ? undefined : this.members[this.currentIndex];
    return m && { host: m.host, port: m.port };
  }

  get currentTag(): ServerTag | undefined {
    return this.currentIndex === undefined ? undefined : this.members[this.currentIndex]?.tag;
  }

  get all(): Address[] {
    return this.members.map((m) => ({ host: m.host, port: m.port }));
  }

  /** Make the known server at `addr` current; true when that changed anything. */
  adopt(addr: Address): boolean {
    const i = this.indexOf(addr);
    if (i === undefined || i === this.currentIndex) return false;
    this.currentIndex = i;
    return true;
  }

  /** Replace the address of server `tag` (UPDATE-SERVER), or add it; the current server stays current. */
  replace(tag: ServerTag, addr: Address): void {
    const i = this.members.findIndex((m) => m.tag === tag);
    if (i < 0) this.members.push({ tag, host: addr.host, port: addr.port });
    else this.members[i] = { tag, host: addr.host, port: addr.port };
  }

  /** Take a ring list from a server (MACed): it becomes the book; the current server stays current. True when it changed. */
  setRing(ring: readonly RingMember[]): boolean {
    const same = ring.length === this.members.length && ring.every((m, i) => m.tag === this.members[i]!.tag && sameAddress(m, this.members[i]!));
    if (same) return false;
    const current = this.current;
    this.members = ring.map((m) => ({ tag: m.tag, host: m.host, port: m.port }));
    this.currentIndex = current ? this.indexOf(current) : undefined;
    return true;
  }

  /** Where transmission goes: the current server, or every server when unknown or asked. */
  targets(all: boolean): Address[] {
    const cur = this.current;
    return all || !cur ? this.all : [cur];
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
export function pairScope(servers: readonly Address[]): string {
  return servers.map((a) => formatAddress({ host: canonicalHost(a.host), port: a.port })).sort().join(',');
}
