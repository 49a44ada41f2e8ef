// Effective options of a checker: keepalived's inheritance (virtual server ->
// real server -> checker), its per-checker defaults, and validation. Pure.
import { isIP } from 'node:net';
import { splitCommandLine as splitLine } from '@lvsd/native';
import { HealthConfigError } from './errors.js';
import type {
  CheckerOptions,
  CheckerType,
  HealthTarget,
  HttpCheckOptions,
  InheritableOptions,
  StatusCodeSpec,
  UdpCheckOptions,
  UrlOptions,
  VirtualServerOptions,
} from './types.js';

/** keepalived's default delay_loop (seconds). */
export const DEFAULT_DELAY_LOOP = 60;
export const DEFAULT_CONNECT_TIMEOUT = 5;

/** Timing and state options after inheritance, in milliseconds. */
export interface EffectiveTiming {
  alpha: boolean;
  retry: number;
  rise: number;
  delayLoop: number;
  delayBeforeRetry: number;
  warmup: number;
  /** Per-attempt deadline: connect_timeout, or misc_timeout for MISC_CHECK. */
  timeout: number;
  inhibitOnFailure: boolean;
  omega: boolean;
}

export interface EffectiveConnection {
  ip: string;
  port: number;
  family: 4 | 6;
  bindto?: string;
  bind_if?: string;
  bind_port?: number;
  fwmark?: number;
  netns?: string;
}

export interface ResolvedChecker {
  type: CheckerType;
  options: CheckerOptions;
  timing: EffectiveTiming;
  /** Absent for MISC_CHECK and FILE_CHECK. */
  connection?: EffectiveConnection;
  /** HTTP_GET / SSL_GET: checker, then real server, then virtual server virtualhost. */
  virtualhost?: string;
}

const DEFAULT_RETRY: Partial<Record<CheckerType, number>> = { DNS_CHECK: 3, MISC_CHECK: 0, FILE_CHECK: 0 };

function defaultDelayBeforeRetry(type: CheckerType, delayLoop: number): number {
  if (type === 'HTTP_GET' || type === 'SSL_GET') return 3;
  if (type === 'DNS_CHECK') return delayLoop;
  return 1;
}

const first = <T>(...v: (T | undefined)[]): T | undefined => v.find((x) => x !== undefined);
const retryOf = (o: { retry?: number; nb_get_retry?: number } | undefined) => first(o?.retry, o?.nb_get_retry);

/**
 * keepalived's inheritance, as a pure function: a checker takes each option from
 * itself, else its real server, else its virtual server, else the default for its
 * type (retry 1, DNS 3, MISC 0; delay_before_retry 1 s, HTTP/SSL 3 s, DNS
 * delay_loop; delay_loop 60 s; warmup = delay_loop; connect_timeout 5 s).
 */
export function resolveCheckerOptions(
  vs: VirtualServerOptions | undefined,
  rs: (InheritableOptions & { address: string; port?: number }) | undefined,
  checker: CheckerOptions,
  where = 'checker',
): ResolvedChecker {
  const type = checker.checker;
  const c = checker as CheckerOptions & Partial<Record<string, unknown>>;
  const own = c as {
    alpha?: boolean;
    retry?: number;
    nb_get_retry?: number;
    delay_before_retry?: number;
    delay_loop?: number;
    warmup?: number;
    connect_timeout?: number;
    rise?: number;
  };
  const isFile = type === 'FILE_CHECK';
  const delayLoop = sec(first(isFile ? undefined : own.delay_loop, rs?.delay_loop, vs?.delay_loop) ?? DEFAULT_DELAY_LOOP, `${where}: delay_loop`, true);
  const retry = first(isFile ? undefined : retryOf(own), retryOf(rs), retryOf(vs)) ?? DEFAULT_RETRY[type] ?? 1;
  if (!Number.isInteger(retry) || retry < 0) throw new HealthConfigError(`${where}: retry must be an integer >= 0, got ${retry}`);
  const dbr = first(isFile ? undefined : own.delay_before_retry, rs?.delay_before_retry, vs?.delay_before_retry) ?? defaultDelayBeforeRetry(type, delayLoop / 1000);
  const warmup = first(isFile ? undefined : own.warmup, rs?.warmup, vs?.warmup);
  const connectTimeout = first(own.connect_timeout, rs?.connect_timeout, vs?.connect_timeout) ?? DEFAULT_CONNECT_TIMEOUT;
  const rise = own.rise ?? 1;
  if (!Number.isInteger(rise) || rise < 1) throw new HealthConfigError(`${where}: rise must be an integer >= 1, got ${rise}`);
  let timeout = sec(connectTimeout, `${where}: connect_timeout`, true);
  if (type === 'MISC_CHECK') {
    const mt = checker.misc_timeout;
    timeout = mt !== undefined && mt > 0 ? sec(mt, `${where}: misc_timeout`, true) : delayLoop;
  }
  const timing: EffectiveTiming = {
    alpha: first(isFile ? undefined : own.alpha, rs?.alpha, vs?.alpha) ?? false,
    retry: isFile ? 0 : retry,
    rise: isFile ? 1 : rise,
    delayLoop,
    delayBeforeRetry: sec(dbr, `${where}: delay_before_retry`),
    warmup: warmup === undefined ? delayLoop : sec(warmup, `${where}: warmup`),
    timeout,
    inhibitOnFailure: first(rs?.inhibit_on_failure, vs?.inhibit_on_failure) ?? false,
    omega: vs?.omega ?? false,
  };
  const out: ResolvedChecker = { type, options: checker, timing };
  if (type !== 'MISC_CHECK' && type !== 'FILE_CHECK') {
    const co = checker;
    const ip = co.connect_ip ?? rs?.address;
    if (!ip || !isIP(ip)) throw new HealthConfigError(`${where}: connect_ip / real server address ${JSON.stringify(ip)} is not an IP address`);
    const port = co.connect_port ?? rs?.port ?? 0;
    if (type !== 'PING_CHECK' && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      throw new HealthConfigError(`${where}: connect_port ${port} is not a port (1-65535)`);
    }
    const family = isIP(ip) as 4 | 6;
    if (co.bindto !== undefined && isIP(co.bindto) !== family) {
      throw new HealthConfigError(`${where}: bindto ${co.bindto} is not an IPv${family} address like ${ip}`);
    }
    if (co.bind_port !== undefined && (!Number.isInteger(co.bind_port) || co.bind_port < 0 || co.bind_port > 65535)) {
      throw new HealthConfigError(`${where}: bind_port ${co.bind_port} is not a port`);
    }
    if (co.fwmark !== undefined && (!Number.isInteger(co.fwmark) || co.fwmark < 0 || co.fwmark > 0xffffffff)) {
      throw new HealthConfigError(`${where}: fwmark ${co.fwmark} is not a 32-bit unsigned integer`);
    }
    out.connection = { ip, port, family, bindto: co.bindto, bind_if: co.bind_if, bind_port: co.bind_port, fwmark: co.fwmark, netns: co.netns };
  }
  if (type === 'HTTP_GET' || type === 'SSL_GET') {
    validateHttp(checker, where);
    out.virtualhost = first(checker.virtualhost, rs?.virtualhost, vs?.virtualhost);
  } else if (type === 'MISC_CHECK') {
    const argv = typeof checker.misc_path === 'string' ? splitCommandLine(checker.misc_path) : checker.misc_path;
    if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string') || !argv[0]) {
      throw new HealthConfigError(`${where}: misc_path must be a non-empty command`);
    }
  } else if (type === 'FILE_CHECK') {
    if (typeof checker.file !== 'string' || !checker.file) throw new HealthConfigError(`${where}: FILE_CHECK needs a file`);
  } else if (type === 'UDP_CHECK') {
    validateUdp(checker, where);
  } else if (type === 'DNS_CHECK') {
    if (checker.type !== undefined && !['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'].includes(checker.type)) {
      throw new HealthConfigError(`${where}: DNS_CHECK type ${checker.type} is not one of A NS CNAME SOA MX TXT AAAA`);
    }
  }
  return out;
}

/** Resolves every checker of a target (throws HealthConfigError naming the first bad one). */
export function resolveTarget(t: HealthTarget): ResolvedChecker[] {
  if (!t || typeof t.id !== 'string' || !t.id) throw new HealthConfigError('target needs a non-empty id', t);
  if (!Array.isArray(t.checkers)) throw new HealthConfigError(`${t.id}: checkers must be an array`, t);
  if (t.weight !== undefined && (!Number.isInteger(t.weight) || t.weight < 0)) {
    throw new HealthConfigError(`${t.id}: weight must be an integer >= 0`, t);
  }
  return t.checkers.map((c, i) => {
    if (!c || typeof c !== 'object') throw new HealthConfigError(`${t.id}: checker ${i} is not an object`, t);
    const where = `${t.id}: ${c.checker ?? '?'} #${i}`;
    if (!KNOWN.has(c.checker)) throw new HealthConfigError(`${where}: unknown checker type ${JSON.stringify(c.checker)}`, t);
    return resolveCheckerOptions(t.virtualServer, { ...t.realServer, address: t.address, port: t.port }, c, where);
  });
}

const KNOWN = new Set<string>(['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'PING_CHECK', 'UDP_CHECK', 'DNS_CHECK', 'SMTP_CHECK', 'MISC_CHECK', 'FILE_CHECK']);

function sec(v: number, what: string, positive = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (positive && v === 0)) {
    throw new HealthConfigError(`${what} must be a number of seconds ${positive ? '> 0' : '>= 0'}, got ${v}`);
  }
  return v * 1000;
}

/** keepalived's `status_code` list as [low, high] ranges; default 200-299. */
export function parseStatusCodes(spec: UrlOptions['status_code'], where = 'status_code'): [number, number][] {
  if (spec === undefined) return [[200, 299]];
  // A top-level array is a list of entries (so [200, 302] is two codes); a
  // range is a string "200-299" or a [low, high] tuple inside the list.
  const list: StatusCodeSpec[] = Array.isArray(spec) ? (spec as StatusCodeSpec[]) : [spec];
  const out: [number, number][] = [];
  for (const s of list) {
    let lo: number;
    let hi: number;
    if (typeof s === 'number') lo = hi = s;
    else if (Array.isArray(s)) [lo, hi] = s;
    else {
      const m = /^\s*(\d{3})\s*(?:-\s*(\d{3}))?\s*$/.exec(String(s));
      if (!m) throw new HealthConfigError(`${where}: ${JSON.stringify(s)} is not a code or a range like 200-299`);
      lo = Number(m[1]);
      hi = m[2] ? Number(m[2]) : lo;
    }
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 100 || hi > 599 || lo > hi) {
      throw new HealthConfigError(`${where}: ${JSON.stringify(s)} is not a status code range within 100-599`);
    }
    out.push([lo, hi]);
  }
  return out;
}

function validateHttp(c: HttpCheckOptions, where: string): void {
  if (!Array.isArray(c.url) || c.url.length === 0) throw new HealthConfigError(`${where}: needs at least one url block`);
  if (c.http_protocol !== undefined && !['1.0', '1.0C', '1.1'].includes(c.http_protocol)) {
    throw new HealthConfigError(`${where}: http_protocol must be 1.0, 1.0C or 1.1`);
  }
  c.url.forEach((u, i) => {
    const w = `${where} url #${i}`;
    if (!u || typeof u.path !== 'string' || !u.path.startsWith('/')) throw new HealthConfigError(`${w}: path must start with /`);
    if (u.digest !== undefined && !/^[0-9a-fA-F]{32}$/.test(u.digest)) throw new HealthConfigError(`${w}: digest must be 32 hex digits (MD5)`);
    parseStatusCodes(u.status_code, `${w} status_code`);
    if (u.regex !== undefined) compileRegex(u, w);
  });
}

/** keepalived's regex (pcre2) as a JS RegExp; options mapped where JS has them. */
export function compileRegex(u: UrlOptions, where = 'regex'): RegExp {
  const opts = typeof u.regex_options === 'string' ? u.regex_options.split(/\s+/).filter(Boolean) : (u.regex_options ?? []);
  let flags = '';
  for (const o of opts) {
    if (o === 'caseless') flags += 'i';
    else if (o === 'multiline') flags += 'm';
    else if (o === 'dotall') flags += 's';
    else if (o === 'utf' || o === 'ucp') flags += flags.includes('u') ? '' : 'u';
    else throw new HealthConfigError(`${where}: regex_options ${o} has no JavaScript equivalent`);
  }
  try {
    return new RegExp(u.regex ?? '', flags);
  } catch (e) {
    throw new HealthConfigError(`${where}: invalid regex ${JSON.stringify(u.regex)}: ${(e as Error).message}`);
  }
}

function validateUdp(c: UdpCheckOptions, where: string): void {
  if (c.payload !== undefined) parseHex(c.payload, false, `${where}: payload`);
  if (typeof c.require_reply === 'string') parseHex(c.require_reply, true, `${where}: require_reply`);
  for (const k of ['min_reply_length', 'max_reply_length'] as const) {
    const v = c[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new HealthConfigError(`${where}: ${k} must be an integer >= 0`);
  }
}

/**
 * keepalived's free-format hex: whitespace separates groups, read two digits at
 * a time; a lone last digit is a byte of its own ("Ab12f 3" = AB 12 0F 03). With `wildcards`, x/X is a
 * nibble that matches anything: the result carries a mask.
 */
export function parseHex(s: string, wildcards: boolean, where = 'hex'): { bytes: Buffer; mask: Buffer } {
  const bytes: number[] = [];
  const mask: number[] = [];
  for (const group of s.trim().split(/\s+/).filter(Boolean)) {
    const re = wildcards ? /^[0-9a-fA-FxX]+$/ : /^[0-9a-fA-F]+$/;
    if (!re.test(group)) throw new HealthConfigError(`${where}: ${JSON.stringify(group)} is not hex`);
    for (let i = 0; i < group.length; i += 2) {
      let b = 0;
      let m = 0;
      const pair = group.slice(i, i + 2);
      for (const ch of pair.length === 1 ? `0${pair}` : pair) {
        b <<= 4;
        m <<= 4;
        if (ch !== 'x' && ch !== 'X') {
          b |= parseInt(ch, 16);
          m |= 0xf;
        }
      }
      bytes.push(b);
      mask.push(m);
    }
  }
  return { bytes: Buffer.from(bytes), mask: Buffer.from(mask) };
}

/** misc_path as argv (see @lvsd/native splitCommandLine), a bad one as a HealthConfigError. */
export function splitCommandLine(s: string): string[] {
  try {
    return splitLine(s);
  } catch (e) {
    throw new HealthConfigError(`misc_path: ${(e as Error).message}`);
  }
}

/** A stable key for diffing: same key = same checker, its state is kept across updates. */
export function checkerKey(r: ResolvedChecker): string {
  return JSON.stringify([r.options, r.timing, r.connection ?? null, r.virtualhost ?? null]);
}
