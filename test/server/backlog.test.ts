/** The backlog marker: a datagram to our own socket comes back behind everything that arrived before it. */
import { afterEach, describe, expect, it } from 'vitest';
import { BacklogMarker, FALLBACK_MS, MARKER_BYTE, ownSocket } from '../../src/server/backlog';
import { openUdp, type UdpTransport } from '../../src/transport/udp';
import { FakeClock, systemClock } from '../../src/util/clock';

/** A marker whose datagrams the test delivers (or not) itself. */
function marker() {
  const clock = new FakeClock();
  const sent: Buffer[] = [];
  const m = new BacklogMarker((b) => sent.push(Buffer.from(b)), clock);
  return { clock, sent, m };
}

describe('BacklogMarker', () => {
  it('runs a waiter when its marker comes back, not before', () => {
    const { sent, m } = marker();
    const ran: string[] = [];
    m.after(() => ran.push('a'));
    expect(sent).toHaveLength(1);
    expect(sent[0]![0]).toBe(MARKER_BYTE);
    expect(ran).toEqual([]);
    expect(m.take(sent[0]!)).toBe(true);
    expect(ran).toEqual(['a']);
    expect(m.stats).toMatchObject({ sent: 1, returned: 1, fallbacks: 0 });
  });

  it('a waiter that asks while a marker is out waits for the next one, sent when that one returns', () => {
    const { sent, m } = marker();
    const ran: string[] = [];
    m.after(() => ran.push('a'));
    m.after(() => ran.push('b'));
    m.after(() => ran.push('c'));
    // One marker out at a time.
    expect(sent).toHaveLength(1);
    m.take(sent[0]!);
    expect(ran).toEqual(['a']);
    expect(sent).toHaveLength(2);
    m.take(sent[1]!);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(sent).toHaveLength(2);
  });

  it('a marker the socket refused counts as back at once, not after the fallback', () => {
    const clock = new FakeClock();
    const m = new BacklogMarker((_b, failed) => failed(), clock);
    const ran: string[] = [];
    m.after(() => ran.push('a'));
    expect(ran).toEqual([]);
    clock.advance(0);
    expect(ran).toEqual(['a']);
    expect(m.stats).toMatchObject({ sent: 1, failed: 1, fallbacks: 0 });
  });

  it('a judgement that throws does not keep the others of its batch from running', () => {
    const { sent, m } = marker();
    const ran: string[] = [];
    m.after(() => ran.push('a'));
    m.after(() => {
      throw new Error('push failed');
    });
    m.after(() => ran.push('c'));
    m.take(sent[0]!);
    expect(() => m.take(sent[1]!)).toThrow('push failed');
    expect(ran).toEqual(['a', 'c']);
  });

  it('an old marker coming back late releases nobody; foreign datagrams are not taken', () => {
    const { clock, sent, m } = marker();
    const ran: string[] = [];
    m.after(() => ran.push('a'));
    clock.advance(FALLBACK_MS);
    expect(ran).toEqual(['a']);
    m.after(() => ran.push('b'));
    expect(sent).toHaveLength(2);
    // The first marker, late: taken (it is ours) but it is not the one out.
    expect(m.take(sent[0]!)).toBe(true);
    expect(ran).toEqual(['a']);
    // Same length and first byte, another prefix: not ours.
    const forged = Buffer.from(sent[1]!);
    forged[5] = forged[5]! ^ 0xff;
    expect(m.take(forged)).toBe(false);
    expect(m.take(Buffer.from([MARKER_BYTE, 1]))).toBe(false);
    expect(ran).toEqual(['a']);
    m.take(sent[1]!);
    expect(ran).toEqual(['a', 'b']);
  });

  it('a marker that never comes back counts as back after FALLBACK_MS', () => {
    const { clock, m } = marker();
    const ran: string[] = [];
    m.after(() => ran.push('a'));
    clock.advance(FALLBACK_MS - 1);
    expect(ran).toEqual([]);
    clock.advance(1);
    expect(ran).toEqual(['a']);
    expect(m.stats.fallbacks).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('clear() forgets the waiters and the fallback', () => {
    const { clock, sent, m } = marker();
    const ran: string[] = [];
    m.after(() => ran.push('a'));
    m.clear();
    clock.advance(FALLBACK_MS);
    m.take(sent[0]!);
    expect(ran).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('ownSocket reaches a wildcard bind on loopback', () => {
    expect(ownSocket({ host: '0.0.0.0', port: 7 })).toEqual({ host: '127.0.0.1', port: 7 });
    expect(ownSocket({ host: '::', port: 7 })).toEqual({ host: '::1', port: 7 });
    expect(ownSocket({ host: '127.0.0.1', port: 7 })).toEqual({ host: '127.0.0.1', port: 7 });
  });
});

describe('BacklogMarker on a real UDP socket', () => {
  let t: UdpTransport | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('comes back after every datagram that reached the socket before it was sent', async () => {
    t = await openUdp({ host: '127.0.0.1', port: 0 });
    const transport = t;
    const m = new BacklogMarker((b) => transport.send(b, ownSocket(transport.address())), systemClock);
    const seen: number[] = [];
    transport.onDatagram((bytes) => {
      if (m.take(bytes)) return;
      seen.push(bytes.readUInt16BE(0));
    });
    // A burst from another socket, all in our receive queue before the marker is sent.
    const other = await openUdp({ host: '127.0.0.1', port: 0 });
    try {
      for (let i = 1; i <= 200; i++) other.send(Buffer.from([i >> 8, i & 0xff]), transport.address());
      await expect.poll(() => seen.length > 0).toBe(true);
      let seenWhenBack = -1;
      m.after(() => { seenWhenBack = seen.length; });
      await expect.poll(() => seenWhenBack).toBeGreaterThanOrEqual(0);
      expect(seenWhenBack).toBe(200);
      expect(m.stats).toMatchObject({ returned: 1, fallbacks: 0 });
    } finally {
      await other.close();
    }
  });
});
