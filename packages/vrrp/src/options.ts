// The options of one VRRP instance: plain data named after keepalived's keywords,
// and their validation. Everything wrong is reported before anything starts.
import { isIP } from 'node:net';
import { LvsdError } from '@lvsd/native';
import { DEFAULT_GARP, type GarpSettings } from './garp.js';
import { AUTH_NONE, AUTH_PASS, type IpFamily, type VrrpVersion } from './packet.js';
import { SCOPES, type RouteSpec } from './rtnl.js';

export class VrrpConfigError extends LvsdError {
  constructor(instance: string, message: string) {
    super('LVSD_ERR_VRRP_CONFIG', `vrrp_instance ${instance}: ${message}`, { object: instance });
  }
}

/** One `virtual_ipaddress` entry: "10.0.0.1/24 dev eth0 label eth0:1 scope global brd 10.0.0.255", or as fields. */
export type VipOption = string | { address: string; prefix?: number; dev?: string; label?: string; scope?: string; broadcast?: string };

/** One `virtual_routes` entry: "10.1.0.0/16 via 10.0.0.254 dev eth0 src 10.0.0.1 metric 5 table 100", or as fields. */
export type RouteOption = string | { dst: string; via?: string; src?: string; dev?: string; metric?: number; table?: number; scope?: string };

/** A vrrp_script tracked by the instance (keepalived's vrrp_script block with track_script's weight). */
export interface TrackScriptOption {
  name: string;
  /** The command line, or argv; run without a shell (see docs/vrrp.md). */
  script: string | readonly string[];
  /** Seconds between runs (default 1). */
  interval?: number;
  /** Seconds before a run is killed and counted failed (default: interval). */
  timeout?: number;
  /** Successes before OK (default 1) and failures before KO (default 1). */
  rise?: number;
  fall?: number;
  /** -253..253; 0 (default) puts the instance in FAULT while the script fails. */
  weight?: number;
  /** weight applies when the script fails instead of when it succeeds (keepalived `weight N reverse`). */
  reverse?: boolean;
}

export interface TrackInterfaceOption {
  name: string;
  /** 0 (default): FAULT while down; otherwise added while up (positive) or while down (negative). */
  weight?: number;
}

export interface TrackFileOption {
  name?: string;
  path: string;
  /** Priority change per unit of the number in the file; 0 (default): FAULT while the number is not 0. */
  weight?: number;
}

export interface VrrpInstanceOptions {
  /** The vrrp_instance name (used in notify scripts and the FIFO). */
  name: string;
  interface: string;
  virtualRouterId: number;
  /** 1..255, default 100. 255 is the address owner. */
  priority?: number;
  /** Seconds; v2 whole seconds 1..255, v3 0.01..40.95. Default 1. */
  advertInt?: number;
  /** keepalived `state` (both start in BACKUP and elect; nopreempt wants BACKUP). Default BACKUP. */
  state?: 'MASTER' | 'BACKUP';
  /** VRRP version, default 2 (as keepalived's vrrp_version). */
  version?: VrrpVersion;
  nopreempt?: boolean;
  /** Seconds (0..1000). */
  preemptDelay?: number;
  /** v2 only. AH is not supported. */
  authentication?: { authType: 'PASS' | 'AH'; authPass?: string };
  virtualIpaddress: VipOption[];
  virtualRoutes?: RouteOption[];
  unicastPeer?: string[];
  unicastSrcIp?: string;
  mcastSrcIp?: string;
  /** Global vrrp_mcast_group4 / vrrp_mcast_group6. */
  mcastGroup4?: string;
  mcastGroup6?: string;
  /** Drop unicast adverts from sources that are not peers (vrrp_check_unicast_src). */
  checkUnicastSrc?: boolean;
  /** keepalived `accept` (default, as keepalived outside strict mode); `false` is `no_accept`: a master that is not the owner drops traffic to the VIPs (nftables). */
  accept?: boolean;
  garpMasterDelay?: number;
  garpMasterRepeat?: number;
  garpMasterRefresh?: number;
  garpMasterRefreshRepeat?: number;
  garpLowerPrioDelay?: number;
  garpLowerPrioRepeat?: number;
  /** vrrp_garp_interval / vrrp_gna_interval, seconds between frames of a burst. */
  garpInterval?: number;
  lowerPrioNoAdvert?: boolean;
  /**
   * SCHED_FIFO priority (1..99) of the native thread that sends a master's adverts,
   * so a loaded machine does not delay them past the backups' Master_Down_Interval;
   * 0 keeps normal scheduling. Default 1. keepalived's `vrrp_rt_priority` sets this
   * (there it covers the whole VRRP process; here only the sender, which does nothing
   * but sleep and send). Without the privilege (CAP_SYS_NICE, an RT budget in the
   * cgroup) the thread runs normally: see VrrpInstance.stats().advertThread.
   */
  rtPriority?: number;
  /** lvsd: one advert at our priority when yielding to a better master, so it re-announces the VIP after a split brain (default true). */
  yieldAdvert?: boolean;
  trackScript?: TrackScriptOption[];
  trackInterface?: TrackInterfaceOption[];
  trackFile?: TrackFileOption[];
  /** Run with the state as arguments: notify gets TYPE NAME STATE PRIORITY. Command lines or argv. */
  notify?: string | readonly string[];
  notifyMaster?: string | readonly string[];
  notifyBackup?: string | readonly string[];
  notifyFault?: string | readonly string[];
  notifyStop?: string | readonly string[];
  /** A FIFO (or file) receiving keepalived's `INSTANCE "NAME" STATE PRIORITY` lines. */
  notifyFifo?: string;
  /** Network namespace: a path (/var/run/netns/NAME) or a name under /var/run/netns. */
  netns?: string;
}

export interface ResolvedVip {
  address: string;
  family: IpFamily;
  prefix: number;
  dev?: string;
  label?: string;
  scope: number;
  broadcast?: string;
}

export interface ResolvedRoute extends RouteSpec {
  dev?: string;
}

export interface ResolvedOptions {
  name: string;
  interface: string;
  vrid: number;
  priority: number;
  advertIntCs: number;
  version: VrrpVersion;
  family: IpFamily;
  initialState: 'MASTER' | 'BACKUP';
  preempt: boolean;
  preemptDelayMs: number;
  authType: number;
  authData: Buffer;
  vips: ResolvedVip[];
  routes: ResolvedRoute[];
  unicastPeers: string[];
  srcIp?: string;
  mcastGroup?: string;
  checkUnicastSrc: boolean;
  garp: GarpSettings;
  lowerPrioNoAdvert: boolean;
  yieldAdvert: boolean;
  rtPriority: number;
  /** Accept_Mode; false only matters below priority 255 (the owner always accepts). */
  accept: boolean;
  netns?: string;
}

function tokens(s: string): string[] {
  return s.trim().split(/\s+/).filter(Boolean);
}

export function parseVip(v: VipOption, inst: string): ResolvedVip {
  let o: Exclude<VipOption, string>;
  if (typeof v === 'string') {
    const t = tokens(v);
    if (!t.length) throw new VrrpConfigError(inst, 'empty virtual_ipaddress entry');
    o = { address: t[0] };
    for (let i = 1; i < t.length; i += 2) {
      const k = t[i];
      const val = t[i + 1];
      if (val === undefined) throw new VrrpConfigError(inst, `virtual_ipaddress "${v}": ${k} needs a value`);
      if (k === 'dev') o.dev = val;
      else if (k === 'label') o.label = val;
      else if (k === 'scope') o.scope = val;
      else if (k === 'brd' || k === 'broadcast') o.broadcast = val;
      else throw new VrrpConfigError(inst, `virtual_ipaddress "${v}": unknown keyword ${k}`);
    }
  } else o = v;
  let address = o.address;
  let prefix = o.prefix;
  if (address.includes('/')) {
    const [a, p] = address.split('/');
    address = a;
    prefix = Number(p);
  }
  const fam = isIP(address);
  if (!fam) throw new VrrpConfigError(inst, `virtual_ipaddress: ${JSON.stringify(o.address)} is not an IP address`);
  const max = fam === 4 ? 32 : 128;
  prefix ??= max;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new VrrpConfigError(inst, `virtual_ipaddress ${o.address}: bad prefix length`);
  const scope = o.scope === undefined ? 0 : /^\d+$/.test(o.scope) ? Number(o.scope) : SCOPES[o.scope];
  if (scope === undefined) throw new VrrpConfigError(inst, `virtual_ipaddress ${o.address}: unknown scope ${o.scope}`);
  const out: ResolvedVip = { address, family: fam as IpFamily, prefix, scope };
  if (o.dev) out.dev = o.dev;
  if (o.label) out.label = o.label;
  if (o.broadcast) out.broadcast = o.broadcast;
  return out;
}

export function parseRoute(r: RouteOption, inst: string): ResolvedRoute {
  if (typeof r !== 'string') {
    const { scope, ...rest } = r;
    return { ...rest, ...(scope !== undefined ? { scope: SCOPES[scope] ?? Number(scope) } : {}) };
  }
  const t = tokens(r);
  const out: Partial<ResolvedRoute> = {};
  for (let i = 0; i < t.length; i++) {
    const k = t[i];
    if (!['src', 'to', 'via', 'gw', 'dev', 'metric', 'preference', 'table', 'scope'].includes(k)) {
      if (out.dst) throw new VrrpConfigError(inst, `virtual_routes "${r}": unknown keyword ${k}`);
      out.dst = k;
      continue;
    }
    const val = t[++i];
    if (val === undefined) throw new VrrpConfigError(inst, `virtual_routes "${r}": ${k} needs a value`);
    if (k === 'to') out.dst = val;
    else if (k === 'via' || k === 'gw') out.via = val;
    else if (k === 'src') out.src = val;
    else if (k === 'dev') out.dev = val;
    else if (k === 'metric' || k === 'preference') out.metric = Number(val);
    else if (k === 'table') out.table = Number(val);
    else out.scope = SCOPES[val] ?? Number(val);
  }
  if (!out.dst) throw new VrrpConfigError(inst, `virtual_routes "${r}": no destination`);
  return out as ResolvedRoute;
}

const num = (inst: string, key: string, v: unknown, lo: number, hi: number, integer = true): number => {
  if (typeof v !== 'number' || Number.isNaN(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new VrrpConfigError(inst, `${key} must be ${integer ? 'an integer' : 'a number'} in ${lo}..${hi}, got ${JSON.stringify(v)}`);
  }
  return v;
};

/** Checks every option and fills in keepalived's defaults. Throws VrrpConfigError. */
export function resolveOptions(o: VrrpInstanceOptions): ResolvedOptions {
  const inst = o.name || '(unnamed)';
  if (!o.name) throw new VrrpConfigError(inst, 'name is required');
  if (!o.interface) throw new VrrpConfigError(inst, 'interface is required');
  const vrid = num(inst, 'virtual_router_id', o.virtualRouterId, 1, 255);
  const priority = num(inst, 'priority', o.priority ?? 100, 1, 255);
  const version = o.version ?? 2;
  if (version !== 2 && version !== 3) throw new VrrpConfigError(inst, `version must be 2 or 3, got ${JSON.stringify(version)}`);
  const advertInt = o.advertInt ?? 1;
  let advertIntCs: number;
  if (version === 2) {
    advertIntCs = num(inst, 'advert_int (VRRPv2: whole seconds)', advertInt, 1, 255) * 100;
  } else {
    advertIntCs = Math.round(num(inst, 'advert_int (VRRPv3)', advertInt, 0.01, 40.95, false) * 100);
  }
  const vips = (o.virtualIpaddress ?? []).map((v) => parseVip(v, inst));
  if (!vips.length) throw new VrrpConfigError(inst, 'virtual_ipaddress needs at least one address');
  const family = vips[0].family;
  if (vips.some((v) => v.family !== family)) throw new VrrpConfigError(inst, 'virtual_ipaddress mixes IPv4 and IPv6; use one instance per family');
  if (vips.length > 255) throw new VrrpConfigError(inst, 'at most 255 virtual addresses fit in an advertisement');
  if (family === 6 && version === 2) throw new VrrpConfigError(inst, 'IPv6 needs VRRP version 3');
  let authType = AUTH_NONE;
  const authData = Buffer.alloc(8);
  if (o.authentication) {
    if (o.authentication.authType === 'AH') throw new VrrpConfigError(inst, 'auth_type AH is not supported (use PASS, or no authentication)');
    if (o.authentication.authType !== 'PASS') throw new VrrpConfigError(inst, `unknown auth_type ${JSON.stringify(o.authentication.authType)}`);
    if (version === 3) throw new VrrpConfigError(inst, 'authentication is not part of VRRPv3 (RFC 5798); remove it or use version 2');
    const pass = (o.authentication.authPass ?? '').trim();
    if (!pass) throw new VrrpConfigError(inst, 'auth_pass is empty');
    authType = AUTH_PASS;
    // keepalived keeps the first 8 bytes
    Buffer.from(pass, 'utf8').copy(authData, 0, 0, 8);
  }
  const state = o.state ?? 'BACKUP';
  if (state !== 'MASTER' && state !== 'BACKUP') throw new VrrpConfigError(inst, `state must be MASTER or BACKUP, got ${JSON.stringify(state)}`);
  const peers = o.unicastPeer ?? [];
  for (const p of peers) if (isIP(p) !== family) throw new VrrpConfigError(inst, `unicast_peer ${p} is not an IPv${family} address`);
  const srcIp = peers.length ? (o.unicastSrcIp ?? o.mcastSrcIp) : (o.mcastSrcIp ?? o.unicastSrcIp);
  if (srcIp !== undefined && isIP(srcIp) !== family) throw new VrrpConfigError(inst, `source address ${srcIp} is not an IPv${family} address`);
  const mcastGroup = family === 4 ? o.mcastGroup4 : o.mcastGroup6;
  if (mcastGroup !== undefined && isIP(mcastGroup) !== family) throw new VrrpConfigError(inst, `multicast group ${mcastGroup} is not an IPv${family} address`);
  const g = (key: string, v: number | undefined, dflt: number, hi: number, integer = false) => (v === undefined ? dflt : num(inst, key, v, 0, hi, integer));
  const masterDelay = g('garp_master_delay', o.garpMasterDelay, DEFAULT_GARP.masterDelay, 255);
  const masterRepeat = g('garp_master_repeat', o.garpMasterRepeat, DEFAULT_GARP.masterRepeat, 255, true);
  const garp: GarpSettings = {
    masterDelay,
    masterRepeat,
    masterRefresh: g('garp_master_refresh', o.garpMasterRefresh, DEFAULT_GARP.masterRefresh, 86400),
    masterRefreshRepeat: g('garp_master_refresh_repeat', o.garpMasterRefreshRepeat, DEFAULT_GARP.masterRefreshRepeat, 255, true),
    lowerPrioDelay: g('garp_lower_prio_delay', o.garpLowerPrioDelay, masterDelay, 255),
    lowerPrioRepeat: g('garp_lower_prio_repeat', o.garpLowerPrioRepeat, masterRepeat, 255, true),
    interval: g('vrrp_garp_interval', o.garpInterval, DEFAULT_GARP.interval, 1),
  };
  for (const t of o.trackScript ?? []) {
    if (!t.name || !t.script) throw new VrrpConfigError(inst, 'track_script entries need a name and a script');
    if (t.weight !== undefined) num(inst, `track_script ${t.name} weight`, t.weight, -253, 253);
  }
  for (const t of o.trackInterface ?? []) if (t.weight !== undefined) num(inst, `track_interface ${t.name} weight`, t.weight, -254, 254);
  for (const t of o.trackFile ?? []) if (t.weight !== undefined) num(inst, `track_file ${t.path} weight`, t.weight, -254, 254);
  const out: ResolvedOptions = {
    name: o.name,
    interface: o.interface,
    vrid,
    priority,
    advertIntCs,
    version,
    family,
    initialState: state,
    preempt: !o.nopreempt,
    preemptDelayMs: num(inst, 'preempt_delay', o.preemptDelay ?? 0, 0, 1000, false) * 1000,
    authType,
    authData,
    vips,
    routes: (o.virtualRoutes ?? []).map((r) => parseRoute(r, inst)),
    unicastPeers: peers,
    checkUnicastSrc: o.checkUnicastSrc ?? false,
    garp,
    lowerPrioNoAdvert: o.lowerPrioNoAdvert ?? false,
    yieldAdvert: o.yieldAdvert ?? true,
    rtPriority: num(inst, 'vrrp_rt_priority', o.rtPriority ?? 1, 0, 99),
    accept: o.accept ?? true,
  };
  if (srcIp) out.srcIp = srcIp;
  if (mcastGroup) out.mcastGroup = mcastGroup;
  if (o.netns) out.netns = o.netns.includes('/') ? o.netns : `/var/run/netns/${o.netns}`;
  return out;
}
