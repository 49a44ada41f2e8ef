// VRRP advertisement codec: version 2 (RFC 3768) and version 3 (RFC 5798), IPv4
// and IPv6. Pure functions over bytes. Decoding never throws: a packet that is
// not a well-formed advertisement comes back as a drop reason.
import { inetChecksum, pseudoHeader } from './checksum.js';

export const IPPROTO_VRRP = 112;
export const VRRP_TTL = 255;
export const VRRP_TYPE_ADVERT = 1;
export const VRRP_PRIO_STOP = 0;
export const VRRP_PRIO_OWNER = 255;
export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
export const AUTH_AH = 2;
/** v2 carries 8 bytes of authentication data after the addresses (RFC 3768 section 5.3.10). */
export const V2_AUTH_LEN = 8;
export const HEADER_LEN = 8;

export type VrrpVersion = 2 | 3;
export type IpFamily = 4 | 6;

export interface Advert {
  version: VrrpVersion;
  vrid: number;
  priority: number;
  /** Advertisement interval in centiseconds; a v2 packet carries whole seconds (x100 here). */
  advertIntCs: number;
  /** The IPvX addresses, as the network-order bytes they were sent in. */
  addresses: Buffer[];
  /** v2 only (0 in v3). */
  authType: number;
  /** v2 only: the 8 authentication bytes (empty in v3). */
  authData: Buffer;
  checksum: number;
}

export interface AdvertInput {
  version: VrrpVersion;
  vrid: number;
  priority: number;
  advertIntCs: number;
  addresses: Uint8Array[];
  /** v2: AUTH_NONE or AUTH_PASS; the password, at most 8 bytes (zero padded). */
  authType?: number;
  authData?: Uint8Array;
}

/** The addresses of the IPv4 or IPv6 header, needed for the v3 checksum. */
export interface PseudoAddresses {
  src: Uint8Array;
  dst: Uint8Array;
}

export type DropReason =
  | 'malformed' // not a well-formed IP packet (IPv4 header)
  | 'interface' // arrived on another interface
  | 'ttl' // TTL / hop limit not 255
  | 'version' // VRRP version other than configured
  | 'length' // shorter or longer than the VRRP message it announces
  | 'type' // not an ADVERTISEMENT
  | 'checksum'
  | 'vrid' // a virtual router we do not run on this interface
  | 'addressOwner' // we are the address owner (priority 255): adverts are discarded
  | 'addressList' // v2: the address list differs from ours (RFC 3768 7.1)
  | 'advertInterval' // v2: the interval differs from ours
  | 'authType' // v2: unknown auth type or not the configured one
  | 'authFailure' // v2: wrong password
  | 'castMismatch' // multicast where unicast is configured or the other way round
  | 'unknownSource' // unicast from an address that is not a unicast peer
  | 'ownPacket'; // our own advertisement looped back

export const DROP_REASONS: readonly DropReason[] = [
  'malformed',
  'interface',
  'ttl',
  'version',
  'length',
  'type',
  'checksum',
  'vrid',
  'addressOwner',
  'addressList',
  'advertInterval',
  'authType',
  'authFailure',
  'castMismatch',
  'unknownSource',
  'ownPacket',
];

/** Bytes of an advert with `count` addresses. */
export function advertLength(version: VrrpVersion, family: IpFamily, count: number): number {
  return HEADER_LEN + count * (family === 4 ? 4 : 16) + (version === 2 ? V2_AUTH_LEN : 0);
}

/**
 * Encodes an advertisement with its checksum. v3 needs the IP source and
 * destination for the pseudo-header; v2 sums the VRRP message alone.
 */
export function encodeAdvert(a: AdvertInput, pseudo?: PseudoAddresses): Buffer {
  const family: IpFamily = a.addresses[0]?.length === 16 || pseudo?.src.length === 16 ? 6 : 4;
  const alen = family === 4 ? 4 : 16;
  if (a.addresses.length > 255) throw new RangeError('at most 255 addresses fit in one advertisement');
  const b = Buffer.alloc(advertLength(a.version, family, a.addresses.length));
  b[0] = (a.version << 4) | VRRP_TYPE_ADVERT;
  b[1] = a.vrid;
  b[2] = a.priority;
  b[3] = a.addresses.length;
  if (a.version === 2) {
    b[4] = a.authType ?? AUTH_NONE;
    b[5] = Math.round(a.advertIntCs / 100);
  } else {
    b.writeUInt16BE(a.advertIntCs & 0x0fff, 4);
  }
  let off = HEADER_LEN;
  for (const addr of a.addresses) {
    if (addr.length !== alen) throw new TypeError('addresses of one advertisement must share a family');
    b.set(addr, off);
    off += alen;
  }
  if (a.version === 2 && a.authData) b.set(a.authData.subarray(0, V2_AUTH_LEN), off);
  let sum: number;
  if (a.version === 3) {
    if (!pseudo) throw new TypeError('VRRPv3 needs the IP source and destination for its checksum');
    sum = inetChecksum(pseudoHeader(pseudo.src, pseudo.dst, IPPROTO_VRRP, b.length), b);
  } else sum = inetChecksum(b);
  b.writeUInt16BE(sum, 6);
  return b;
}

/** Recomputes the checksum of `msg` in place (after a change of priority or destination). */
export function refreshChecksum(msg: Buffer, pseudo?: PseudoAddresses): void {
  msg.writeUInt16BE(0, 6);
  const version = msg[0] >> 4;
  const sum = version === 3 && pseudo ? inetChecksum(pseudoHeader(pseudo.src, pseudo.dst, IPPROTO_VRRP, msg.length), msg) : inetChecksum(msg);
  msg.writeUInt16BE(sum, 6);
}

export type Decoded = { ok: true; advert: Advert } | { ok: false; reason: DropReason };

/**
 * Decodes the VRRP message `msg` (no IP header). Checks structure only: version
 * 2 or 3, type ADVERTISEMENT, length matching the address count. The checksum
 * and every configuration-dependent check live in receive.ts.
 */
export function decodeAdvert(msg: Buffer, family: IpFamily): Decoded {
  if (msg.length < HEADER_LEN) return { ok: false, reason: 'length' };
  const version = msg[0] >> 4;
  if (version !== 2 && version !== 3) return { ok: false, reason: 'version' };
  if ((msg[0] & 0x0f) !== VRRP_TYPE_ADVERT) return { ok: false, reason: 'type' };
  const count = msg[3];
  if (msg.length !== advertLength(version, family, count)) return { ok: false, reason: 'length' };
  const alen = family === 4 ? 4 : 16;
  const addresses: Buffer[] = new Array(count);
  for (let i = 0; i < count; i++) addresses[i] = msg.subarray(HEADER_LEN + i * alen, HEADER_LEN + (i + 1) * alen);
  const end = HEADER_LEN + count * alen;
  return {
    ok: true,
    advert: {
      version,
      vrid: msg[1],
      priority: msg[2],
      advertIntCs: version === 2 ? msg[5] * 100 : msg.readUInt16BE(4) & 0x0fff,
      addresses,
      authType: version === 2 ? msg[4] : 0,
      authData: version === 2 ? msg.subarray(end, end + V2_AUTH_LEN) : msg.subarray(0, 0),
      checksum: msg.readUInt16BE(6),
    },
  };
}

/** True when the checksum of `msg` is right (v3 over the pseudo-header). */
export function checksumValid(msg: Buffer, pseudo?: PseudoAddresses): boolean {
  if (msg[0] >> 4 === 3) {
    if (!pseudo) return false;
    return inetChecksum(pseudoHeader(pseudo.src, pseudo.dst, IPPROTO_VRRP, msg.length), msg) === 0;
  }
  return inetChecksum(msg) === 0;
}

export interface Ipv4Packet {
  ttl: number;
  protocol: number;
  src: Buffer;
  dst: Buffer;
  payload: Buffer;
}

/**
 * Splits a raw IPv4 datagram (what a raw socket hands back) into header fields
 * and payload. Ethernet padding past the total length is cut off.
 */
export function parseIpv4(buf: Buffer): Ipv4Packet | undefined {
  if (buf.length < 20 || buf[0] >> 4 !== 4) return undefined;
  const ihl = (buf[0] & 0x0f) * 4;
  const total = buf.readUInt16BE(2);
  if (ihl < 20 || total < ihl || total > buf.length) return undefined;
  return {
    ttl: buf[8],
    protocol: buf[9],
    src: buf.subarray(12, 16),
    dst: buf.subarray(16, 20),
    payload: buf.subarray(ihl, total),
  };
}

/** A zeroed counter per drop reason. */
export function dropCounters(): Record<DropReason, number> {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
}
