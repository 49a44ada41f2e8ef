// struct nlmsghdr framing and NLMSG_ERROR / extended-ack parsing. Pure functions.
import { AttrDecodeError, decodeAttrs, type Schema, Writer } from './attr.js';

export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
/** In an NLMSG_ERROR: the original request was not echoed back (NETLINK_CAP_ACK). */
export const NLM_F_CAPPED = 0x100;
/** In an NLMSG_ERROR: extended-ack TLVs follow. */
export const NLM_F_ACK_TLVS = 0x200;

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** The whole datagram the message sits in; its payload is buf[start, end). */
  buf: Buffer;
  start: number;
  end: number;
}

/** Starts a message in `w`; returns its offset for finishMessage. */
export function beginMessage(w: Writer, type: number, flags: number, seq: number, pid = 0): number {
  const at = w.off;
  w.u32(0);
  w.u16(type);
  w.u16(flags);
  w.u32(seq);
  w.u32(pid);
  return at;
}

export function finishMessage(w: Writer, at: number): void {
  w.align4();
  w.buf.writeUInt32LE(w.off - at, at);
}

/** Splits a datagram into messages. Throws AttrDecodeError on a length that runs past the end. */
export function parseMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      throw new AttrDecodeError(`netlink: message at ${off} has bad length ${len} (datagram ${buf.length})`);
    }
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      buf,
      start: off + NLMSG_HDRLEN,
      end: off + len,
    });
    off += (len + 3) & ~3;
  }
  return out;
}

const extackSchema: Schema = {
  msg: { id: 1, type: 'string' },
  offset: { id: 2, type: 'u32' },
  missType: { id: 5, type: 'u32' },
};

export interface AckInfo {
  /** 0 for success, else a positive errno. */
  errno: number;
  /** seq of the request this acknowledges. */
  seq: number;
  extack?: string;
  extackOffset?: number;
}

/** Decodes an NLMSG_ERROR payload: the errno, the request it answers and the extended ack. */
export function parseAck(m: NlMessage): AckInfo {
  const { buf, start, end } = m;
  if (end - start < 4 + NLMSG_HDRLEN) throw new AttrDecodeError(`netlink: short NLMSG_ERROR (${end - start} bytes)`);
  const err = buf.readInt32LE(start);
  const origLen = buf.readUInt32LE(start + 4);
  const seq = buf.readUInt32LE(start + 12);
  const info: AckInfo = { errno: -err, seq };
  if (m.flags & NLM_F_ACK_TLVS) {
    const tlvStart = start + 4 + (m.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : (origLen + 3) & ~3);
    if (tlvStart < end) {
      const t = decodeAttrs<{ msg?: string; offset?: number }>(buf, tlvStart, end, extackSchema);
      if (t.msg) info.extack = t.msg;
      if (t.offset !== undefined) info.extackOffset = t.offset;
    }
  }
  return info;
}
