import { describe, expect, it } from 'vitest';
import { bytesToIp, decodeSockaddr, ipToBytes, sockaddrIn } from '@lvsd/native';

describe('ip text and bytes', () => {
  it.each([
    ['10.0.0.1', '0a000001'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::8:800:200c:417a', '20010db8000000000008080020' + '0c417a'],
    ['fe80::', 'fe800000000000000000000000000000'],
  ])('%s', (ip, hex) => {
    expect(ipToBytes(ip).toString('hex')).toBe(hex);
    expect(bytesToIp(ipToBytes(ip))).toBe(ip);
  });
  it('compresses the longest zero run only', () => {
    expect(bytesToIp(ipToBytes('2001:0:0:1:0:0:0:1'))).toBe('2001:0:0:1::1');
  });
  it('rejects non-addresses', () => {
    expect(() => ipToBytes('10.0.0.256')).toThrow(TypeError);
  });
  it('round-trips sockaddr_in and sockaddr_in6', () => {
    expect(decodeSockaddr(sockaddrIn('192.0.2.1', 80))).toEqual({ family: 4, address: '192.0.2.1', port: 80 });
    expect(decodeSockaddr(sockaddrIn('fe80::1', 0, 3))).toEqual({ family: 6, address: 'fe80::1', port: 0, scopeId: 3 });
  });
});
