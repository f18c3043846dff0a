/** The peer key's acceptance rules, as TAKEOVER (Guard.verifyPeer) and STATUS (StatusGate) apply them. */
import { describe, expect, it } from 'vitest';
import { encodeNative, decodeNative } from '../../src/protocol/native';
import { defaultSecurityOptions, Guard } from '../../src/server/guard';
import { checkPeerFrame, peerKeyOf } from '../../src/server/peer-key';
import { REPLAY_WINDOW_US } from '../../src/server/replay';
import { StatusGate } from '../../src/server/status-gate';

const NOW_MS = 1_700_000_000_000;
const NOW_US = NOW_MS * 1000;
const key = peerKeyOf('peer s3cret');
const takeover = (ctr: number | undefined, k = key) =>
  decodeNative(encodeNative({ type: 'TAKEOVER', from: 'B', epoch: 2 }, ctr === undefined ? {} : { ctr }, k));
const status = (ctr: number, k = key) => decodeNative(encodeNative({ type: 'STATUS', rq: 1 }, { cid: 'op', ctr }, k));
const from = { host: '10.0.0.7', port: 1 };

describe('checkPeerFrame', () => {
  it('wants the peer MAC and a counter within the replay window of now, either side', () => {
    expect(checkPeerFrame(takeover(NOW_US), key, NOW_MS)).toEqual({ ok: true, ctr: NOW_US });
    expect(checkPeerFrame(takeover(NOW_US - REPLAY_WINDOW_US), key, NOW_MS).ok).toBe(true);
    expect(checkPeerFrame(takeover(NOW_US + REPLAY_WINDOW_US), key, NOW_MS).ok).toBe(true);
    expect(checkPeerFrame(takeover(NOW_US - REPLAY_WINDOW_US - 1), key, NOW_MS)).toEqual({ ok: false, why: 'stale' });
    expect(checkPeerFrame(takeover(NOW_US + REPLAY_WINDOW_US + 1), key, NOW_MS)).toEqual({ ok: false, why: 'stale' });
    expect(checkPeerFrame(takeover(undefined), key, NOW_MS)).toEqual({ ok: false, why: 'stale' });
    expect(checkPeerFrame(takeover(NOW_US, peerKeyOf('guess')), key, NOW_MS)).toEqual({ ok: false, why: 'mac' });
  });
});

describe('TAKEOVER and STATUS on top of it', () => {
  it('TAKEOVER: counters only grow; every refusal counts as a forged peer message', async () => {
    const guard = new Guard({ ...defaultSecurityOptions(), peerSecret: 'peer s3cret' }, { peerSecret: async () => 'unused' }, () => NOW_MS);
    await guard.ready;
    expect(guard.verifyPeer(takeover(NOW_US))).toBe(true);
    expect(guard.verifyPeer(takeover(NOW_US))).toBe(false);
    expect(guard.verifyPeer(takeover(NOW_US - 1))).toBe(false);
    expect(guard.verifyPeer(takeover(NOW_US + 1))).toBe(true);
    expect(guard.verifyPeer(takeover(NOW_US + 2, peerKeyOf('guess')))).toBe(false);
    expect(guard.counters.forgedPeer).toBe(3);
  });

  it('STATUS: a sliding window of its own (an older unseen counter passes), told apart by verdict', () => {
    const gate = new StatusGate('peer s3cret', () => NOW_MS);
    expect(gate.check(status(NOW_US), from)).toBe('ok');
    expect(gate.check(status(NOW_US - 5), from)).toBe('ok');
    expect(gate.check(status(NOW_US - 5), from)).toBe('stale counter');
    expect(gate.check(status(NOW_US + REPLAY_WINDOW_US + 1), from)).toBe('stale counter');
    expect(gate.check(status(NOW_US + 1, peerKeyOf('guess')), from)).toBe('peer secret required');
  });
});
