/** An Exchanges table on a FakeClock whose transport records what it sends (two servers, A and B). */
import { ClientIdentity } from '../../src/client/identity';
import { MemoryKeyRing } from '../../src/client/keys';
import { Exchanges, type ExchangeDeps } from '../../src/client/requests';
import { defaultRetryPolicy } from '../../src/client/retry';
import { ServerBook } from '../../src/client/servers';
import type { Address, Transport } from '../../src/transport/types';
import { FakeClock } from '../../src/util/clock';
import { silentLogger } from '../../src/util/log';

export const A = { host: '127.0.0.1', port: 1001 };
export const B = { host: '127.0.0.1', port: 1002 };

export function exchangesOnFakeClock(policy = defaultRetryPolicy(), random = () => 0, more: Partial<ExchangeDeps> = {}) {
  const clock = new FakeClock();
  const sent: { at: number; bytes: Buffer; to: Address }[] = [];
  const transport: Transport = {
    send: (bytes, to) => void sent.push({ at: clock.now(), bytes: Buffer.from(bytes), to }),
    onDatagram: () => {},
    address: () => ({ host: '127.0.0.1', port: 2000 }),
    close: async () => {},
  };
  const servers = new ServerBook([A, B]);
  const keys = new MemoryKeyRing();
  const ex = new Exchanges({ transport, clock, policy, random, logger: silentLogger, identity: new ClientIdentity(), servers, keys, ...more });
  return { clock, sent, ex, servers, keys };
}
