// The receive checks of RFC 5798 section 7.1 (and RFC 3768 section 7.1 for v2),
// as one pure function from a received datagram to an accepted advert or a drop
// reason. Nothing here throws: every drop is a reason the caller counts.
import {
  AUTH_AH,
  AUTH_NONE,
  AUTH_PASS,
  checksumValid,
  decodeAdvert,
  parseIpv4,
  VRRP_PRIO_OWNER,
  VRRP_TTL,
  type Advert,
  type DropReason,
  type IpFamily,
  type VrrpVersion,
} from './packet.js';

/** What a socket handed us, already split from its ancillary data. */
export interface Datagram {
  family: IpFamily;
  /** IPv4: the whole IP datagram. IPv6: the VRRP message (the kernel strips the header). */
  data: Buffer;
  /** IPv6: sender (IPv4 takes it from the header). */
  src?: Buffer;
  /** IPv6: destination from IPV6_PKTINFO. */
  dst?: Buffer;
  /** IPv6: hop limit from IPV6_HOPLIMIT. */
  hopLimit?: number;
  /** Ingress interface from IP_PKTINFO / IPV6_PKTINFO, when known. */
  ifindex?: number;
}

export interface ReceiveConfig {
  version: VrrpVersion;
  family: IpFamily;
  vrid: number;
  ifindex: number;
  /** Our base priority: 255 means address owner, which discards adverts. */
  priority: number;
  advertIntCs: number;
  authType: number;
  /** 8 bytes, zero padded. */
  authData: Buffer;
  /** Our virtual addresses (bytes), for the address-list check. */
  vips: Buffer[];
  /** Unicast peers (bytes, hex-keyed); empty for multicast operation. */
  unicastPeers: ReadonlySet<string>;
  /** Drop unicast adverts whose source is not a peer (keepalived's check_unicast_src). */
  checkUnicastSrc: boolean;
  /** Our own source addresses (hex): our adverts looped back are ignored. */
  ownAddresses: ReadonlySet<string>;
}

export interface Accepted {
  ok: true;
  advert: Advert;
  src: Buffer;
  /** The advert's address list differs from ours (v3 accepts it and counts it). */
  addressListMismatch: boolean;
  /** The advert's interval differs from ours (v3 accepts it: the master's interval wins). */
  advertIntervalMismatch: boolean;
}

export type Checked = Accepted | { ok: false; reason: DropReason };

const drop = (reason: DropReason): Checked => ({ ok: false, reason });

function isMulticast(a: Buffer): boolean {
  return a.length === 4 ? (a[0] & 0xf0) === 0xe0 : a[0] === 0xff;
}

function sameAddressSet(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false;
  return b.every((x) => a.some((y) => y.equals(x)));
}

/** Applies every receive check to one datagram. */
export function checkDatagram(d: Datagram, cfg: ReceiveConfig): Checked {
  let msg: Buffer;
  let src: Buffer;
  let dst: Buffer;
  let ttl: number | undefined;
  if (d.family === 4) {
    const ip = parseIpv4(d.data);
    if (!ip) return drop('malformed');
    msg = ip.payload;
    src = ip.src;
    dst = ip.dst;
    ttl = ip.ttl;
  } else {
    if (!d.src || !d.dst) return drop('malformed');
    msg = d.data;
    src = d.src;
    dst = d.dst;
    ttl = d.hopLimit;
  }
  if (d.ifindex !== undefined && d.ifindex !== cfg.ifindex) return drop('interface');
  if (cfg.ownAddresses.has(src.toString('hex'))) return drop('ownPacket');

  const unicast = cfg.unicastPeers.size > 0;
  // MUST verify TTL / hop limit 255. Like keepalived, not for unicast peers, which
  // may sit behind a router.
  if (!unicast && ttl !== undefined && ttl !== VRRP_TTL) return drop('ttl');
  if (msg.length > 0 && msg[0] >> 4 !== cfg.version) return drop('version');
  const dec = decodeAdvert(msg, d.family);
  if (!dec.ok) return dec;
  const a = dec.advert;
  if (!checksumValid(msg, { src, dst })) return drop('checksum');
  if (a.vrid !== cfg.vrid) return drop('vrid');
  if (isMulticast(dst) === unicast) return drop('castMismatch');
  if (unicast && cfg.checkUnicastSrc && !cfg.unicastPeers.has(src.toString('hex'))) return drop('unknownSource');
  if (cfg.priority === VRRP_PRIO_OWNER) return drop('addressOwner');

  if (a.version === 2) {
    if (a.authType !== AUTH_NONE && a.authType !== AUTH_PASS && a.authType !== AUTH_AH) return drop('authType');
    if (a.authType !== cfg.authType) return drop('authType');
    if (a.authType === AUTH_PASS && !a.authData.equals(cfg.authData)) return drop('authFailure');
  }
  const addressListMismatch = !sameAddressSet(cfg.vips, a.addresses);
  // RFC 3768: a v2 router MUST drop a mismatching list unless the sender is the owner.
  if (addressListMismatch && a.version === 2 && a.priority !== VRRP_PRIO_OWNER) return drop('addressList');
  const advertIntervalMismatch = a.advertIntCs !== cfg.advertIntCs;
  if (a.version === 2 && advertIntervalMismatch) return drop('advertInterval');
  return { ok: true, advert: a, src: Buffer.from(src), addressListMismatch, advertIntervalMismatch };
}
