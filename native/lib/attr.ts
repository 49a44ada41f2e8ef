// Netlink attributes (struct nlattr) described as data: a schema maps field names to
// attribute ids and types, and one encoder/decoder walks any schema. Protocols
// (IPVS, rtnetlink) declare tables; they never hand-pack bytes.

export const NLA_F_NESTED = 1 << 15;
export const NLA_F_NET_BYTEORDER = 1 << 14;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** A custom codec for attributes whose payload is neither a number nor a string. */
export interface AttrCodec<T = unknown> {
  encode(value: T, w: Writer): void;
  decode(buf: Buffer, start: number, end: number): T;
}

export type AttrType =
  | 'u8'
  | 'u16'
  | 'u32'
  | 'u64'
  | 's32'
  | 'be16'
  | 'be32'
  | 'string'
  | 'binary'
  | 'flag'
  | 'nested';

export interface AttrSpec {
  id: number;
  type: AttrType;
  /** For `nested`: the schema of the inner attributes. */
  nested?: Schema;
  /** For `binary`: a codec turning the bytes into a value and back. */
  codec?: AttrCodec<any>;
}

export type Schema = Readonly<Record<string, AttrSpec>>;

/** A growable byte writer with in-place length patching, shared by every encoder. */
export class Writer {
  buf: Buffer;
  off = 0;

  constructor(size = 4096) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reserve(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.off++] = v;
  }
  u16(v: number): void {
    this.reserve(2);
    this.buf.writeUInt16LE(v, this.off);
    this.off += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(v >>> 0, this.off);
    this.off += 4;
  }
  s32(v: number): void {
    this.reserve(4);
    this.buf.writeInt32LE(v, this.off);
    this.off += 4;
  }
  u64(v: bigint): void {
    this.reserve(8);
    this.buf.writeBigUInt64LE(v, this.off);
    this.off += 8;
  }
  be16(v: number): void {
    this.reserve(2);
    this.buf.writeUInt16BE(v, this.off);
    this.off += 2;
  }
  be32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32BE(v >>> 0, this.off);
    this.off += 4;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.off);
    this.off += b.length;
  }
  zeros(n: number): void {
    this.reserve(n);
    this.buf.fill(0, this.off, this.off + n);
    this.off += n;
  }
  align4(): void {
    const pad = (4 - (this.off & 3)) & 3;
    if (pad) this.zeros(pad);
  }
  /** Copies out what was written. */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.off));
  }
  reset(): void {
    this.off = 0;
  }
}

function encodeScalar(w: Writer, spec: AttrSpec, value: unknown): void {
  switch (spec.type) {
    case 'u8':
      w.u8(value as number);
      break;
    case 'u16':
      w.u16(value as number);
      break;
    case 'u32':
      w.u32(value as number);
      break;
    case 's32':
      w.s32(value as number);
      break;
    case 'u64':
      w.u64(BigInt(value as number | bigint));
      break;
    case 'be16':
      w.be16(value as number);
      break;
    case 'be32':
      w.be32(value as number);
      break;
    case 'string': {
      const s = value as string;
      const n = Buffer.byteLength(s);
      w.reserve(n + 1);
      w.off += w.buf.write(s, w.off);
      w.buf[w.off++] = 0;
      break;
    }
    case 'flag':
      break;
    case 'binary':
      if (spec.codec) spec.codec.encode(value, w);
      else w.bytes(value as Uint8Array);
      break;
    case 'nested':
      encodeAttrs(w, spec.nested!, value as Record<string, unknown>);
      break;
  }
}

/** Writes one attribute; returns nothing, leaves `w` 4-byte aligned. */
export function encodeAttr(w: Writer, spec: AttrSpec, value: unknown): void {
  const start = w.off;
  w.u32(0); // len + type, patched below
  encodeScalar(w, spec, value);
  const len = w.off - start;
  w.buf.writeUInt16LE(len, start);
  w.buf.writeUInt16LE(spec.type === 'nested' ? spec.id | NLA_F_NESTED : spec.id, start + 2);
  w.align4();
}

/** Writes every field of `obj` that the schema names (undefined fields are skipped). */
export function encodeAttrs(w: Writer, schema: Schema, obj: Record<string, unknown>): void {
  for (const key in schema) {
    const value = obj[key];
    if (value === undefined || value === false) continue;
    encodeAttr(w, schema[key], value);
  }
}

export class AttrDecodeError extends Error {
  readonly code = 'LVSD_ERR_NETLINK_DECODE';
}

const byIdCache = new WeakMap<Schema, Map<number, [string, AttrSpec]>>();
function byId(schema: Schema): Map<number, [string, AttrSpec]> {
  let m = byIdCache.get(schema);
  if (!m) {
    m = new Map();
    for (const [k, spec] of Object.entries(schema)) m.set(spec.id, [k, spec]);
    byIdCache.set(schema, m);
  }
  return m;
}

function decodeScalar(buf: Buffer, start: number, end: number, spec: AttrSpec, name: string): unknown {
  const need = (n: number) => {
    if (end - start < n) throw new AttrDecodeError(`attribute ${name}: ${end - start} bytes, expected ${n}`);
  };
  switch (spec.type) {
    case 'u8':
      need(1);
      return buf[start];
    case 'u16':
      need(2);
      return buf.readUInt16LE(start);
    case 'u32':
      need(4);
      return buf.readUInt32LE(start);
    case 's32':
      need(4);
      return buf.readInt32LE(start);
    case 'u64':
      need(8);
      return buf.readBigUInt64LE(start);
    case 'be16':
      need(2);
      return buf.readUInt16BE(start);
    case 'be32':
      need(4);
      return buf.readUInt32BE(start);
    case 'string': {
      let z = buf.indexOf(0, start);
      if (z < 0 || z > end) z = end;
      return buf.toString('utf8', start, z);
    }
    case 'flag':
      return true;
    case 'binary':
      return spec.codec ? spec.codec.decode(buf, start, end) : Buffer.from(buf.subarray(start, end));
    case 'nested':
      return decodeAttrs(buf, start, end, spec.nested!);
  }
}

/**
 * Reads the attributes in buf[start, end) against a schema. Unknown ids are ignored
 * (newer kernels add attributes); malformed lengths throw AttrDecodeError.
 */
export function decodeAttrs<T = Record<string, unknown>>(buf: Buffer, start: number, end: number, schema: Schema): T {
  const out: Record<string, unknown> = {};
  const ids = byId(schema);
  let off = start;
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    if (len < 4 || off + len > end) throw new AttrDecodeError(`attribute ${type} at ${off}: bad length ${len}`);
    const hit = ids.get(type);
    if (hit) out[hit[0]] = decodeScalar(buf, off + 4, off + len, hit[1], hit[0]);
    off += (len + 3) & ~3;
  }
  return out as T;
}
