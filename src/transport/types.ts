/** The datagram transport seen by servers and clients; only transport/ touches node:dgram. */

export interface Address {
  host: string;
  port: number;
}

export type DatagramHandler = (bytes: Buffer, from: Address) => void;

export interface Transport {
  /** Send one datagram; errors (unreachable peer) are counted, never thrown. */
  send(bytes: Uint8Array, to: Address): void;
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
