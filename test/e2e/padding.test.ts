/**
 * Padding is for anti-amplification only: a native client pads a user's
 * requests to LIMITS.minNativeRequest bytes until a MACed reply says the
 * user asks from its proven address (`pv`, after the CHALLENGE was answered
 * there), then sends them unpadded, and they are answered as before; a
 * user whose address is not proven is never told so.
 */
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/protocol/limits';
import { decodeNative, encodeNative } from '../../src/protocol/native';
import { deriveUserKey, newAgreementKeys } from '../../src/protocol/auth';
import type { Message } from '../../src/protocol/messages';
import { openUdp } from '../../src/transport/udp';
import type { Transport } from '../../src/transport/types';
import { rawPeer, type RawPeer } from '../helpers/raw';
import { systemsClosedAfterEach } from '../helpers/system';

const system = systemsClosedAfterEach();

/** A UDP transport that remembers the type and size of every request it sends. */
async function recording(): Promise<{ transport: Transport; sent: { type: string; bytes: number }[] }> {
  const udp = await openUdp({ host: '127.0.0.1', port: 0 });
  const sent: { type: string; bytes: number }[] = [];
  const transport: Transport = {
    send(bytes, to) {
      sent.push({ type: decodeNative(bytes).message.type, bytes: bytes.length });
      udp.send(bytes, to);
    },
    onDatagram: (h) => udp.onDatagram(h),
    address: () => udp.address(),
    close: () => udp.close(),
  };
  return { transport, sent };
}

describe('request padding', () => {
  it('stops once the address is proven, and the unpadded requests are answered', async () => {
    const sys = await system();
    const { transport, sent } = await recording();
    const alice = await sys.client({ transport });
    await alice.register('alice');
    const registerSize = sent.find((s) => s.type === 'REGISTER')!.bytes;
    expect(registerSize).toBeGreaterThanOrEqual(LIMITS.minNativeRequest);
    // The CHALLENGE is answered right after REGISTERED; a later request's MACed reply says the address is proven.
    await expect.poll(async () => {
      await alice.subjects('alice', ['news']);
      return sent.filter((s) => s.type === 'SUBJECTS').at(-1)!.bytes;
    }).toBeLessThan(LIMITS.minNativeRequest);
    const before = sent.length;
    const published = await alice.publish('alice', 'news', 'short');
    expect(published.seq).toBeGreaterThan(0);
    const publish = sent.slice(before).find((s) => s.type === 'PUBLISH')!;
    expect(publish.bytes).toBeLessThan(LIMITS.minNativeRequest / 2);
  });

  it('is not lifted for an address that never answered its CHALLENGE', async () => {
    const sys = await system();
    const peer = await rawPeer();
    try {
      const ours = newAgreementKeys();
      let ctr = Date.now() * 1000;
      peer.send(encodeNative({ type: 'REGISTER', rq: 1, name: 'bob', host: peer.address.host, port: peer.address.port, pub: ours.pub }, { cid: 'bob', ctr: ctr++ }), sys.servers[0]);
      const has = (inbox: RawPeer['inbox'], type: string) => inbox.some((g) => decodeNative(g.bytes).message.type === type);
      const got = await peer.takeWhen((inbox) => has(inbox, 'REGISTERED') && has(inbox, 'CHALLENGE'), 'REGISTERED and CHALLENGE');
      const registered = got.map((g) => decodeNative(g.bytes).message).find((m) => m.type === 'REGISTERED') as Extract<Message, { type: 'REGISTERED' }>;
      const k = deriveUserKey(ours, registered.pub!, ours.pub, registered.pub!, 'bob')!;
      // The CHALLENGE came, and is not answered: the address stays unproven.
      expect(got.some((g) => decodeNative(g.bytes).message.type === 'CHALLENGE')).toBe(true);
      peer.send(encodeNative({ type: 'SUBJECTS', rq: 2, name: 'bob', subjects: ['news'] }, { cid: 'bob', ctr: ctr++ }, k), sys.servers[0]);
      const updated = (inbox: RawPeer['inbox']) => inbox.map((g) => decodeNative(g.bytes)).filter((f) => f.message.type === 'SUBJECTS-UPDATED');
      const replies = updated(await peer.takeWhen((inbox) => updated(inbox).length > 0, 'SUBJECTS-UPDATED'));
      // Absence check: no second SUBJECTS-UPDATED (say a padded and an unpadded one) arrives after the first.
      replies.push(...updated(await peer.quiet(100)));
      expect(replies).toHaveLength(1);
      expect(replies[0]!.envelope.pv).toBeUndefined();
    } finally {
      peer.close();
    }
  });
});
