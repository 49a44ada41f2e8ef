import { describe, expect, it } from 'vitest';
import { ipToBytes } from '@lvsd/native';
import { garpFrame, inetChecksum, pseudoHeader, unsolicitedNaFrame } from '@lvsd/vrrp';

const mac = Buffer.from('020000000001', 'hex');

describe('announcement frames', () => {
  it('gratuitous ARP: broadcast request, sender and target both the VIP (as keepalived sends it)', () => {
    const f = garpFrame(mac, '10.9.0.100');
    expect(f.toString('hex')).toBe(
      'ffffffffffff' + '020000000001' + '0806' + '0001' + '0800' + '06' + '04' + '0001' + '020000000001' + '0a090064' + 'ffffffffffff' + '0a090064',
    );
  });
  it('unsolicited NA: all-nodes, hop limit 255, override flag, target link-layer option, valid ICMPv6 checksum', () => {
    const f = unsolicitedNaFrame(mac, 'fd00::100');
    expect(f.subarray(0, 6).toString('hex')).toBe('333300000001');
    expect(f.readUInt16BE(12)).toBe(0x86dd);
    expect(f[20]).toBe(58);
    expect(f[21]).toBe(255);
    expect(f.subarray(22, 38)).toEqual(ipToBytes('fd00::100'));
    expect(f.subarray(38, 54)).toEqual(ipToBytes('ff02::1'));
    const icmp = f.subarray(54);
    expect(icmp[0]).toBe(136);
    expect(icmp.readUInt32BE(4)).toBe(0x20000000);
    expect(icmp.subarray(8, 24)).toEqual(ipToBytes('fd00::100'));
    expect([...icmp.subarray(24, 26)]).toEqual([2, 1]);
    expect(icmp.subarray(26, 32)).toEqual(mac);
    expect(inetChecksum(pseudoHeader(ipToBytes('fd00::100'), ipToBytes('ff02::1'), 58, icmp.length), icmp)).toBe(0);
  });
});

