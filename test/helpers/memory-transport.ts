/** An in-memory Transport for transport-layer tests: records what is sent, lets the test inject what arrives. */
import type { Address, DatagramHandler, Transport } from '../../src/transport/types';

export class MemoryTransport implements Transport {
  sent: { bytes: Buffer; to: Address }[] = [];
  handler: DatagramHandler | undefined;
  /** How many times close() was called. */
  closed = 0;

  send(bytes: Uint8Array, to: Address): void {
    this.sent.push({ bytes: Buffer.from(bytes), to });
  }

  onDatagram(h: DatagramHandler): void {
    this.handler = h;
  }

  address(): Address {
    return { host: '127.0.0.1', port: 1 };
  }

  /** A datagram carrying the 16-bit number `n` arrives from 127.0.0.1:2. */
  inject(n: number): void {
    this.handler!(Buffer.from([n & 0xff, n >> 8]), { host: '127.0.0.1', port: 2 });
  }

  async close(): Promise<void> {
    this.closed++;
  }
}
