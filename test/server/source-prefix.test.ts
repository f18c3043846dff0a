import { describe, expect, it } from 'vitest';
import { sourcePrefix } from '../../src/server/guard';

describe('sourcePrefix (the network charged for unauthenticated work)', () => {
  it('is the /24 of an IPv4 host, IPv4-mapped or not', () => {
    expect(sourcePrefix('127.0.1.9')).toBe('127.0.1');
    expect(sourcePrefix('::ffff:127.0.1.200')).toBe('127.0.1');
    expect(sourcePrefix('127.0.2.1')).not.toBe(sourcePrefix('127.0.1.1'));
  });

  it('is the /64 of an IPv6 host however it is written', () => {
    expect(sourcePrefix('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(sourcePrefix('2001:0DB8:0000:0001:ffff::1')).toBe('2001:db8:0:1::/64');
    expect(sourcePrefix('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourcePrefix('::1')).toBe('0:0:0:0::/64');
    expect(sourcePrefix('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(sourcePrefix('2001:db8:0:2::5')).not.toBe(sourcePrefix('2001:db8:0:1::5'));
  });
});
