/**
 * A request runs only in the serving term it came in. Through a real
 * RssServer fed by a fake transport and an in-memory store: the lease is
 * given up (its renewals fail past the lease) and taken again (a resume)
 * while one RETRIEVE-TEXTS of a user waits for the store and another waits
 * behind it in the user's queue. Neither is answered: the first was worked
 * out from state being cleared, and the second would run while the server
 * still loads what it serves from, answering "nothing owed" when three
 * texts are. Asked again, the user gets the three.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeServed, LIS, served } from '../helpers/served';

afterEach(closeServed);

/** A promise and the function that settles it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

describe('the serving term of a request', () => {
  it('a RETRIEVE-TEXTS across a lease given up and resumed is not answered; asked again, it gets every text owed', async () => {
    const { s, store, wire, feed, settle, retrieved } = await served();
    // The role's own events: the server's 'serving' comes only once its takeover has loaded.
    const reasons: string[] = [];
    s.role.on('serving', (e: { reason: string }) => reasons.push(e.reason));
    s.role.on('standby', (e: { reason: string }) => reasons.push(e.reason));

    // The first RETRIEVE-TEXTS waits for the store; the second waits behind it.
    const storeRead = gate();
    const owedTexts = store.owedTexts.bind(store);
    store.owedTexts = async (...args) => {
      await storeRead.wait;
      return owedTexts(...args);
    };
    const first = wire.request({ type: 'RETRIEVE-TEXTS', name: 'lee' }, wire.nextRq());
    await feed(first, LIS);
    await feed(wire.request({ type: 'RETRIEVE-TEXTS', name: 'lee' }, wire.nextRq()), LIS);

    // The lease's renewals fail until the server gives it up; the takeover that resumes it waits for its fence.
    const renew = store.renewLease.bind(store);
    store.renewLease = () => Promise.reject(new Error('injected: the store is away'));
    await expect.poll(() => reasons, { timeout: 10_000 }).toContain('fenced');
    store.renewLease = renew;
    const fenced = gate();
    const fence = store.fenceSeqs.bind(store);
    store.fenceSeqs = async (...args) => {
      await fenced.wait;
      return fence(...args);
    };
    await expect.poll(() => reasons, { timeout: 10_000 }).toContain('resume');
    expect(s.serving).toBe(false);

    // Both requests finish while the resumed term loads: neither is answered.
    storeRead.open();
    await settle();
    expect(retrieved()).toEqual([]);
    fenced.open();
    await expect.poll(() => s.serving).toBe(true);
    await settle();
    expect(retrieved()).toEqual([]);

    // The first one's retransmission is executed in this term: every text owed.
    await feed(first, LIS);
    expect(retrieved().map((r) => r.texts.map((t) => t.text))).toEqual([['one', 'two', 'three']]);
  }, 30_000);
});
