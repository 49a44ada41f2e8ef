// Ancillary data (struct cmsghdr) decoding and encoding, 64-bit Linux layout.
export interface Cmsg {
  level: number;
  type: number;
  data: Buffer;
}

const CMSG_ALIGN = (n: number) => (n + 7) & ~7;
const CMSG_HDR = 16; // size_t len + int level + int type

export function parseCmsgs(control: Buffer | undefined): Cmsg[] {
  const out: Cmsg[] = [];
  if (!control) return out;
  let off = 0;
  while (off + CMSG_HDR <= control.length) {
    const len = Number(control.readBigUInt64LE(off));
    if (len < CMSG_HDR || off + len > control.length) break;
    out.push({
      level: control.readInt32LE(off + 8),
      type: control.readInt32LE(off + 12),
      data: control.subarray(off + CMSG_HDR, off + len),
    });
    off += CMSG_ALIGN(len);
  }
  return out;
}

export function buildCmsgs(msgs: Cmsg[]): Buffer {
  const size = msgs.reduce((n, m) => n + CMSG_ALIGN(CMSG_HDR + m.data.length), 0);
  const b = Buffer.alloc(size);
  let off = 0;
  for (const m of msgs) {
    b.writeBigUInt64LE(BigInt(CMSG_HDR + m.data.length), off);
    b.writeInt32LE(m.level, off + 8);
    b.writeInt32LE(m.type, off + 12);
    m.data.copy(b, off + CMSG_HDR);
    off += CMSG_ALIGN(CMSG_HDR + m.data.length);
  }
  return b;
}
