/** StoreCheck learning its own store id: asked again while the store does not answer, silent when stopping. */
import { describe, expect, it } from 'vitest';
import { StoreCheck } from '../../src/server/store-check';
import { FakeClock } from '../../src/util/clock';
import type { Logger } from '../../src/util/log';

function setup() {
  const clock = new FakeClock();
  const warnings: string[] = [];
  const log: Logger = { debug() {}, info() {}, warn: (_o, msg) => void warnings.push(msg ?? ''), error() {}, child: () => log };
  const sent: { type: string; store: string }[] = [];
  const peer = { host: '127.0.0.1', port: 1 };
  const check = new StoreCheck('A', () => peer, (m) => void sent.push(m), clock, { every: 100, forgetAfter: 800 }, () => {}, log);
  return { clock, warnings, sent, check };
}

describe('StoreCheck learning the store id', () => {
  it('asks the store again after a failure and then checks with the peer', async () => {
    const { clock, warnings, sent, check } = setup();
    let calls = 0;
    check.start(() => (++calls === 1 ? Promise.reject(new Error('store down')) : Promise.resolve('store-1')));
    await expect.poll(() => warnings.length).toBe(1);
    expect(warnings[0]).toContain('asking again');
    expect(sent).toEqual([]);
    clock.advance(100);
    await expect.poll(() => sent.length).toBe(1);
    expect(sent[0]).toMatchObject({ type: 'STORE-CHECK', store: 'store-1' });
    expect(calls).toBe(2);
    check.stop();
  });

  it('says nothing when the store id fails because the server is stopping', async () => {
    const { warnings, check } = setup();
    let fail: (e: Error) => void = () => {};
    check.start(() => new Promise((_, reject) => (fail = reject)));
    check.stop();
    fail(new Error('client was closed'));
    await new Promise((r) => setImmediate(r));
    expect(warnings).toEqual([]);
  });
});
