/**
 * Issue "rss demo, server and client working end to end": two users
 * register through the client library, set subjects, one publishes, the
 * other receives the push and later retrieves nothing new; a third user
 * retrieves texts it missed; a handoff happens and the same users keep
 * working against the other server; de-register ends pushes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ReceivedText } from '../../src/client/client';
import { MemoryKeyRing } from '../../src/client/keys';
import { DeniedError } from '../../src/errors';
import { nextEvents, startSystem, type TestSystem } from '../helpers/system';
import { owedTo } from '../helpers/owed';

let sys: TestSystem | undefined;
afterEach(async () => {
  await sys?.close();
  sys = undefined;
});

describe('end to end over real UDP', () => {
  it('registers, pushes, retrieves missed texts, survives a handoff, and ends pushes at de-register', async () => {
    sys = await startSystem();
    const alice = await sys.client();
    const bob = await sys.client();
    await alice.register('alice');
    await bob.register('bob');
    await alice.subjects('alice', ['news', 'sport']);
    await bob.subjects('bob', ['news']);
    await bob.listen('bob');
    expect(alice.currentServer).toEqual(sys.servers[0]);

    const pushed = nextEvents<ReceivedText>(bob, 'message');
    const p1 = await alice.publish('alice', 'news', 'hello world');
    const [got] = await pushed;
    expect(got).toMatchObject({ seq: p1.seq, from: 'alice', subject: 'news', text: 'hello world' });
    // bob's ACK moves his cursor past it: nothing is left to retrieve.
    await expect.poll(() => owedTo(sys!.pair.a.server, 'bob')).toEqual([]);
    expect((await bob.retrieve('bob')).texts).toEqual([]);

    // carol's client goes away; texts published meanwhile wait for her.
    // The user key agreed at REGISTER is what makes a later client carol (the CLI keeps it in its identity file).
    const carolKeys = new MemoryKeyRing();
    const carol1 = await sys.client({ keys: carolKeys });
    await carol1.register('carol');
    await carol1.subjects('carol', ['sport', 'news']);
    const cid = carol1.cid;
    await carol1.close();
    const p2 = await alice.publish('alice', 'sport', 'goal');
    const p3 = await alice.publish('alice', 'news', 'rain tomorrow');
    expect(p3.seq).toBeGreaterThan(p2.seq);
    const carol = await sys.client({ cid, keys: carolKeys });
    const missed = await carol.retrieve('carol');
    // carol registered after p1: it was never owed to her.
    expect(missed.texts.map((t) => [t.seq, t.text])).toEqual([[p2.seq, 'goal'], [p3.seq, 'rain tomorrow']]);
    expect((await carol.retrieve('carol')).texts).toEqual([]);

    // Handoff: B serves with all the data; the users follow CHANGE-SERVER.
    const switched = nextEvents(bob, 'server');
    expect(await sys.pair.a.server.handoff()).toBe(true);
    await switched;
    expect(bob.currentServer).toEqual(sys.servers[1]);
    await expect.poll(() => sys!.pair.b.server.serving).toBe(true);
    expect(sys.pair.a.server.serving).toBe(false);
    const pushed2 = nextEvents<ReceivedText>(bob, 'message');
    const p4 = await alice.publish('alice', 'news', 'after the handoff');
    expect(p4.seq).toBeGreaterThan(p3.seq);
    expect((await pushed2)[0]).toMatchObject({ seq: p4.seq, text: 'after the handoff' });
    expect(alice.currentServer).toEqual(sys.servers[1]);
    await expect(alice.publish('alice', 'weather', 'x')).rejects.toBeInstanceOf(DeniedError);

    // De-register ends pushes: dan, still on 'news', gets the next text; bob is neither pushed nor owed it.
    await bob.deregister('bob');
    const seen: ReceivedText[] = [];
    bob.on('message', (t) => seen.push(t));
    const dan = await sys.client();
    await dan.register('dan');
    await dan.subjects('dan', ['news']);
    const danPushed = nextEvents<ReceivedText>(dan, 'message');
    const p5 = await alice.publish('alice', 'news', 'bob does not hear this');
    expect((await danPushed)[0]).toMatchObject({ seq: p5.seq });
    expect(seen).toEqual([]);
    expect(await owedTo(sys.pair.b.server, 'bob')).toEqual([]);
    await expect(bob.retrieve('bob')).rejects.toBeInstanceOf(DeniedError);
  });

  // Regression: reply records were never purged, so the `requests` collection grew without bound.
  it('purges reply records once they are past their lifetime', async () => {
    sys = await startSystem({ replyLifetime: 300 });
    const c = await sys.client();
    await c.register('rita');
    await c.subjects('rita', ['x']);
    const requests = (await sys.raw()).requests;
    expect(await requests.countDocuments()).toBeGreaterThan(0);
    await expect.poll(() => requests.countDocuments(), { timeout: 3000 }).toBe(0);
  });

  it('hands over by itself at the end of each period', async () => {
    sys = await startSystem({ period: 400 });
    const alice = await sys.client();
    await alice.register('alice');
    const b = nextEvents(sys.pair.b.server, 'serving', 1, 3000);
    await b;
    const a = nextEvents(sys.pair.a.server, 'serving', 1, 3000);
    await a;
    // Still the same user, whichever server serves now.
    await alice.subjects('alice', ['x']);
    // (Numbered from the block each takeover allocates with its fence: not 1, whatever the handoffs before.)
    expect((await alice.publish('alice', 'x', 'still here')).seq).toBeGreaterThan(0);
  });

  it('denies with reasons: duplicate names, unknown users, subjects not in the list', async () => {
    sys = await startSystem();
    const c1 = await sys.client();
    const c2 = await sys.client();
    await c1.register('dora');
    await expect(c2.register('dora')).rejects.toMatchObject({ reply: { type: 'REGISTER-DENIED', reason: 'name already in use' } });
    await expect(c1.register('bad name!')).rejects.toMatchObject({ reply: { type: 'REGISTER-DENIED' } });
    await expect(c1.publish('nobody', 'x', 't')).rejects.toMatchObject({ reply: { type: 'PUBLISH-DENIED', reason: 'unknown name' } });
    await expect(c1.publish('dora', 'x', 't')).rejects.toMatchObject({ reply: { type: 'PUBLISH-DENIED' } });
    // Another client (without dora's key) may not act on dora.
    await expect(c2.subjects('dora', ['x'])).rejects.toMatchObject({ reply: { type: 'SUBJECTS-REJECTED', reason: 'authentication failed' } });
    // Registering again from the same client is idempotent.
    await expect(c1.register('dora')).resolves.toMatchObject({ type: 'REGISTERED' });
  });
});
