/**
 * The bench's pre-built datagrams and fast readers must say exactly what
 * the real codecs say, or the load generator would measure a different
 * protocol: native templates against encodeNative and verifyNativeMac, the
 * fast reply reader against decodeNative, the lean MQTT framing against
 * the MQTT 3.1.1 layout.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeNative, encodeNative, verifyNativeMac } from '../../src/protocol/native';
import { PacketReader, publishTemplate, remainingLength } from '../../bench/rss/mqtt-lean';
import { TwoNumberTemplate, readFast } from '../../bench/rss/wire';

describe('bench native templates', () => {
  const key = randomBytes(32);
  const cid = 'c1d-_x';

  it('builds a PUBLISH byte for byte as encodeNative does, with a MAC that verifies', () => {
    const msg = { type: 'PUBLISH', name: 'p0', subject: 't0', text: 'x"é\\y' } as const;
    const t = new TwoNumberTemplate(JSON.stringify(msg), 'rq', { cid }, key);
    for (const [rq, ctr] of [[1, 2], [4294967295, 1733300000000000], [0, 0]] as const) {
      const built = t.build(rq, ctr);
      expect(built.equals(encodeNative({ ...msg, rq }, { cid, ctr }, key))).toBe(true);
      const frame = decodeNative(built);
      expect(frame.message).toMatchObject({ ...msg, rq });
      expect(frame.envelope).toEqual({ cid, ctr });
      expect(verifyNativeMac(frame, key)).toBe(true);
      expect(verifyNativeMac(frame, randomBytes(32))).toBe(false);
    }
  });

  it('builds an ACK as encodeNative does', () => {
    const t = new TwoNumberTemplate(JSON.stringify({ type: 'ACK', name: 'l0_1' }), 'seq', { cid }, key);
    expect(t.build(77, 99).equals(encodeNative({ type: 'ACK', name: 'l0_1', seq: 77 }, { cid, ctr: 99 }, key))).toBe(true);
  });

  it('reads a pushed MESSAGE and a PUBLISHED as decodeNative does, and leaves anything else to it', () => {
    const push = encodeNative({ type: 'MESSAGE', seq: 123456, from: 'p0', subject: 't0', text: '"seq":9 "to":"z"', at: 5, to: 'l0_0' }, { ctr: 3 }, key);
    expect(readFast(push)).toEqual({ type: 'MESSAGE', to: 'l0_0', seq: 123456 });
    const published = encodeNative({ type: 'PUBLISHED', rq: 42, name: 'p0', subject: 't0', text: '"rq":7', seq: 9 }, { ctr: 8, ep: 2, pv: 1 }, key);
    expect(readFast(published)).toEqual({ type: 'PUBLISHED', rq: 42, pv: true });
    const unproven = encodeNative({ type: 'PUBLISHED', rq: 43, name: 'p0', subject: 't0', text: 'x', seq: 10 }, { ctr: 8, ep: 2 }, key);
    expect(readFast(unproven)).toEqual({ type: 'PUBLISHED', rq: 43, pv: false });
    expect(readFast(encodeNative({ type: 'CHALLENGE', to: 'p0', nonce: 'abc' }, {}, key))).toBeUndefined();
    expect(readFast(encodeNative({ type: 'PUBLISH-DENIED', rq: 1, name: 'p0', reason: 'no' } as never, {}, key))).toBeUndefined();
    expect(readFast(Buffer.from('{"type":"MESSAGE"}'))).toBeUndefined();
  });
});

describe('lean MQTT framing', () => {
  it('encodes remaining lengths as MQTT 3.1.1 does', () => {
    expect(remainingLength(0)).toEqual([0]);
    expect(remainingLength(127)).toEqual([0x7f]);
    expect(remainingLength(128)).toEqual([0x80, 0x01]);
    expect(remainingLength(16383)).toEqual([0xff, 0x7f]);
    expect(remainingLength(2097152)).toEqual([0x80, 0x80, 0x80, 0x01]);
  });

  it('splits packets across chunks at any boundary', () => {
    const big = publishTemplate('t1', Buffer.alloc(300, 0x61)).bytes;
    const small = Buffer.from([0x40, 2, 0, 7]);
    const stream = Buffer.concat([small, big, small]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new PacketReader();
      const got = [...r.read(stream.subarray(0, cut)), ...r.read(stream.subarray(cut))];
      expect(got.map((p) => [p.type, p.body.length])).toEqual([[4, 2], [3, big.length - 3], [4, 2]]);
    }
  });

  it('puts the packet id of a QoS 1 PUBLISH after the topic', () => {
    const t = publishTemplate('topic', Buffer.from('hi'));
    expect(t.bytes[0]).toBe(0x32);
    expect(t.bytes.subarray(2, 9).toString('latin1')).toBe('\u0000\u0005topic');
    expect(t.idAt).toBe(9);
    expect(t.bytes.subarray(11).toString()).toBe('hi');
  });
});
