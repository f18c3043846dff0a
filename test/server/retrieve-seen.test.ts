/**
 * RETRIEVE-TEXTS with `seen`, our native client's way: the texts up to
 * `seen` are received, and an answer marks nothing itself. So an answer the
 * client never shows (lost, given to a sealing it no longer waits for, or
 * worked out again by the other server) costs no text: the next ask, saying
 * what was shown, gets them again. Without `seen` (canonical text and
 * pickle clients), the texts sent count as received once the answer is
 * recorded, as before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NativeWire } from '../../bench/rss/wire';
import { closeServed, LIS, PUB, served } from '../helpers/served';

afterEach(closeServed);

describe('RETRIEVE-TEXTS with seen', () => {
  it('an answer marks nothing received; the ask that says it was shown does, and the next answer is empty', async () => {
    const { s, wire, feed, retrieved } = await served();
    const texts = () => retrieved().at(-1)!.texts.map((t) => t.text);
    const before = s.cursors.get('lee');
    await feed(wire.request({ type: 'RETRIEVE-TEXTS', name: 'lee', seen: before }, wire.nextRq()), LIS);
    expect(texts()).toEqual(['one', 'two', 'three']);
    const last = retrieved().at(-1)!.texts.at(-1)!.seq;
    await new Promise((r) => setTimeout(r, 50));
    expect(s.cursors.get('lee')).toBe(before);
    // The client never showed that answer: asked again (a new request, executed anew), the same three.
    await feed(wire.request({ type: 'RETRIEVE-TEXTS', name: 'lee', seen: before }, wire.nextRq()), LIS);
    expect(texts()).toEqual(['one', 'two', 'three']);
    // Shown: the ask says so, the cursor moves, the push in flight is dropped, and nothing more is owed.
    await feed(wire.request({ type: 'RETRIEVE-TEXTS', name: 'lee', seen: last }, wire.nextRq()), LIS);
    expect(texts()).toEqual([]);
    expect(s.cursors.get('lee')).toBe(last);
    expect(s.delivery.inFlight).toBe(0);
  });

  it('a seen past the visible line moves the cursor only up to it, and nothing is owed', async () => {
    const { s, wire, feed, retrieved } = await served();
    await feed(wire.request({ type: 'RETRIEVE-TEXTS', name: 'lee', seen: 1e12 }, wire.nextRq()), LIS);
    expect(retrieved().at(-1)!.texts).toEqual([]);
    expect(s.cursors.get('lee')).toBe(s.sequencer.visibleLine);
  });

  it('a seen not MACed by the user is not believed: naming a legacy user, a stranger gets its texts (within its budget), never an empty answer that marks them received', async () => {
    const { wire, feed, handler, settle, retrieved } = await served();
    // tex, a canonical text user whose registered address never proved it receives: its texts stay owed.
    handler(Buffer.from('REGISTER 1 tex 10.0.0.7 4007'), { host: '10.0.0.7', port: 4008 });
    handler(Buffer.from('SUBJECTS 2 tex news'), { host: '10.0.0.7', port: 4008 });
    await settle();
    await feed(wire.request({ type: 'PUBLISH', name: 'pam', subject: 'news', text: 'four' }, wire.nextRq()), PUB);
    const stranger = new NativeWire();
    await feed(stranger.request({ type: 'RETRIEVE-TEXTS', name: 'tex', seen: 1e12 }, stranger.nextRq()), { host: '10.0.0.66', port: 6666 });
    expect(retrieved().at(-1)!.texts.map((t) => t.text)).toEqual(['four']);
  });

  it('without seen, the texts sent count as received once the answer is recorded', async () => {
    const { s, wire, feed, retrieved } = await served();
    await feed(wire.request({ type: 'RETRIEVE-TEXTS', name: 'lee' }, wire.nextRq()), LIS);
    expect(retrieved().at(-1)!.texts.map((t) => t.text)).toEqual(['one', 'two', 'three']);
    await expect.poll(() => s.cursors.get('lee')).toBe(retrieved().at(-1)!.texts.at(-1)!.seq);
    await feed(wire.request({ type: 'RETRIEVE-TEXTS', name: 'lee' }, wire.nextRq()), LIS);
    expect(retrieved().at(-1)!.texts).toEqual([]);
  });
});
