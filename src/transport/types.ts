/** The datagram transport seen by servers and clients; only transport/ touches node:dgram. */

export interface Address {
  host: string;
  port: number;
}

export type DatagramHandler = (bytes: Buffer, from: Address) => void;

export interface Transport {
  /**
   * Send one datagram; errors (unreachable peer) are counted, never thrown.
   * `failed` runs when the datagram certainly did not leave (an error from
   * the socket), never for a loss on the way.
   */
  send(bytes: Uint8Array, to: Address, failed?: () => void): void;
  /** Set the one receiver of incoming datagrams. */
  onDatagram(handler: DatagramHandler): void;
  /** The local address the socket is bound to. */
  address(): Address;
  close(): Promise<void>;
}

/** "host:port" */
export function formatAddress(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * A host as compared: sockets report an IPv4 peer of a dual-stack socket as
 * IPv4-mapped IPv6 (::ffff:a.b.c.d), and IPv6 hex digits in either case.
 */
export function normalHost(host: string): string {
  const h = host.toLowerCase();
  return h.startsWith('::ffff:') && h.includes('.') ? h.slice(7) : h;
}

/** One key per address ("host|port", host normalised): for maps and comparisons. */
export function addressKey(a: Address): string {
  return `${normalHost(a.host)}|${a.port}`;
}

export function sameAddress(a: Address, b: Address): boolean {
  return a.port === b.port && normalHost(a.host) === normalHost(b.host);
}
