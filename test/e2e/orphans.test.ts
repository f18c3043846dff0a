/**
 * A serving server that dies between writing a text's inbox rows and the
 * text leaves rows owing a text that does not exist. The next serving
 * server drops them (pushes and retrieves are not held up by them), and
 * the texts it stores itself are delivered as usual.
 */
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import type { ReceivedText } from '../../src/client/client';
import { MemoryKeyRing } from '../../src/client/keys';
import { aliceAndBob, delay, nextEvents, systemsClosedAfterEach } from '../helpers/system';

const system = systemsClosedAfterEach();

describe('orphan inbox rows of a crashed holder', () => {
  it('are dropped by the next serving server, by its pushes and by RETRIEVE-TEXTS', async () => {
    const sys = await system();
    const { alice, bob } = await aliceAndBob(sys);
    // carol registers, then goes away: her texts wait in the inbox.
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
    // A's numbers after `first` are what A would have used next: rows for two of them, texts never written.
    const db = new MongoClient(sys.engine.uri);
    const inbox = db.db(sys.pair.a.store.db.databaseName).collection('inbox');
    const orphan = (seq: number, user: string) => ({ _id: `${seq}:${user}`, user, seq });
    expect(await sys.pair.a.server.handoff()).toBe(true);
    await delay(100);
    await inbox.insertMany([orphan(first.seq + 1, 'bob'), orphan(first.seq + 1, 'carol'), orphan(first.seq + 2, 'carol')] as never[]);
    try {
      // B serves: bob's stream loads from the inbox before its first push, and drops the orphan.
      const pushed = nextEvents<ReceivedText>(bob, 'message');
      const after = await alice.publish('alice', 'news', 'after');
      expect((await pushed)[0]).toMatchObject({ seq: after.seq, text: 'after' });
      await delay(100);
      expect(await inbox.countDocuments({ user: 'bob' })).toBe(0);
      // carol retrieves: the real text (twice published) comes back; her orphan rows are gone after it.
      const carol = await sys.client({ keys, cid });
      const got = await carol.retrieve('carol');
      expect(got.texts.map((t) => t.text)).toEqual(['before', 'after']);
      // Marked received once the answer is out.
      await expect.poll(() => inbox.countDocuments({ user: 'carol' })).toBe(0);
    } finally {
      await db.close();
    }
  });
});
