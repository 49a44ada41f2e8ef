// Golden bytes captured from keepalived 2.2.7 in a network namespace (tcpdump -xx
// on the peer end of a veth), then decoded, checked and re-encoded by lvsd.
import { describe, expect, it } from 'vitest';
import { ipToBytes } from '@lvsd/native';
import {
  AUTH_NONE,
  AUTH_PASS,
  checkDatagram,
  decodeAdvert,
  encodeAdvert,
  inetChecksum,
  type ReceiveConfig,
} from '@lvsd/vrrp';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// IPv4 datagrams (Ethernet header removed) and the IPv6 VRRP payload.
const V2_PASS = hex('45c0 002c 0001 0000 ff70 d084 0a09 0001 e000 0012 2133 9602 0101 c56f 0a09 0064 0a09 0065 7365 6372 6574 3132');
const V3_V4 = hex('45c0 0020 0001 0000 ff70 d090 0a09 0001 e000 0012 3134 7801 0032 6190 0a09 0066');
const V3_V6 = hex('3135 6e01 0064 6445 fd00 0000 0000 0000 0000 0000 0000 0100');

const pass = (p: string) => {
  const b = Buffer.alloc(8);
  b.write(p, 'latin1');
  return b;
};

function cfg(over: Partial<ReceiveConfig>): ReceiveConfig {
  return {
    version: 2,
    family: 4,
    vrid: 51,
    ifindex: 3,
    priority: 100,
    advertIntCs: 100,
    authType: AUTH_PASS,
    authData: pass('secret12'),
    vips: [ipToBytes('10.9.0.100'), ipToBytes('10.9.0.101')],
    unicastPeers: new Set(),
    checkUnicastSrc: false,
    ownAddresses: new Set(),
    ...over,
  };
}

describe('golden bytes from keepalived 2.2.7', () => {
  it('VRRPv2 with PASS authentication: decode, check, re-encode byte for byte', () => {
    const r = checkDatagram({ family: 4, data: V2_PASS, ifindex: 3 }, cfg({}));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.advert).toMatchObject({ version: 2, vrid: 51, priority: 150, advertIntCs: 100, authType: AUTH_PASS });
    expect(r.advert.addresses.map((a) => [...a].join('.'))).toEqual(['10.9.0.100', '10.9.0.101']);
    const again = encodeAdvert({
      version: 2,
      vrid: 51,
      priority: 150,
      advertIntCs: 100,
      addresses: [ipToBytes('10.9.0.100'), ipToBytes('10.9.0.101')],
      authType: AUTH_PASS,
      authData: pass('secret12'),
    });
    expect(again.toString('hex')).toBe(V2_PASS.subarray(20).toString('hex'));
  });

  it('VRRPv3 over IPv4: the checksum covers the pseudo-header', () => {
    const r = checkDatagram(
      { family: 4, data: V3_V4, ifindex: 3 },
      cfg({ version: 3, vrid: 52, advertIntCs: 50, authType: AUTH_NONE, vips: [ipToBytes('10.9.0.102')] }),
    );
    expect(r.ok).toBe(true);
    const again = encodeAdvert(
      { version: 3, vrid: 52, priority: 120, advertIntCs: 50, addresses: [ipToBytes('10.9.0.102')] },
      { src: ipToBytes('10.9.0.1'), dst: ipToBytes('224.0.0.18') },
    );
    expect(again.toString('hex')).toBe(V3_V4.subarray(20).toString('hex'));
    // the same bytes fail without the pseudo-header (a v2-style sum)
    expect(inetChecksum(V3_V4.subarray(20))).not.toBe(0);
  });

  it('VRRPv3 over IPv6: pseudo-header with the link-local source', () => {
    const c = cfg({ version: 3, family: 6, vrid: 53, advertIntCs: 100, authType: AUTH_NONE, vips: [ipToBytes('fd00::100')] });
    const r = checkDatagram({ family: 6, data: V3_V6, src: ipToBytes('fe80::1'), dst: ipToBytes('ff02::12'), hopLimit: 255, ifindex: 3 }, c);
    expect(r.ok).toBe(true);
    const again = encodeAdvert(
      { version: 3, vrid: 53, priority: 110, advertIntCs: 100, addresses: [ipToBytes('fd00::100')] },
      { src: ipToBytes('fe80::1'), dst: ipToBytes('ff02::12') },
    );
    expect(again.toString('hex')).toBe(V3_V6.toString('hex'));
  });
});

describe('receive checks (RFC 5798 7.1, RFC 3768 7.1): one drop reason each', () => {
  const base = cfg({});
  const mutate = (f: (b: Buffer) => void, fix = true) => {
    const b = Buffer.from(V2_PASS);
    f(b);
    if (fix) {
      b.writeUInt16BE(0, 26);
      b.writeUInt16BE(inetChecksum(b.subarray(20)), 26);
    }
    return b;
  };
  const reason = (data: Buffer, c: ReceiveConfig = base, extra: object = {}) => {
    const r = checkDatagram({ family: 4, data, ifindex: 3, ...extra }, c);
    return r.ok ? 'ok' : r.reason;
  };

  it.each([
    ['ttl', mutate((b) => (b[8] = 254))],
    ['version', mutate((b) => (b[20] = 0x31))],
    ['type', mutate((b) => (b[20] = 0x22))],
    ['checksum', mutate((b) => (b[22] = 151), false)],
    ['vrid', mutate((b) => (b[21] = 52))],
    ['advertInterval', mutate((b) => (b[25] = 2))],
    ['authType', mutate((b) => (b[24] = 0))],
    ['authType', mutate((b) => (b[24] = 7))],
    ['authFailure', mutate((b) => (b[39] = 0x30))],
    ['addressList', mutate((b) => (b[35] = 0x67))],
    ['length', mutate((b) => (b[23] = 3))],
    ['malformed', V2_PASS.subarray(0, 19)],
    ['malformed', mutate((b) => b.writeUInt16BE(200, 2), false)],
  ])('%s', (want, data) => {
    expect(reason(data)).toBe(want);
  });

  it('a v2 advert from the address owner (255) is accepted with another address list', () => {
    expect(reason(mutate((b) => ((b[35] = 0x67), (b[22] = 255))))).toBe('ok');
  });
  it('v3 accepts another address list and another interval, and says so', () => {
    const c = cfg({ version: 3, vrid: 52, advertIntCs: 100, authType: AUTH_NONE, vips: [ipToBytes('10.9.0.1')] });
    const r = checkDatagram({ family: 4, data: V3_V4, ifindex: 3 }, c);
    expect(r).toMatchObject({ ok: true, addressListMismatch: true, advertIntervalMismatch: true });
  });
  it('the address owner discards adverts', () => {
    expect(reason(V2_PASS, cfg({ priority: 255 }))).toBe('addressOwner');
  });
  it('another interface, our own packet, unicast expected', () => {
    expect(reason(V2_PASS, base, { ifindex: 4 })).toBe('interface');
    expect(reason(V2_PASS, cfg({ ownAddresses: new Set(['0a090001']) }))).toBe('ownPacket');
    expect(reason(V2_PASS, cfg({ unicastPeers: new Set(['0a090002']) }))).toBe('castMismatch');
  });
  it('unicast: a source that is not a peer is dropped when check_unicast_src is on; TTL is not checked', () => {
    const uni = mutate((b) => {
      b.set([10, 9, 0, 2], 16);
      b[8] = 64;
    });
    expect(reason(uni, cfg({ unicastPeers: new Set(['0a090001']) }))).toBe('ok');
    expect(reason(uni, cfg({ unicastPeers: new Set(['0a090005']), checkUnicastSrc: true }))).toBe('unknownSource');
  });
  it('IPv6 hop limit other than 255', () => {
    const c = cfg({ version: 3, family: 6, vrid: 53, authType: AUTH_NONE, vips: [ipToBytes('fd00::100')] });
    const r = checkDatagram({ family: 6, data: V3_V6, src: ipToBytes('fe80::1'), dst: ipToBytes('ff02::12'), hopLimit: 1 }, c);
    expect(r).toEqual({ ok: false, reason: 'ttl' });
  });
});

describe('decodeAdvert', () => {
  it('never throws on short input', () => {
    for (let n = 0; n < 40; n++) expect(decodeAdvert(Buffer.alloc(n), 4).ok).toBe(false);
  });
});
