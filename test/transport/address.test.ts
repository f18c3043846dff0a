import { describe, expect, it } from 'vitest';
import { addressKey, normalHost, sameAddress } from '../../src/transport/types';

// [a, b, same?]: how a dual-stack socket may report one peer, and what must stay apart.
const FIXTURES: [string, number, string, number, boolean][] = [
  ['127.0.0.1', 4000, '127.0.0.1', 4000, true],
  ['::ffff:127.0.0.1', 4000, '127.0.0.1', 4000, true],
  ['::FFFF:10.1.2.3', 53, '10.1.2.3', 53, true],
  ['FE80::1', 9, 'fe80::1', 9, true],
  ['2001:DB8::A', 9, '2001:db8::a', 9, true],
  ['127.0.0.1', 4000, '127.0.0.1', 4001, false],
  ['::ffff:127.0.0.1', 4000, '127.0.0.1', 4001, false],
  ['127.0.0.1', 4000, '127.0.0.2', 4000, false],
  // Only the dotted form is IPv4-mapped here: the hex form stays IPv6.
  ['::ffff:7f00:1', 4000, '127.0.0.1', 4000, false],
  ['::1', 4000, '127.0.0.1', 4000, false],
];

describe('address normalising', () => {
  it.each(FIXTURES)('%s:%i vs %s:%i → same %s', (h1, p1, h2, p2, same) => {
    const a = { host: h1, port: p1 };
    const b = { host: h2, port: p2 };
    expect(sameAddress(a, b)).toBe(same);
    expect(sameAddress(b, a)).toBe(same);
    expect(addressKey(a) === addressKey(b)).toBe(same);
  });

  it('reduces a host to lower case, IPv4-mapped to plain IPv4', () => {
    expect(normalHost('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalHost('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    expect(normalHost('FE80::AB')).toBe('fe80::ab');
    expect(normalHost('localhost')).toBe('localhost');
    expect(addressKey({ host: '::ffff:127.0.0.1', port: 7 })).toBe('127.0.0.1|7');
  });
});
