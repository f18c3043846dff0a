import { describe, expect, it } from 'vitest';
import { dedupKey } from '../../src/server/dedup-key';

const here = { host: '10.0.0.7', port: 4000 };
const there = { host: '10.0.0.8', port: 5000 };
const bytes = (s: string) => Buffer.from(s);

describe('dedupKey', () => {
  it('a retransmission (same sender, same bytes) has the same key; other bytes another', () => {
    expect(dedupKey('text', here, undefined, bytes('PUBLISH 1 alice news hi'))).toBe(dedupKey('text', here, undefined, bytes('PUBLISH 1 alice news hi')));
    // A legacy client reusing RQ# 1 for another request is not answered with the old reply.
    expect(dedupKey('text', here, undefined, bytes('PUBLISH 1 alice news ho'))).not.toBe(dedupKey('text', here, undefined, bytes('PUBLISH 1 alice news hi')));
  });

  it('a native request is keyed by its client id, whatever address it comes from', () => {
    expect(dedupKey('native', here, 'cid-1', bytes('x'))).toBe(dedupKey('native', there, 'cid-1', bytes('x')));
    expect(dedupKey('native', here, 'cid-1', bytes('x'))).not.toBe(dedupKey('native', here, 'cid-2', bytes('x')));
  });

  it('a legacy request is keyed by its source address and dialect', () => {
    expect(dedupKey('text', here, undefined, bytes('x'))).not.toBe(dedupKey('text', there, undefined, bytes('x')));
    expect(dedupKey('text', here, undefined, bytes('x'))).not.toBe(dedupKey('pickle', here, undefined, bytes('x')));
  });
});
