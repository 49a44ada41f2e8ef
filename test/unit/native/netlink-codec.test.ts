import { describe, expect, it } from 'vitest';
import { AttrDecodeError, Writer, decodeAttrs, encodeAttrs, nlmsg, type Schema } from '@lvsd/native';

const schema: Schema = {
  a8: { id: 1, type: 'u8' },
  a16: { id: 2, type: 'u16' },
  a32: { id: 3, type: 'u32' },
  port: { id: 4, type: 'be16' },
  name: { id: 5, type: 'string' },
  on: { id: 6, type: 'flag' },
  big: { id: 7, type: 'u64' },
  inner: { id: 8, type: 'nested', nested: { x: { id: 1, type: 'u32' } } },
};

describe('attribute codec', () => {
  it('encodes to the exact kernel layout (length, type, 4-byte padding, NLA_F_NESTED)', () => {
    const w = new Writer(8);
    encodeAttrs(w, schema, { a8: 7, port: 80, name: 'rr', on: true, inner: { x: 1 } });
    expect(w.take().toString('hex')).toBe(
      [
        '0500' + '0100' + '07000000', // u8 + 3 bytes pad
        '0600' + '0400' + '0050' + '0000', // be16 port 80
        '0700' + '0500' + '727200' + '00', // "rr\0" + pad
        '0400' + '0600', // flag
        '0c00' + '0880' + '0800' + '0100' + '01000000', // nested with NLA_F_NESTED
      ].join(''),
    );
  });

  it('round-trips every scalar type', () => {
    const w = new Writer();
    const v = { a8: 255, a16: 65535, a32: 0xffffffff, port: 443, name: 'wlc', on: true, big: 2n ** 63n, inner: { x: 42 } };
    encodeAttrs(w, schema, v);
    const b = w.take();
    expect(decodeAttrs(b, 0, b.length, schema)).toEqual(v);
  });

  it('ignores unknown attributes (newer kernels) and rejects broken lengths', () => {
    const b = Buffer.from('0800' + '6300' + '01000000' + '0800' + '0300' + '05000000', 'hex');
    expect(decodeAttrs(b, 0, b.length, schema)).toEqual({ a32: 5 });
    const bad = Buffer.from('ff00' + '0300' + '05000000', 'hex');
    expect(() => decodeAttrs(bad, 0, bad.length, schema)).toThrow(AttrDecodeError);
  });
});

describe('nlmsg framing', () => {
  it('writes nlmsghdr with patched length', () => {
    const w = new Writer();
    const at = nlmsg.beginMessage(w, 0x20, nlmsg.NLM_F_REQUEST | nlmsg.NLM_F_ACK, 7);
    w.u8(1);
    nlmsg.finishMessage(w, at);
    expect(w.take().toString('hex')).toBe('14000000' + '2000' + '0500' + '07000000' + '00000000' + '01000000');
  });

  it('parses an NLMSG_ERROR with capped request and extended-ack TLVs', () => {
    // error -17, original header (seq 9), then NLMSGERR_ATTR_MSG "exists"
    const hdr = (len: number, type: number, flags: number, seq: number) => {
      const b = Buffer.alloc(16);
      b.writeUInt32LE(len, 0);
      b.writeUInt16LE(type, 4);
      b.writeUInt16LE(flags, 6);
      b.writeUInt32LE(seq, 8);
      return b;
    };
    const tlv = Buffer.from('0b00' + '0100' + Buffer.from('exists\0').toString('hex') + '00', 'hex');
    const err = Buffer.alloc(4);
    err.writeInt32LE(-17);
    const body = Buffer.concat([err, hdr(40, 0x20, 5, 9), tlv]);
    const msg = Buffer.concat([hdr(16 + body.length, nlmsg.NLMSG_ERROR, nlmsg.NLM_F_CAPPED | nlmsg.NLM_F_ACK_TLVS, 9), body]);
    const [m] = nlmsg.parseMessages(msg);
    expect(nlmsg.parseAck(m)).toEqual({ errno: 17, seq: 9, extack: 'exists' });
  });

  it('rejects a message whose length runs past the datagram', () => {
    const b = Buffer.alloc(16);
    b.writeUInt32LE(64, 0);
    expect(() => nlmsg.parseMessages(b)).toThrow(/bad length/);
  });
});
