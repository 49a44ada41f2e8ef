// The IPVS generic netlink ABI (include/uapi/linux/ip_vs.h) as data: command and
// attribute numbers, attribute schemas for the shared codec, and the value tables
// (flags, forwarding methods, tunnel types, schedulers) translated to the names
// ipvsadm and keepalived use. Numbers only; no behaviour lives here.
import type { AttrCodec, Schema, Writer } from '@lvsd/native';

export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;

/** Generic netlink commands (enum IPVS_CMD_*). */
export const Cmd = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  NEW_DAEMON: 9,
  DEL_DAEMON: 10,
  GET_DAEMON: 11,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;
export type CmdNumber = (typeof Cmd)[keyof typeof Cmd];

/** Address families as the kernel numbers them; lvsd speaks 'inet' / 'inet6' like iproute2. */
export const AF_INET = 2;
export const AF_INET6 = 10;
export type Family = 'inet' | 'inet6';
export const familyNumber = (f: Family): number => (f === 'inet6' ? AF_INET6 : AF_INET);
export const familyName = (n: number): Family => (n === AF_INET6 ? 'inet6' : 'inet');

/** Service protocols (IPPROTO_*). fwmark services have none on the wire. */
export const Protocols = { tcp: 6, udp: 17, sctp: 132 } as const;
export type Protocol = keyof typeof Protocols;
export const protocolName = (n: number): Protocol | undefined =>
  (Object.keys(Protocols) as Protocol[]).find((k) => Protocols[k] === n);

/** Service flags (IP_VS_SVC_F_*). HASHED is kernel-internal and never compared. */
export const SvcFlag = {
  PERSISTENT: 0x0001,
  HASHED: 0x0002,
  ONEPACKET: 0x0004,
  SCHED1: 0x0008,
  SCHED2: 0x0010,
  SCHED3: 0x0020,
} as const;
/** The flags a caller controls; everything else the kernel reports is masked off. */
export const SVC_FLAGS_USER = SvcFlag.PERSISTENT | SvcFlag.ONEPACKET | SvcFlag.SCHED1 | SvcFlag.SCHED2 | SvcFlag.SCHED3;

/** Scheduler flag names as ipvsadm -b spells them, per scheduler: the bits are shared. */
export const SchedulerFlagBits: Readonly<Record<string, number>> = {
  'flag-1': SvcFlag.SCHED1,
  'flag-2': SvcFlag.SCHED2,
  'flag-3': SvcFlag.SCHED3,
  'sh-fallback': SvcFlag.SCHED1,
  'sh-port': SvcFlag.SCHED2,
  'mh-fallback': SvcFlag.SCHED1,
  'mh-port': SvcFlag.SCHED2,
};
export type SchedulerFlag = 'flag-1' | 'flag-2' | 'flag-3' | 'sh-fallback' | 'sh-port' | 'mh-fallback' | 'mh-port';

/** Names for the scheduler-private bits as a given scheduler reads them. */
export function schedulerFlagNames(scheduler: string, flags: number): SchedulerFlag[] {
  const out: SchedulerFlag[] = [];
  const prefix = scheduler === 'sh' || scheduler === 'mh' ? scheduler : undefined;
  if (flags & SvcFlag.SCHED1) out.push(prefix ? (`${prefix}-fallback` as SchedulerFlag) : 'flag-1');
  if (flags & SvcFlag.SCHED2) out.push(prefix ? (`${prefix}-port` as SchedulerFlag) : 'flag-2');
  if (flags & SvcFlag.SCHED3) out.push('flag-3');
  return out;
}

/** Every scheduler the kernel has had. `twos` appeared after 6.1 (absent from the lab kernel). */
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];
/** Persistence engines (ip_vs_pe_*). */
export const PERSISTENCE_ENGINES = ['sip'] as const;
export type PersistenceEngine = (typeof PERSISTENCE_ENGINES)[number];
/** Kernel limits on the name strings (IP_VS_SCHEDNAME_MAXLEN, IP_VS_PENAME_MAXLEN, IP_VS_IFNAME_MAXLEN), NUL included. */
export const SCHEDNAME_MAXLEN = 16;
export const PENAME_MAXLEN = 16;
export const IFNAME_MAXLEN = 16;

/** Forwarding methods (IP_VS_CONN_F_FWD_MASK values), named as ipvsadm -Ln prints them. */
export const ForwardingMethods = { masq: 0, local: 1, tunnel: 2, route: 3, bypass: 4 } as const;
export type ForwardingMethod = keyof typeof ForwardingMethods;
export const FWD_MASK = 0x7;
export const forwardingName = (n: number): ForwardingMethod =>
  ((Object.keys(ForwardingMethods) as ForwardingMethod[]).find((k) => ForwardingMethods[k] === (n & FWD_MASK)) ?? 'masq');

/** Tunnel encapsulations (IP_VS_CONN_F_TUNNEL_TYPE_*). */
export const TunnelTypes = { ipip: 0, gue: 1, gre: 2 } as const;
export type TunnelType = keyof typeof TunnelTypes;
export const tunnelTypeName = (n: number): TunnelType =>
  ((Object.keys(TunnelTypes) as TunnelType[]).find((k) => TunnelTypes[k] === n) ?? 'ipip');

/** Tunnel checksum modes (IP_VS_TUNNEL_ENCAP_FLAG_*), as ipvsadm's --tun-nocsum/--tun-csum/--tun-remcsum. */
export const TunnelChecksums = { nocsum: 0, csum: 1, remcsum: 2 } as const;
export type TunnelChecksum = keyof typeof TunnelChecksums;
export const tunnelChecksumName = (n: number): TunnelChecksum => (n & 2 ? 'remcsum' : n & 1 ? 'csum' : 'nocsum');

/** Sync daemon states (IP_VS_STATE_*). */
export const DaemonStates = { master: 1, backup: 2 } as const;
export type DaemonState = keyof typeof DaemonStates;

// ---- attribute codecs for payloads that are neither numbers nor strings ----

/** union nf_inet_addr: 16 bytes, IPv4 in the first four. Decodes to the raw 16 bytes. */
export const inetAddrCodec: AttrCodec<Uint8Array> = {
  encode(value: Uint8Array, w: Writer) {
    w.bytes(value);
    if (value.length < 16) w.zeros(16 - value.length);
  },
  decode(buf, start, end) {
    return Buffer.from(buf.subarray(start, end));
  },
};

/** struct ip_vs_flags { u32 flags; u32 mask; } */
export interface IpvsFlags {
  flags: number;
  mask: number;
}
export const flagsCodec: AttrCodec<IpvsFlags> = {
  encode(v, w) {
    w.u32(v.flags);
    w.u32(v.mask);
  },
  decode(buf, start, end) {
    if (end - start < 8) return { flags: end - start >= 4 ? buf.readUInt32LE(start) : 0, mask: 0 };
    return { flags: buf.readUInt32LE(start), mask: buf.readUInt32LE(start + 4) };
  },
};

// ---- attribute schemas (enum IPVS_*_ATTR_*) ----

/** IPVS_STATS_ATTR_*: 32-bit counters except bytes (the legacy layout). */
export const statsSchema: Schema = {
  conns: { id: 1, type: 'u32' },
  inpkts: { id: 2, type: 'u32' },
  outpkts: { id: 3, type: 'u32' },
  inbytes: { id: 4, type: 'u64' },
  outbytes: { id: 5, type: 'u64' },
  cps: { id: 6, type: 'u32' },
  inpps: { id: 7, type: 'u32' },
  outpps: { id: 8, type: 'u32' },
  inbps: { id: 9, type: 'u32' },
  outbps: { id: 10, type: 'u32' },
};
/** The same ids, every counter 64-bit (IPVS_*_ATTR_STATS64). Id 11 is padding. */
export const stats64Schema: Schema = Object.fromEntries(
  Object.entries(statsSchema).map(([k, s]) => [k, { id: s.id, type: 'u64' as const }]),
);

export const serviceSchema: Schema = {
  af: { id: 1, type: 'u16' },
  protocol: { id: 2, type: 'u16' },
  addr: { id: 3, type: 'binary', codec: inetAddrCodec },
  port: { id: 4, type: 'be16' },
  fwmark: { id: 5, type: 'u32' },
  schedName: { id: 6, type: 'string' },
  flags: { id: 7, type: 'binary', codec: flagsCodec },
  timeout: { id: 8, type: 'u32' },
  /** IPv4: the mask's network-order bytes read as a u32; IPv6: the prefix length. */
  netmask: { id: 9, type: 'u32' },
  stats: { id: 10, type: 'nested', nested: statsSchema },
  peName: { id: 11, type: 'string' },
  stats64: { id: 12, type: 'nested', nested: stats64Schema },
};

export const destSchema: Schema = {
  addr: { id: 1, type: 'binary', codec: inetAddrCodec },
  port: { id: 2, type: 'be16' },
  fwdMethod: { id: 3, type: 'u32' },
  weight: { id: 4, type: 'u32' },
  uThresh: { id: 5, type: 'u32' },
  lThresh: { id: 6, type: 'u32' },
  activeConns: { id: 7, type: 'u32' },
  inactConns: { id: 8, type: 'u32' },
  persistConns: { id: 9, type: 'u32' },
  stats: { id: 10, type: 'nested', nested: statsSchema },
  addrFamily: { id: 11, type: 'u16' },
  stats64: { id: 12, type: 'nested', nested: stats64Schema },
  tunType: { id: 13, type: 'u8' },
  tunPort: { id: 14, type: 'be16' },
  tunFlags: { id: 15, type: 'u16' },
};

export const daemonSchema: Schema = {
  state: { id: 1, type: 'u32' },
  mcastIfn: { id: 2, type: 'string' },
  syncId: { id: 3, type: 'u32' },
  syncMaxlen: { id: 4, type: 'u16' },
  mcastGroup: { id: 5, type: 'binary' },
  mcastGroup6: { id: 6, type: 'binary' },
  mcastPort: { id: 7, type: 'u16' },
  mcastTtl: { id: 8, type: 'u8' },
};

/** Top-level attributes of a command (IPVS_CMD_ATTR_*). */
export const cmdSchema: Schema = {
  service: { id: 1, type: 'nested', nested: serviceSchema },
  dest: { id: 2, type: 'nested', nested: destSchema },
  daemon: { id: 3, type: 'nested', nested: daemonSchema },
  timeoutTcp: { id: 4, type: 'u32' },
  timeoutTcpFin: { id: 5, type: 'u32' },
  timeoutUdp: { id: 6, type: 'u32' },
};

/** Top-level attributes of the GET_INFO reply (IPVS_INFO_ATTR_*). */
export const infoSchema: Schema = {
  version: { id: 1, type: 'u32' },
  connTabSize: { id: 2, type: 'u32' },
};

/** The same schemas without the counters: what a reconcile dump decodes (no BigInt per counter). */
const without = (schema: Schema, drop: string[]): Schema => Object.fromEntries(Object.entries(schema).filter(([k]) => !drop.includes(k)));
export const cmdSchemaNoStats: Schema = {
  service: { id: 1, type: 'nested', nested: without(serviceSchema, ['stats', 'stats64']) },
  dest: { id: 2, type: 'nested', nested: without(destSchema, ['stats', 'stats64', 'activeConns', 'inactConns', 'persistConns']) },
};
