// The plain-data shapes callers use (ipvsadm/keepalived vocabulary) and their
// canonical form: every default filled in and every address spelled one way, so two
// descriptions of the same kernel object compare equal field by field.
import { isIPv4, isIPv6 } from 'node:net';
import { bytesToIp, ipToBytes } from '@lvsd/native';
import type {
  Family,
  ForwardingMethod,
  PersistenceEngine,
  Protocol,
  Scheduler,
  SchedulerFlag,
  TunnelChecksum,
  TunnelType,
} from './abi.js';

/** Identifies a virtual service the way ipvsadm does: -t/-u/--sctp-service ADDR:PORT, or -f MARK (per family). */
export type ServiceKey =
  | { protocol: Protocol; address: string; port: number; fwmark?: undefined }
  | { fwmark: number; family?: Family; protocol?: undefined; address?: undefined; port?: undefined };

/** A virtual service as the caller describes it; omitted fields take ipvsadm's defaults. */
export interface ServiceSpec {
  protocol?: Protocol;
  address?: string;
  port?: number;
  fwmark?: number;
  /** Derived from `address`; required only to pick IPv6 for a fwmark service. */
  family?: Family;
  /** Default 'wlc', as ipvsadm. */
  scheduler?: Scheduler | (string & {});
  /** Scheduler flags (ipvsadm -b): sh-fallback, sh-port, mh-fallback, mh-port, flag-1..3. */
  schedulerFlags?: SchedulerFlag[];
  /** Persistence timeout in seconds (ipvsadm -p, keepalived persistence_timeout); sets the persistent flag. */
  persistenceTimeout?: number;
  /** Persistence granularity (ipvsadm -M): an IPv4 netmask or prefix length; a prefix length for IPv6. */
  persistenceNetmask?: string | number;
  /** Persistence engine (ipvsadm --pe), e.g. 'sip'. */
  persistenceEngine?: PersistenceEngine | (string & {});
  /** One-packet scheduling (ipvsadm -o, keepalived ops). */
  onePacket?: boolean;
}

/** A real server as the caller describes it. */
export interface DestinationSpec {
  address: string;
  /** Default: the service's port (0 for fwmark services). */
  port?: number;
  /** Default 'route' (direct routing), as ipvsadm -g. */
  forwardingMethod?: ForwardingMethod;
  /** Default 1. */
  weight?: number;
  /** Connection thresholds (ipvsadm -x / -y); 0 = no limit. */
  upperThreshold?: number;
  lowerThreshold?: number;
  /** For tunnel forwarding (ipvsadm --tun-type, --tun-port, --tun-nocsum/--tun-csum/--tun-remcsum). */
  tunnelType?: TunnelType;
  tunnelPort?: number;
  tunnelChecksum?: TunnelChecksum;
}

/** One service of a desired table: the service and all of its real servers. */
export interface DesiredService extends ServiceSpec {
  destinations?: DestinationSpec[];
}

export interface Stats {
  conns: bigint;
  inpkts: bigint;
  outpkts: bigint;
  inbytes: bigint;
  outbytes: bigint;
  cps: bigint;
  inpps: bigint;
  outpps: bigint;
  inbps: bigint;
  outbps: bigint;
}

/** A service in canonical form (what list/get return; what the planner compares). */
export interface Service {
  family: Family;
  protocol?: Protocol;
  address?: string;
  port?: number;
  fwmark?: number;
  scheduler: string;
  schedulerFlags: SchedulerFlag[];
  /** Set when the persistent flag is; the kernel keeps the timeout either way. */
  persistent: boolean;
  persistenceTimeout: number;
  /** IPv4: dotted mask; IPv6: prefix length. */
  persistenceNetmask: string | number;
  persistenceEngine?: string;
  onePacket: boolean;
  /** Raw IP_VS_SVC_F_* bits the caller controls. */
  flags: number;
  /** Only on services read from the kernel. */
  stats?: Stats;
}

/** A destination in canonical form. */
export interface Destination {
  address: string;
  family: Family;
  port: number;
  forwardingMethod: ForwardingMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  /** Tunnel settings: present on tunnel destinations only (ipip / 0 / nocsum when not given). */
  tunnelType?: TunnelType;
  tunnelPort?: number;
  tunnelChecksum?: TunnelChecksum;
  /** Only on destinations read from the kernel. */
  activeConns?: number;
  inactiveConns?: number;
  persistentConns?: number;
  stats?: Stats;
}

export interface IpvsInfo {
  /** IP_VS_VERSION_CODE as text, e.g. "1.2.1". */
  version: string;
  versionCode: number;
  /** Size of the connection hash table. */
  connTableSize: number;
}

export interface Timeouts {
  /** Seconds; 0 in setTimeouts leaves that value unchanged (ipvsadm --set). */
  tcp: number;
  tcpFin: number;
  udp: number;
}

export interface SyncDaemon {
  state: 'master' | 'backup';
  /** Multicast interface (ipvsadm --mcast-interface). */
  interface: string;
  syncId: number;
  syncMaxlen?: number;
  mcastGroup?: string;
  mcastPort?: number;
  mcastTtl?: number;
}

/**
 * A dotted quad as a number (0..2^32-1), or -1. Strict like node:net's isIPv4 (no
 * leading zeros), so a string it accepts is already canonical. Large tables parse
 * hundreds of thousands of these; this avoids a regex and an allocation each.
 */
export function parseIPv4(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return v * 256 + part;
}

export function familyOf(address: string): Family | undefined {
  if (typeof address !== 'string') return undefined;
  if (parseIPv4(address) >= 0 || isIPv4(address)) return 'inet';
  if (isIPv6(address)) return 'inet6';
  return undefined;
}

/** One spelling per address (RFC 5952 for IPv6). Throws TypeError on non-addresses. */
export function canonicalAddress(address: string): string {
  if (parseIPv4(address) >= 0) return address;
  return bytesToIp(ipToBytes(address));
}

/** The key string of a service: "tcp|10.0.0.1|80", "fwmark|inet|7". Stable across spellings. */
export function serviceKeyString(k: { protocol?: string; address?: string; port?: number; fwmark?: number; family?: Family }): string {
  if (k.fwmark !== undefined && k.fwmark !== 0) return `fwmark|${k.family ?? 'inet'}|${k.fwmark}`;
  return `${k.protocol}|${canonicalAddress(k.address!)}|${k.port}`;
}

/** The key of a destination within its service. */
export function destKeyString(d: { address: string; port: number }): string {
  return `${d.address}|${d.port}`;
}

/** The identifying part of a canonical service. */
export function keyOf(s: Service): ServiceKey {
  return s.fwmark ? { fwmark: s.fwmark, family: s.family } : { protocol: s.protocol!, address: s.address!, port: s.port! };
}

/** One change of a batch, in canonical form (what the planner produces). */
export type IpvsOp =
  /** A new service; its real servers, when given, follow it in the same batch (one message each). */
  | { kind: 'add-service'; service: Service; destinations?: readonly Destination[] }
  | { kind: 'edit-service'; service: Service; previous?: Service }
  | { kind: 'delete-service'; service: Service }
  | { kind: 'add-destination'; service: Service; destination: Destination }
  | { kind: 'edit-destination'; service: Service; destination: Destination; previous?: Destination }
  | { kind: 'delete-destination'; service: Service; destination: Destination };

/** A whole IPVS table: every service with its destinations. */
export interface TableSnapshot {
  services: { service: Service; destinations: Destination[] }[];
}
