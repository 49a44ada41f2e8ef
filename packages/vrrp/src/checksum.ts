// The Internet checksum (RFC 1071), over one or more byte ranges as if they were
// concatenated. VRRPv2 sums the VRRP message alone; VRRPv3 and ICMPv6 prefix an
// IP pseudo-header.

/** One's-complement sum of `parts`, folded to 16 bits and inverted. */
export function inetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd = false; // a part of odd length leaves the next part starting mid-word
  for (const p of parts) {
    let i = 0;
    if (odd && p.length > 0) {
      sum += p[0];
      i = 1;
      odd = false;
    }
    const end = p.length - 1;
    for (; i < end; i += 2) sum += (p[i] << 8) | p[i + 1];
    if (i === end) {
      sum += p[i] << 8;
      odd = true;
    }
    // fold per part so `sum` stays a small integer
    sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The pseudo-header of RFC 5798 section 5.2.8: IPv4 (RFC 768) or IPv6 (RFC 8200 section 8.1). */
export function pseudoHeader(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): Buffer {
  if (src.length === 4) {
    const b = Buffer.alloc(12);
    b.set(src, 0);
    b.set(dst, 4);
    b[9] = protocol;
    b.writeUInt16BE(length, 10);
    return b;
  }
  const b = Buffer.alloc(40);
  b.set(src, 0);
  b.set(dst, 16);
  b.writeUInt32BE(length, 32);
  b[39] = protocol;
  return b;
}
