// struct sockaddr_* encoders and decoders (Linux layouts), so the addon never
// interprets an address.
import { isIPv4, isIPv6 } from 'node:net';
import { AF_INET, AF_INET6, AF_NETLINK, AF_PACKET } from './constants.js';

export interface InetAddress {
  family: 4 | 6;
  address: string;
  port: number;
  scopeId?: number;
}

/** IPv4 or IPv6 text to its network-order bytes (4 or 16). */
export function ipToBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new TypeError(`not an IP address: ${JSON.stringify(ip)}`);
  let [head, tail] = ip.split('::') as [string, string | undefined];
  const parse = (s: string | undefined): number[] => {
    if (!s) return [];
    const parts = s.split(':');
    const out: number[] = [];
    for (const p of parts) {
      if (p.includes('.')) {
        const b = p.split('.').map(Number);
        out.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
      } else out.push(parseInt(p, 16));
    }
    return out;
  };
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const words = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
}

/** Network-order bytes (4 or 16) to canonical text (RFC 5952 for IPv6). */
export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new TypeError(`address of ${b.length} bytes`);
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((b[i] << 8) | b[i + 1]);
  // IPv4-mapped
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = w.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function sockaddrIn(address: string, port = 0, scopeId = 0): Buffer {
  if (isIPv4(address)) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    ipToBytes(address).copy(b, 4);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  ipToBytes(address).copy(b, 8);
  b.writeUInt32LE(scopeId, 24);
  return b;
}

export function decodeSockaddr(b: Buffer): InetAddress | { family: 'netlink'; pid: number } | { family: 'packet'; ifindex: number; protocol: number; hwaddr: Buffer } | undefined {
  if (b.length < 2) return undefined;
  const fam = b.readUInt16LE(0);
  if (fam === AF_INET && b.length >= 8) return { family: 4, port: b.readUInt16BE(2), address: bytesToIp(b.subarray(4, 8)) };
  if (fam === AF_INET6 && b.length >= 24) {
    return { family: 6, port: b.readUInt16BE(2), address: bytesToIp(b.subarray(8, 24)), scopeId: b.length >= 28 ? b.readUInt32LE(24) : 0 };
  }
  if (fam === AF_NETLINK && b.length >= 8) return { family: 'netlink', pid: b.readUInt32LE(4) };
  if (fam === AF_PACKET && b.length >= 12) {
    const halen = b[11];
    return { family: 'packet', protocol: b.readUInt16BE(2), ifindex: b.readInt32LE(4), hwaddr: Buffer.from(b.subarray(12, 12 + halen)) };
  }
  return undefined;
}

/** struct sockaddr_nl: pid 0 is the kernel; groups is the legacy multicast bitmask. */
export function sockaddrNl(pid = 0, groups = 0): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16LE(AF_NETLINK, 0);
  b.writeUInt32LE(pid, 4);
  b.writeUInt32LE(groups, 8);
  return b;
}

/** struct sockaddr_ll for AF_PACKET send/bind. */
export function sockaddrLl(ifindex: number, protocol: number, hwaddr?: Uint8Array): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16LE(AF_PACKET, 0);
  b.writeUInt16BE(protocol, 2);
  b.writeInt32LE(ifindex, 4);
  if (hwaddr) {
    b[11] = hwaddr.length;
    Buffer.from(hwaddr).copy(b, 12);
  }
  return b;
}
