import { afterEach, describe, expect, it } from 'vitest';
import type { Address } from '../../src/transport/types';
import { openUdp, type UdpTransport } from '../../src/transport/udp';

const open: UdpTransport[] = [];
async function udp(host = '127.0.0.1'): Promise<UdpTransport> {
  const t = await openUdp({ host, port: 0 });
  open.push(t);
  return t;
}

function nextDatagram(t: UdpTransport): Promise<{ bytes: Buffer; from: Address }> {
  return new Promise((resolve) => t.onDatagram((bytes, from) => resolve({ bytes, from })));
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('openUdp', () => {
  it('binds a system-chosen port and exchanges datagrams with the source address', async () => {
    const a = await udp();
    const b = await udp();
    expect(a.address().port).toBeGreaterThan(0);
    const got = nextDatagram(b);
    a.send(Buffer.from('hello'), b.address());
    const { bytes, from } = await got;
    expect(bytes.toString()).toBe('hello');
    expect(from).toEqual(a.address());
    await expect.poll(() => a.stats.sent).toBe(1);
    expect(b.stats.received).toBe(1);
  });

  it('binds the IPv4 wildcard by default', async () => {
    const t = await openUdp();
    open.push(t);
    expect(t.address().host).toBe('0.0.0.0');
  });

  it('rejects a port that is in use', async () => {
    const a = await udp();
    await expect(openUdp({ host: '127.0.0.1', port: a.address().port })).rejects.toThrow(/EADDRINUSE/);
  });

  it('counts send errors instead of throwing', async () => {
    const a = await udp();
    // An IPv6 destination on an IPv4 socket fails at once; port 0 is not a destination.
    const failed: string[] = [];
    expect(() => a.send(Buffer.from('x'), { host: '::1', port: 9 }, () => failed.push('v6'))).not.toThrow();
    expect(() => a.send(Buffer.from('x'), { host: '127.0.0.1', port: 0 }, () => failed.push('port 0'))).not.toThrow();
    const b = await udp();
    a.send(Buffer.from('x'), b.address(), () => failed.push('delivered'));
    await expect.poll(() => a.stats.sendErrors).toBe(2);
    await expect.poll(() => a.stats.sent).toBe(1);
    // The caller hears of each datagram that did not leave, and of no other.
    expect(failed.sort()).toEqual(['port 0', 'v6']);
  });

  it('close() resolves once, is idempotent, and later sends are counted errors', async () => {
    const a = await udp();
    const p1 = a.close();
    const p2 = a.close();
    expect(p1).toBe(p2);
    await p1;
    a.send(Buffer.from('late'), { host: '127.0.0.1', port: 9 });
    expect(a.stats.sendErrors).toBe(1);
    expect(a.address().port).toBeGreaterThan(0);
  });

  it('speaks IPv6 when the host contains a colon', async () => {
    let a: UdpTransport;
    try {
      a = await udp('::1');
    } catch {
      return; // no IPv6 loopback on this machine
    }
    const b = await udp('::1');
    const got = nextDatagram(b);
    a.send(Buffer.from('six'), b.address());
    expect((await got).bytes.toString()).toBe('six');
  });
});
