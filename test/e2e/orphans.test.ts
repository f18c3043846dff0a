/**
 * Numbers a serving server allocated and never stored a text under (it
 * died or paused mid-publish) are fenced by the next serving server: each
 * gets a fence document with no subject, which no log read finds. They
 * hold up neither pushes nor RETRIEVE-TEXTS, and the texts around them are
 * delivered as usual.
 */
import { describe, expect, it } from 'vitest';
import type { ReceivedText } from '../../src/client/client';
import { MemoryKeyRing } from '../../src/client/keys';
import { aliceAndBob, nextEvents, systemsClosedAfterEach } from '../helpers/system';

const system = systemsClosedAfterEach();

describe('numbers an earlier holder left without a text', () => {
  it('are fenced by the next serving server and skipped by its pushes and by RETRIEVE-TEXTS', async () => {
    const sys = await system();
    const { alice, bob } = await aliceAndBob(sys);
    // carol registers, then goes away: her texts stay owed.
    const keys = new MemoryKeyRing();
    const carolAway = await sys.client({ keys });
    await carolAway.register('carol');
    await carolAway.subjects('carol', ['news']);
    const { cid } = carolAway;
    await carolAway.close();
    await bob.listen('bob');
    // Listened for before publishing: bob's stream is open since his address was proven, so the push may beat the answer.
    const shown = nextEvents<ReceivedText>(bob, 'message');
    const first = await alice.publish('alice', 'news', 'before');
    await shown;
    // A allocates numbers it never stores a text under (as a holder dying mid-publish would).
    const epoch = sys.pair.a.server.status().epoch as number;
    const lost = await sys.pair.a.store.allocateSeqs('A', epoch, 3);
    expect(lost).toBeGreaterThan(first.seq);
    expect(await sys.pair.a.server.handoff()).toBe(true);
    // B serves: it fenced them before serving.
    await expect.poll(async () => (await sys.raw()).texts.countDocuments({ _id: { $gte: lost, $lte: lost + 2 }, fenced: true })).toBe(3);
    const pushed = nextEvents<ReceivedText>(bob, 'message');
    const after = await alice.publish('alice', 'news', 'after');
    expect(after.seq).toBeGreaterThan(lost + 2);
    expect((await pushed)[0]).toMatchObject({ seq: after.seq, text: 'after' });
    // carol retrieves: the real texts come back, nothing of the fenced numbers.
    const carol = await sys.client({ keys, cid });
    const got = await carol.retrieve('carol');
    expect(got.texts.map((t) => t.text)).toEqual(['before', 'after']);
    // Marked received once the answer is out: nothing more is owed.
    await expect.poll(async () => (await carol.retrieve('carol')).texts).toEqual([]);
  });
});
