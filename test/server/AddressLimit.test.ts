import { describe, expect, it } from 'vitest';
import { addressGroup, AddressLimit } from '../../src/server/AddressLimit.ts';

describe('addressGroup', () => {
  it('an IPv4 address is its own group, however it is written', () => {
    expect(addressGroup('203.0.113.7')).toBe('203.0.113.7');
    expect(addressGroup('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressGroup('::FFFF:203.0.113.7')).toBe('203.0.113.7');
    expect(addressGroup('203.0.113.8')).not.toBe(addressGroup('203.0.113.7'));
  });

  it('an IPv6 address counts with its /64, in one spelling', () => {
    const group = '2001:db8:a:b::/64';
    for (const a of ['2001:db8:a:b::1', '2001:0db8:000a:000b:ffff:ffff:ffff:ffff', '2001:DB8:A:B:1:2:3:4', '2001:db8:a:b::1%eth0', '2001:db8:a:b:0:0:1.2.3.4']) {
      expect([a, addressGroup(a)]).toEqual([a, group]);
    }
    expect(addressGroup('2001:db8:a:c::1')).toBe('2001:db8:a:c::/64');
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
    expect(addressGroup('fe80::1:2')).toBe('fe80:0:0:0::/64');
    expect(addressGroup('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('anything else is its own group; a socket already gone is "unknown"', () => {
    expect(addressGroup(undefined)).toBe('unknown');
    expect(addressGroup('not an address')).toBe('not an address');
    expect(addressGroup('::ffff:999.1.1.1')).toBe('::ffff:999.1.1.1');
  });
});

describe('AddressLimit', () => {
  it('gives each group up to max places and takes them back', () => {
    const limit = new AddressLimit(2);
    expect([limit.tryTake('a'), limit.tryTake('a'), limit.tryTake('a')]).toEqual([true, true, false]);
    expect(limit.tryTake('b')).toBe(true);
    expect(limit.held('a')).toBe(2);
    limit.release('a');
    expect(limit.held('a')).toBe(1);
    expect(limit.tryTake('a')).toBe(true);
    limit.release('a');
    limit.release('a');
    // A release with nothing held stays at zero rather than going negative.
    limit.release('a');
    expect(limit.held('a')).toBe(0);
    expect([limit.tryTake('a'), limit.tryTake('a'), limit.tryTake('a')]).toEqual([true, true, false]);
  });
});
