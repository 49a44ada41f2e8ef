// keepalived's virtual_server / real_server as IPVS services and destinations, the
// way keepalived's check daemon programs them. Pure: config in, plain data out.
import { serviceKeyString, type DesiredService, type DestinationSpec, type ForwardingMethod, type SchedulerFlag, type ServiceSpec } from '@lvsd/ipvs';
import { bytesToIp, ipToBytes } from '@lvsd/native';
import type { KeepalivedConfig, LbKind, RealServer, SorryServer, Tunnel, VirtualServer, VirtualServerGroupEntry } from '../config/model.js';

const FORWARDING: Record<LbKind, ForwardingMethod> = { NAT: 'masq', DR: 'route', TUN: 'tunnel' };

/** One IPVS service a virtual_server stands for (a group expands to several). */
export interface ServiceInstance {
  /** Stable identity of the virtual_server this came from (its config key). */
  vsId: string;
  spec: ServiceSpec;
  /** serviceKeyString(spec), made once. */
  key: string;
}

/** A stable name for a virtual_server across reloads: what it serves, not where it is written. */
export function virtualServerId(vs: VirtualServer): string {
  if (vs.kind === 'group') return `group ${vs.group}`;
  if (vs.kind === 'fwmark') return `fwmark ${vs.fwmark} ${vs.family}`;
  const host = vs.address!.includes(':') ? `[${vs.address}]` : vs.address;
  return `${(vs.protocol ?? 'TCP').toLowerCase()} ${host}:${vs.port ?? 0}`;
}

/** A stable name for a real server within its virtual server. */
export function realServerId(vsId: string, rs: { address: string; port: number }): string {
  const host = rs.address.includes(':') ? `[${rs.address}]` : rs.address;
  return `${vsId} -> ${host}:${rs.port}`;
}

function schedulerFlags(vs: VirtualServer): SchedulerFlag[] {
  const f: SchedulerFlag[] = [];
  if (vs.shFallback) f.push('sh-fallback');
  if (vs.shPort) f.push('sh-port');
  if (vs.mhFallback) f.push('mh-fallback');
  if (vs.mhPort) f.push('mh-port');
  if (vs.flag1 && !vs.shFallback && !vs.mhFallback) f.push('flag-1');
  if (vs.flag2 && !vs.shPort && !vs.mhPort) f.push('flag-2');
  if (vs.flag3) f.push('flag-3');
  return f;
}

type ServiceCommon = Omit<ServiceSpec, 'protocol' | 'address' | 'port' | 'fwmark' | 'family'>;

function serviceCommon(vs: VirtualServer): ServiceCommon {
  const spec: ServiceCommon = {
    scheduler: vs.lbAlgo,
    schedulerFlags: schedulerFlags(vs),
    onePacket: vs.ops,
  };
  if (vs.persistenceTimeout > 0) {
    spec.persistenceTimeout = vs.persistenceTimeout;
    if (vs.persistenceGranularity !== undefined) {
      spec.persistenceNetmask = /^\d+$/.test(vs.persistenceGranularity) ? Number(vs.persistenceGranularity) : vs.persistenceGranularity;
    }
  }
  if (vs.persistenceEngine) spec.persistenceEngine = vs.persistenceEngine;
  return spec;
}

/**
 * A service spec from the common part and its key, written field by field: an object
 * spread gave every one of them a map of its own (two per virtual server, ~240 bytes
 * each), where a literal and the same added fields share one.
 */
function addressSpec(c: ServiceCommon, protocol: 'tcp' | 'udp' | 'sctp', address: string, port: number): ServiceSpec {
  const spec: ServiceSpec = { scheduler: c.scheduler, schedulerFlags: c.schedulerFlags, onePacket: c.onePacket, protocol, address, port };
  return withPersistence(spec, c);
}

function fwmarkSpec(c: ServiceCommon, fwmark: number, family: ServiceSpec['family']): ServiceSpec {
  const spec: ServiceSpec = { scheduler: c.scheduler, schedulerFlags: c.schedulerFlags, onePacket: c.onePacket, fwmark, family };
  return withPersistence(spec, c);
}

function withPersistence(spec: ServiceSpec, c: ServiceCommon): ServiceSpec {
  if (c.persistenceTimeout !== undefined) spec.persistenceTimeout = c.persistenceTimeout;
  if (c.persistenceNetmask !== undefined) spec.persistenceNetmask = c.persistenceNetmask;
  if (c.persistenceEngine !== undefined) spec.persistenceEngine = c.persistenceEngine;
  return spec;
}

/** Every address of a group entry range: `10.0.0.1-10` (last octet / last hextet). */
function expandRange(e: VirtualServerGroupEntry): string[] {
  if (!e.address) return [];
  if (!e.addressEnd || e.addressEnd === e.address) return [e.address];
  const a = ipToBytes(e.address);
  const b = ipToBytes(e.addressEnd);
  const out: string[] = [];
  const last = a.length === 4 ? 3 : 14;
  const read = (x: Buffer) => (a.length === 4 ? x[3] : x.readUInt16BE(14));
  for (let v = read(a); v <= read(b); v++) {
    const c = Buffer.from(a);
    if (a.length === 4) c[last] = v;
    else c.writeUInt16BE(v, 14);
    out.push(bytesToIp(c));
  }
  return out;
}

/** The IPVS services a virtual_server stands for. */
export function servicesOf(vs: VirtualServer, config: Pick<KeepalivedConfig, 'virtualServerGroups'>): ServiceInstance[] {
  const inst = (vsId: string, spec: ServiceSpec): ServiceInstance => ({ vsId, spec, key: serviceKeyString(spec) });
  const vsId = virtualServerId(vs);
  const common = serviceCommon(vs);
  const protocol = vs.protocol ?? 'TCP';
  const proto = protocol.toLowerCase() as 'tcp' | 'udp' | 'sctp';
  if (vs.kind === 'address') {
    return [inst(vsId, addressSpec(common, proto, vs.address!, vs.port ?? 0))];
  }
  if (vs.kind === 'fwmark') {
    return [inst(vsId, fwmarkSpec(common, vs.fwmark!, vs.family))];
  }
  const group = config.virtualServerGroups.find((g) => g.name === vs.group);
  if (!group) return [];
  const out: ServiceInstance[] = [];
  for (const e of group.entries) {
    if (e.kind === 'fwmark') out.push(inst(vsId, fwmarkSpec(common, e.fwmark!, e.family ?? vs.family)));
    else for (const address of expandRange(e)) out.push(inst(vsId, addressSpec(common, proto, address, e.port ?? vs.port ?? 0)));
  }
  return out;
}

function tunnelFields(t: Tunnel | undefined): Partial<DestinationSpec> {
  if (!t) return {};
  const out: Partial<DestinationSpec> = { tunnelType: t.type, tunnelChecksum: t.csum };
  if (t.port !== undefined) out.tunnelPort = t.port;
  return out;
}

/** A real server as a destination of `service`, at `weight`. */
export function destinationOf(rs: RealServer, weight: number): DestinationSpec {
  const d: DestinationSpec = {
    address: rs.address,
    port: rs.port,
    forwardingMethod: FORWARDING[rs.lbKind],
    weight,
    upperThreshold: rs.uthreshold,
    lowerThreshold: rs.lthreshold,
  };
  // Nearly every real server has no tunnel: no spread of an empty object for those.
  return rs.tunnel ? Object.assign(d, tunnelFields(rs.tunnel)) : d;
}

export function sorryDestination(s: SorryServer, weight: number): DestinationSpec {
  return { address: s.address, port: s.port, forwardingMethod: FORWARDING[s.lbKind], weight, ...tunnelFields(s.tunnel) };
}

/**
 * What one service should hold: the destinations chosen by the quorum decision.
 * `ids` (optional) are the real servers' ids, `realServerId(instance.vsId, rs)` for each
 * of `vs.realServers` in order, when the caller keeps them.
 */
export function desiredService(
  instance: ServiceInstance,
  vs: VirtualServer,
  destinations: readonly { id: string; weight: number }[],
  ids?: readonly string[],
): DesiredService {
  const list = vs.realServers;
  const rsIds = ids ?? list.map((rs) => realServerId(instance.vsId, rs));
  let byId: Map<string, RealServer> | undefined;
  const dests: DestinationSpec[] = [];
  // The decision lists servers in the configuration's order (a subset): one walk along
  // both finds each, without a map of every real server; a map only if that order is broken.
  let i = 0;
  for (const d of destinations) {
    if (d.id === 'sorry_server') {
      if (vs.sorryServer) dests.push(sorryDestination(vs.sorryServer, d.weight));
      continue;
    }
    while (i < list.length && rsIds[i] !== d.id) i++;
    let rs: RealServer | undefined;
    if (i < list.length) rs = list[i++];
    else {
      byId ??= new Map(list.map((r, k) => [rsIds[k]!, r]));
      rs = byId.get(d.id);
    }
    if (rs) dests.push(destinationOf(rs, d.weight));
  }
  return { ...instance.spec, destinations: dests };
}
