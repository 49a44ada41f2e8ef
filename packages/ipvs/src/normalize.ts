// Validation and canonical form. Everything a caller hands in passes through here
// before a byte is encoded: a bad address, a port 0 on a TCP/UDP/SCTP service, a
// weight out of range, an unknown scheduler or threshold order becomes an
// LVSD_ERR_IPVS_INVALID error naming the object, and nothing is sent.
import {
  PERSISTENCE_ENGINES,
  Protocols,
  SCHEDULERS,
  SchedulerFlagBits,
  SvcFlag,
  TunnelChecksums,
  TunnelTypes,
  ForwardingMethods,
  schedulerFlagNames,
  type Family,
  type ForwardingMethod,
  type SchedulerFlag,
} from './abi.js';
import { invalid } from './errors.js';
import {
  canonicalAddress,
  familyOf,
  parseIPv4,
  serviceKeyString,
  type DestinationSpec,
  type Destination,
  type DesiredService,
  type Service,
  type ServiceKey,
  type ServiceSpec,
} from './types.js';

/** The kernel keeps weights and thresholds in a signed int. */
export const MAX_WEIGHT = 0x7fffffff;
export const MAX_THRESHOLD = 0x7fffffff;
export const DEFAULT_SCHEDULER = 'wlc';

const isUint = (v: unknown, max: number): v is number => typeof v === 'number' && (max <= 0x7fffffff ? (v | 0) === v && v >= 0 : Number.isInteger(v) && v >= 0) && v <= max;

/** Validates a service key (protocol+address+port or fwmark+family) and returns its canonical form. */
export function normalizeKey(k: ServiceKey | ServiceSpec): { family: Family; protocol?: keyof typeof Protocols; address?: string; port?: number; fwmark?: number } {
  const c = checkKey(k);
  return c.fwmark !== undefined ? { family: c.family, fwmark: c.fwmark } : { family: c.family, protocol: c.protocol, address: c.address, port: c.port };
}

/**
 * normalizeKey's checks, with the result in one reused object (read it at once): a table
 * normalises a service key per service, and garbage is paid for in page faults in the lab.
 * Error objects are built only when throwing, for the same reason.
 */
const keyOut: { family: Family; protocol?: keyof typeof Protocols; address?: string; port?: number; fwmark?: number } = {
  family: 'inet',
  protocol: undefined,
  address: undefined,
  port: undefined,
  fwmark: undefined,
};
function checkKey(k: ServiceKey | ServiceSpec): typeof keyOut {
  const out = keyOut;
  if (k.fwmark !== undefined) {
    if (!isUint(k.fwmark, 0xffffffff) || k.fwmark === 0) throw invalid(`fwmark must be an integer 1..4294967295, got ${k.fwmark}`, { service: k });
    if (k.address !== undefined || k.port !== undefined || k.protocol !== undefined) {
      throw invalid('a service is either fwmark (+family) or protocol/address/port, not both', { service: k });
    }
    const family = k.family ?? 'inet';
    if (family !== 'inet' && family !== 'inet6') throw invalid(`family must be 'inet' or 'inet6', got ${String(family)}`, { service: k });
    out.family = family;
    out.fwmark = k.fwmark;
    out.protocol = out.address = out.port = undefined;
    return out;
  }
  if (k.protocol === undefined || !Object.hasOwn(Protocols, k.protocol)) {
    throw invalid(`protocol must be one of tcp, udp, sctp (or give a fwmark), got ${String(k.protocol)}`, { service: k });
  }
  if (typeof k.address !== 'string') throw invalid('service address is required', { service: k });
  const v4 = parseIPv4(k.address) >= 0;
  const family = v4 ? 'inet' : familyOf(k.address);
  if (!family) throw invalid(`bad service address ${JSON.stringify(k.address)}`, { service: k });
  if ('family' in k && k.family !== undefined && k.family !== family) throw invalid(`address ${k.address} is not ${k.family}`, { service: k });
  if (!isUint(k.port, 65535) || k.port === 0) throw invalid(`port must be 1..65535 on a ${k.protocol} service, got ${k.port}`, { service: k });
  out.family = family;
  out.protocol = k.protocol;
  out.address = v4 ? k.address : canonicalAddress(k.address);
  out.port = k.port;
  out.fwmark = undefined;
  return out;
}

/** IPv4 netmask in dotted form from a dotted mask or a prefix length. */
function v4Netmask(m: string | number, obj: unknown): string {
  if (typeof m === 'number') {
    if (!isUint(m, 32)) throw invalid(`persistence netmask prefix must be 0..32, got ${m}`, obj);
    const v = m === 0 ? 0 : (0xffffffff << (32 - m)) >>> 0;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  if (familyOf(m) !== 'inet') throw invalid(`persistence netmask must be an IPv4 mask or prefix length, got ${JSON.stringify(m)}`, obj);
  return canonicalAddress(m);
}

const FULL_V4_MASK = '255.255.255.255';
/** Shared by every service without scheduler flags (frozen: never mutated). */
const NO_FLAGS: SchedulerFlag[] = Object.freeze([]) as unknown as SchedulerFlag[];

export function normalizeService(spec: ServiceSpec): Service {
  const k = checkKey(spec);
  const family = k.family;
  const protocol = k.protocol;
  const address = k.address;
  const port = k.port;
  const fwmark = k.fwmark;
  const scheduler = spec.scheduler ?? DEFAULT_SCHEDULER;
  if (!(SCHEDULERS as readonly string[]).includes(scheduler)) {
    throw invalid(`unknown scheduler ${JSON.stringify(scheduler)} (one of ${SCHEDULERS.join(' ')})`, { service: spec });
  }
  let flags = 0;
  for (const f of spec.schedulerFlags ?? []) {
    const bit = SchedulerFlagBits[f];
    if (bit === undefined) throw invalid(`unknown scheduler flag ${JSON.stringify(f)}`, { service: spec });
    const owner = f.startsWith('sh-') ? 'sh' : f.startsWith('mh-') ? 'mh' : undefined;
    if (owner && owner !== scheduler) throw invalid(`scheduler flag ${f} needs the ${owner} scheduler, not ${scheduler}`, { service: spec });
    flags |= bit;
  }
  let timeout = 0;
  if (spec.persistenceTimeout !== undefined) {
    if (!isUint(spec.persistenceTimeout, 0xffffffff) || spec.persistenceTimeout === 0) {
      throw invalid(`persistence timeout must be a positive integer of seconds, got ${spec.persistenceTimeout}`, { service: spec });
    }
    timeout = spec.persistenceTimeout;
    flags |= SvcFlag.PERSISTENT;
  }
  if (spec.onePacket) {
    // As ipvsadm: one-packet scheduling is meant for datagrams.
    if (protocol !== undefined && protocol !== 'udp') throw invalid(`one-packet scheduling is for UDP services, not ${protocol}`, { service: spec });
    flags |= SvcFlag.ONEPACKET;
  }
  let netmask: string | number;
  if (family === 'inet6') {
    const m = spec.persistenceNetmask ?? 128;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > 128) {
      throw invalid(`IPv6 persistence netmask must be a prefix length 1..128, got ${JSON.stringify(m)}`, { service: spec });
    }
    netmask = m;
  } else netmask = spec.persistenceNetmask === undefined ? FULL_V4_MASK : v4Netmask(spec.persistenceNetmask, { service: spec });
  const pe = spec.persistenceEngine;
  if (pe !== undefined && !(PERSISTENCE_ENGINES as readonly string[]).includes(pe)) {
    throw invalid(`unknown persistence engine ${JSON.stringify(pe)} (one of ${PERSISTENCE_ENGINES.join(' ')})`, { service: spec });
  }
  const out: Service = {
    family,
    protocol,
    address,
    port,
    fwmark,
    scheduler,
    schedulerFlags: flags & (SvcFlag.SCHED1 | SvcFlag.SCHED2 | SvcFlag.SCHED3) ? schedulerFlagNames(scheduler, flags) : NO_FLAGS,
    persistent: (flags & SvcFlag.PERSISTENT) !== 0,
    persistenceTimeout: timeout,
    persistenceNetmask: netmask,
    persistenceEngine: pe,
    onePacket: (flags & SvcFlag.ONEPACKET) !== 0,
    flags,
  };
  return out;
}

export function normalizeDestination(spec: DestinationSpec, service: Pick<Service, 'family' | 'fwmark' | 'port'>): Destination {
  if (typeof spec?.address !== 'string') throw invalid('destination address is required', { service, destination: spec });
  const v4 = parseIPv4(spec.address) >= 0;
  const family: Family | undefined = v4 ? 'inet' : familyOf(spec.address);
  if (!family) throw invalid(`bad destination address ${JSON.stringify(spec.address)}`, { service, destination: spec });
  const port = spec.port ?? (service.fwmark ? 0 : service.port!);
  const fwd = spec.forwardingMethod ?? 'route';
  const weight = spec.weight ?? 1;
  const upper = spec.upperThreshold ?? 0;
  const lower = spec.lowerThreshold ?? 0;
  const plain =
    spec.tunnelType === undefined && spec.tunnelPort === undefined && spec.tunnelChecksum === undefined && fwd !== 'tunnel';
  // The common case (no tunnel, in-range numbers, same family) is checked in one pass.
  if (
    !plain ||
    !isUint(port, 65535) ||
    typeof ForwardingMethods[fwd] !== 'number' ||
    !isUint(weight, MAX_WEIGHT) ||
    !isUint(upper, MAX_THRESHOLD) ||
    !isUint(lower, MAX_THRESHOLD) ||
    lower > upper ||
    family !== service.family
  ) {
    return normalizeDestinationSlow(spec, service, family);
  }
  return {
    address: v4 ? spec.address : canonicalAddress(spec.address),
    family,
    port,
    forwardingMethod: fwd,
    weight,
    upperThreshold: upper,
    lowerThreshold: lower,
  };
}

function normalizeDestinationSlow(spec: DestinationSpec, service: Pick<Service, 'family' | 'fwmark' | 'port'>, family: Family): Destination {
  const obj = { service, destination: spec };
  const port = spec.port ?? (service.fwmark ? 0 : service.port!);
  if (!isUint(port, 65535)) throw invalid(`destination port must be 0..65535, got ${port}`, obj);
  const fwd = spec.forwardingMethod ?? 'route';
  if (!Object.hasOwn(ForwardingMethods, fwd)) throw invalid(`unknown forwarding method ${JSON.stringify(fwd)} (masq route tunnel local bypass)`, obj);
  const weight = spec.weight ?? 1;
  if (!isUint(weight, MAX_WEIGHT)) throw invalid(`weight must be an integer 0..${MAX_WEIGHT}, got ${weight}`, obj);
  const upper = spec.upperThreshold ?? 0;
  const lower = spec.lowerThreshold ?? 0;
  if (!isUint(upper, MAX_THRESHOLD)) throw invalid(`upper threshold must be an integer 0..${MAX_THRESHOLD}, got ${upper}`, obj);
  if (!isUint(lower, MAX_THRESHOLD)) throw invalid(`lower threshold must be an integer 0..${MAX_THRESHOLD}, got ${lower}`, obj);
  if (lower > upper) throw invalid(`lower threshold ${lower} is above upper threshold ${upper}`, obj);
  if (family !== service.family && fwd !== 'tunnel') {
    throw invalid(`a ${family} real server behind a ${service.family} service needs tunnel forwarding`, obj);
  }
  const tunnelType = spec.tunnelType ?? 'ipip';
  const tunnelPort = spec.tunnelPort ?? 0;
  const tunnelChecksum = spec.tunnelChecksum ?? 'nocsum';
  if (fwd === 'tunnel') {
    if (!Object.hasOwn(TunnelTypes, tunnelType)) throw invalid(`unknown tunnel type ${JSON.stringify(tunnelType)} (ipip gue gre)`, obj);
    if (!Object.hasOwn(TunnelChecksums, tunnelChecksum)) throw invalid(`unknown tunnel checksum ${JSON.stringify(tunnelChecksum)} (nocsum csum remcsum)`, obj);
    if (tunnelType === 'gue') {
      if (!isUint(tunnelPort, 65535) || tunnelPort === 0) throw invalid(`a gue tunnel needs a tunnel port 1..65535, got ${tunnelPort}`, obj);
    } else if (spec.tunnelPort !== undefined) throw invalid(`tunnel port applies to gue tunnels only`, obj);
    if (tunnelType === 'ipip' && tunnelChecksum !== 'nocsum') throw invalid(`tunnel checksum options apply to gue and gre tunnels only`, obj);
    if (tunnelType === 'gre' && tunnelChecksum === 'remcsum') throw invalid(`remote checksum offload (remcsum) applies to gue tunnels only`, obj);
  } else if (spec.tunnelType !== undefined || spec.tunnelPort !== undefined || spec.tunnelChecksum !== undefined) {
    throw invalid(`tunnel options need forwardingMethod 'tunnel', not '${fwd}'`, obj);
  }
  const out: Destination = {
    address: canonicalAddress(spec.address),
    family,
    port,
    forwardingMethod: fwd,
    weight,
    upperThreshold: upper,
    lowerThreshold: lower,
  };
  if (fwd === 'tunnel') {
    out.tunnelType = tunnelType;
    out.tunnelPort = tunnelPort;
    out.tunnelChecksum = tunnelChecksum;
  }
  return out;
}

/** A desired table in canonical form, keyed by service key; duplicates are errors. */
export interface NormalizedEntry {
  service: Service;
  /** In the caller's order. Looked up through destIndex() when two versions are compared. */
  dests: Destination[];
}
export type NormalizedTable = Map<string, NormalizedEntry>;

// ---- packed real servers ----
// A large apply keeps its canonical table as the state for later plans. In the lab every
// first-touched page costs ~0.2 ms, and 100,000 Destination objects (about 10 MB of heap,
// and the scavenges they caused, which also promoted the caller's fresh table) were most
// of an apply from empty. So the common real server (IPv4, no tunnel, IPv4 service) is
// kept as PACK_WORDS words in a shared Int32Array (20 bytes), encoded and compared from
// there, and turned into Destination objects only when someone reads `dests`. A chunk
// lives as long as any entry packed in it.

/** Int32 words per packed real server: IPv4 address, port | forwarding method << 16, weight, upper, lower. */
export const PACK_WORDS = 5;
const FWD_NAMES: ForwardingMethod[] = [];
for (const [name, v] of Object.entries(ForwardingMethods)) FWD_NAMES[v] = name as ForwardingMethod;

/**
 * Bump allocator of packed real servers for one normalizeTable call. Chunks double (small
 * for a one-service change, large for a whole table); a service never spans two chunks.
 */
class PackPool {
  words: Int32Array = new Int32Array(0);
  at = 0;
  private next = 64;
  /** Room for n real servers; returns the word offset where they go (in this.words). */
  reserve(n: number): number {
    const need = n * PACK_WORDS;
    if (this.at + need > this.words.length) {
      while (this.next < n) this.next *= 2;
      // Zero-filled and mostly untouched: unused tail pages cost nothing.
      this.words = new Int32Array(this.next * PACK_WORDS);
      this.at = 0;
      if (this.next < 65536) this.next *= 2;
    }
    return this.at;
  }
}

/** The canonical Destination of the packed real server at words[o]. */
export function unpack(words: Int32Array, o: number): Destination {
  const ip = words[o];
  const pf = words[o + 1];
  return {
    address: `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`,
    family: 'inet',
    port: pf & 0xffff,
    forwardingMethod: FWD_NAMES[pf >>> 16],
    weight: words[o + 2],
    upperThreshold: words[o + 3],
    lowerThreshold: words[o + 4],
  };
}

/** Where applyBatch finds the packed real servers of an add-service op (not enumerable). */
export const PACKED_OP = Symbol('lvsd.ipvs.packed');

/** An entry whose real servers are packed (see above). `dests` builds the objects on each read. */
export class PackedEntry implements NormalizedEntry {
  readonly service: Service;
  /** The pool chunk and where this service's count real servers start in it. */
  readonly words: Int32Array;
  readonly at: number;
  readonly count: number;
  constructor(service: Service, words: Int32Array, at: number, count: number) {
    this.service = service;
    this.words = words;
    this.at = at;
    this.count = count;
  }
  /** Fresh objects each time: keeping them would bring back the memory packing saves. */
  get dests(): Destination[] {
    const out: Destination[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) out[i] = unpack(this.words, this.at + i * PACK_WORDS);
    return out;
  }
}

/**
 * Validates and packs the real servers of `service` when all of them are the common kind,
 * returning where they start; -1 (nothing kept) when any is not, and the caller takes the general path, which
 * reports errors exactly as normalizeDestination does.
 */
function packDests(list: readonly DestinationSpec[], service: Service, pool: PackPool): number {
  if (service.family !== 'inet') return -1;
  const n = list.length;
  const base = pool.reserve(n);
  const w = pool.words;
  const defPort = service.fwmark ? 0 : service.port!;
  let o = base;
  for (let i = 0; i < n; i++, o += PACK_WORDS) {
    const x = list[i];
    if (x === null || typeof x !== 'object' || typeof x.address !== 'string') return -1;
    const ip = parseIPv4(x.address);
    if (ip < 0) return -1;
    if (x.tunnelType !== undefined || x.tunnelPort !== undefined || x.tunnelChecksum !== undefined) return -1;
    const port = x.port ?? defPort;
    const fwd = ForwardingMethods[x.forwardingMethod ?? 'route'];
    const weight = x.weight ?? 1;
    const upper = x.upperThreshold ?? 0;
    const lower = x.lowerThreshold ?? 0;
    if (
      typeof fwd !== 'number' ||
      fwd === ForwardingMethods.tunnel ||
      !isUint(port, 65535) ||
      !isUint(weight, MAX_WEIGHT) ||
      !isUint(upper, MAX_THRESHOLD) ||
      !isUint(lower, MAX_THRESHOLD) ||
      lower > upper
    ) {
      return -1;
    }
    w[o] = ip | 0; // int32 (small integers in V8, no boxing while cold)
    w[o + 1] = port | (fwd << 16);
    w[o + 2] = weight;
    w[o + 3] = upper;
    w[o + 4] = lower;
  }
  pool.at = o;
  return base;
}

/** Index of the first packed real server that repeats an earlier one (same address and port), or -1. */
function findDuplicatePacked(w: Int32Array, at: number, n: number): number {
  if (n <= 16) {
    for (let i = 1; i < n; i++) {
      const a = at + i * PACK_WORDS;
      for (let j = 0; j < i; j++) {
        const b = at + j * PACK_WORDS;
        if (w[a] === w[b] && (w[a + 1] & 0xffff) === (w[b + 1] & 0xffff)) return i;
      }
    }
    return -1;
  }
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const a = at + i * PACK_WORDS;
    const k = (w[a] >>> 0) * 65536 + (w[a + 1] & 0xffff);
    if (seen.has(k)) return i;
    seen.add(k);
  }
  return -1;
}

/**
 * Validates and canonicalises a desired table. With `previous` (the last result),
 * services whose spec still matches their previous canonical entry field by field are
 * reused as the same object, so re-applying a 110,000-object table after one change
 * costs a field comparison per object instead of a full validation.
 */
/** The canonical entry last made from each spec object: lets normalizeTable skip unchanged specs. */
const fromSpec = new WeakMap<object, { key: string; entry: NormalizedEntry }>();

export function normalizeTable(desired: Iterable<DesiredService>, previous?: NormalizedTable): NormalizedTable {
  const out: NormalizedTable = new Map();
  const pool = new PackPool();
  // An index loop over arrays: a cold for-of allocates a result object per step.
  const specs = Array.isArray(desired) ? (desired as DesiredService[]) : [...desired];
  for (let si = 0; si < specs.length; si++) {
    const d = specs[si];
    let key: string | undefined;
    let entry: NormalizedEntry | undefined;
    if (previous && d !== null && typeof d === 'object') {
      // Same spec object as last time, still in the previous table, same content: reuse.
      const hit = fromSpec.get(d);
      if (hit && previous.get(hit.key) === hit.entry && specMatches(d, hit.entry)) {
        key = hit.key;
        entry = hit.entry;
      } else {
        const rk = rawKey(d);
        const prev = rk === undefined ? undefined : previous.get(rk);
        if (prev && specMatches(d, prev)) {
          key = rk;
          entry = prev;
        }
      }
    }
    if (!entry) {
      const service = normalizeService(d);
      key = serviceKeyString(service);
      const list = d.destinations ?? [];
      const at = list.length ? packDests(list, service, pool) : -1;
      if (at >= 0) {
        const dup = findDuplicatePacked(pool.words, at, list.length);
        if (dup >= 0) {
          const x = unpack(pool.words, at + dup * PACK_WORDS);
          throw invalid(`destination ${x.address}:${x.port} appears twice in service ${key}`, { service: d, destination: list[dup] });
        }
        entry = new PackedEntry(service, pool.words, at, list.length);
      } else {
        const dests: Destination[] = new Array(list.length);
        for (let i = 0; i < list.length; i++) dests[i] = normalizeDestination(list[i], service);
        const dup = findDuplicate(dests);
        if (dup >= 0) {
          throw invalid(`destination ${dests[dup].address}:${dests[dup].port} appears twice in service ${key}`, { service: d, destination: list[dup] });
        }
        entry = { service, dests };
      }
      fromSpec.set(d, { key, entry });
    }
    if (out.has(key!)) throw invalid(`service ${key} appears twice in the desired table`, { service: d });
    out.set(key!, entry);
  }
  return out;
}

/** Index of the first destination that repeats an earlier one (same address and port), or -1. */
function findDuplicate(dests: Destination[]): number {
  const n = dests.length;
  if (n <= 16) {
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) if (dests[i].address === dests[j].address && dests[i].port === dests[j].port) return i;
    return -1;
  }
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const k = `${dests[i].address}|${dests[i].port}`;
    if (seen.has(k)) return i;
    seen.add(k);
  }
  return -1;
}

const indexCache = new WeakMap<Destination[], Map<string, Destination>>();
/** The destinations of an entry by "address|port", built when first needed. */
export function destIndex(dests: Destination[]): Map<string, Destination> {
  let m = indexCache.get(dests);
  if (!m) {
    m = new Map();
    for (const d of dests) m.set(`${d.address}|${d.port}`, d);
    indexCache.set(dests, m);
  }
  return m;
}

function rawKey(d: DesiredService): string | undefined {
  if (d == null || typeof d !== 'object') return undefined;
  if (d.fwmark !== undefined) return `fwmark|${d.family ?? 'inet'}|${d.fwmark}`;
  if (typeof d.address !== 'string') return undefined;
  return `${d.protocol}|${d.address}|${d.port}`;
}

function specFlags(spec: ServiceSpec): number {
  let flags = 0;
  for (const f of spec.schedulerFlags ?? []) {
    const bit = SchedulerFlagBits[f];
    if (bit === undefined) return -1;
    flags |= bit;
  }
  if (spec.persistenceTimeout) flags |= SvcFlag.PERSISTENT;
  if (spec.onePacket) flags |= SvcFlag.ONEPACKET;
  return flags;
}

/** Would normalising `spec` give exactly `entry`? (Never true for input that would not validate.) */
function specMatches(spec: DesiredService, entry: NormalizedEntry): boolean {
  const s = entry.service;
  // The key first: the spec object may have been edited in place since.
  if (s.fwmark ? spec.fwmark !== s.fwmark : spec.address !== s.address || spec.port !== s.port || spec.protocol !== s.protocol) return false;
  if ((spec.scheduler ?? DEFAULT_SCHEDULER) !== s.scheduler) return false;
  if (spec.family !== undefined && spec.family !== s.family) return false;
  if ((spec.persistenceTimeout ?? 0) !== s.persistenceTimeout) return false;
  if (specFlags(spec) !== s.flags) return false;
  if (spec.persistenceEngine !== s.persistenceEngine) return false;
  const defMask = s.family === 'inet6' ? 128 : '255.255.255.255';
  if ((spec.persistenceNetmask ?? defMask) !== s.persistenceNetmask) return false;
  const list = spec.destinations ?? [];
  const defPort = s.fwmark ? 0 : s.port;
  if (entry instanceof PackedEntry) return packedMatches(list, entry, defPort!);
  const dests = entry.dests;
  if (list.length !== dests.length) return false;
  for (let i = 0; i < dests.length; i++) {
    const d = dests[i];
    const x = list[i];
    if (
      x == null ||
      x.address !== d.address ||
      (x.port ?? defPort) !== d.port ||
      (x.forwardingMethod ?? 'route') !== d.forwardingMethod ||
      (x.weight ?? 1) !== d.weight ||
      (x.upperThreshold ?? 0) !== d.upperThreshold ||
      (x.lowerThreshold ?? 0) !== d.lowerThreshold
    ) {
      return false;
    }
    if (d.forwardingMethod === 'tunnel') {
      if ((x.tunnelType ?? 'ipip') !== d.tunnelType || (x.tunnelPort ?? 0) !== d.tunnelPort || (x.tunnelChecksum ?? 'nocsum') !== d.tunnelChecksum) return false;
    } else if (x.tunnelType !== undefined || x.tunnelPort !== undefined || x.tunnelChecksum !== undefined) return false;
  }
  return true;
}

/** specMatches for packed real servers, read in place. */
function packedMatches(list: readonly DestinationSpec[], entry: PackedEntry, defPort: number): boolean {
  if (list.length !== entry.count) return false;
  const w = entry.words;
  let o = entry.at;
  for (let i = 0; i < list.length; i++, o += PACK_WORDS) {
    const x = list[i];
    if (x == null || typeof x.address !== 'string') return false;
    const ip = parseIPv4(x.address);
    if (ip < 0 || (ip | 0) !== w[o]) return false;
    const pf = w[o + 1];
    if ((x.port ?? defPort) !== (pf & 0xffff) || (x.forwardingMethod ?? 'route') !== FWD_NAMES[pf >>> 16]) return false;
    if ((x.weight ?? 1) !== w[o + 2] || (x.upperThreshold ?? 0) !== w[o + 3] || (x.lowerThreshold ?? 0) !== w[o + 4]) return false;
    if (x.tunnelType !== undefined || x.tunnelPort !== undefined || x.tunnelChecksum !== undefined) return false;
  }
  return true;
}

/** True when two canonical services would program the kernel identically. */
export function sameService(a: Service, b: Service): boolean {
  if (a.scheduler !== b.scheduler || a.flags !== b.flags || (a.persistenceEngine ?? '') !== (b.persistenceEngine ?? '')) return false;
  // Timeout and granularity mean nothing to the kernel without the persistent flag.
  if (!a.persistent) return true;
  return a.persistenceTimeout === b.persistenceTimeout && a.persistenceNetmask === b.persistenceNetmask;
}

/** True when two canonical destinations would program the kernel identically. */
export function sameDestination(a: Destination, b: Destination): boolean {
  if (
    a.forwardingMethod !== b.forwardingMethod ||
    a.weight !== b.weight ||
    a.upperThreshold !== b.upperThreshold ||
    a.lowerThreshold !== b.lowerThreshold
  ) {
    return false;
  }
  if (a.forwardingMethod !== 'tunnel') return true;
  return a.tunnelType === b.tunnelType && a.tunnelPort === b.tunnelPort && a.tunnelChecksum === b.tunnelChecksum;
}
