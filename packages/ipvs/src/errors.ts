// IpvsError: one stable code per way an IPVS call can fail, with the errno, the
// kernel's extended-ack text and the object the call was about.
import { LvsdError, errnoName, type LvsdErrorOptions } from '@lvsd/native';
import { Cmd } from './abi.js';

export type IpvsErrorCode =
  /** Rejected before anything was sent, or the kernel answered EINVAL/ERANGE/EAFNOSUPPORT. */
  | 'LVSD_ERR_IPVS_INVALID'
  /** The service or destination already exists (EEXIST). */
  | 'LVSD_ERR_IPVS_EXISTS'
  /** The service (ESRCH) or destination (ENOENT) does not exist. */
  | 'LVSD_ERR_IPVS_NOT_FOUND'
  /** The scheduler or persistence engine module is missing (ENOENT when adding or editing a service). */
  | 'LVSD_ERR_IPVS_SCHEDULER'
  /** The IPVS generic netlink family is not registered: the ip_vs module is not loaded. */
  | 'LVSD_ERR_IPVS_UNAVAILABLE'
  /** Missing CAP_NET_ADMIN in the socket's network namespace (EPERM). */
  | 'LVSD_ERR_PERMISSION'
  /** Some operations of a batch failed; see `errors`. */
  | 'LVSD_ERR_IPVS_APPLY'
  /** Any other errno from the kernel. */
  | 'LVSD_ERR_IPVS_KERNEL';

export class IpvsError extends LvsdError {
  declare readonly code: IpvsErrorCode;
  constructor(code: IpvsErrorCode, message: string, opts: LvsdErrorOptions = {}) {
    super(code, message, opts);
  }
}

/** A batch (applyBatch / IpvsTable.apply) in which some operations failed. */
export class IpvsApplyError extends IpvsError {
  /** One error per failed operation, in batch order. */
  readonly errors: IpvsError[];
  constructor(errors: IpvsError[], total: number) {
    super('LVSD_ERR_IPVS_APPLY', `${errors.length} of ${total} IPVS operations failed; first: ${errors[0]?.message}`, {
      errno: errors[0]?.errno,
      object: errors[0]?.object,
    });
    this.errors = errors;
  }
}

const ENOENT = 2;
const ESRCH = 3;
const EPERM = 1;
const EACCES = 13;
const EEXIST = 17;
const EINVAL = 22;
const ERANGE = 34;
const EAFNOSUPPORT = 97;

const verb: Record<number, string> = {
  [Cmd.NEW_SERVICE]: 'add service',
  [Cmd.SET_SERVICE]: 'edit service',
  [Cmd.DEL_SERVICE]: 'delete service',
  [Cmd.GET_SERVICE]: 'get service',
  [Cmd.NEW_DEST]: 'add destination',
  [Cmd.SET_DEST]: 'edit destination',
  [Cmd.DEL_DEST]: 'delete destination',
  [Cmd.GET_DEST]: 'list destinations',
  [Cmd.NEW_DAEMON]: 'start sync daemon',
  [Cmd.DEL_DAEMON]: 'stop sync daemon',
  [Cmd.GET_DAEMON]: 'list sync daemons',
  [Cmd.SET_CONFIG]: 'set timeouts',
  [Cmd.GET_CONFIG]: 'get timeouts',
  [Cmd.GET_INFO]: 'get info',
  [Cmd.ZERO]: 'zero counters',
  [Cmd.FLUSH]: 'flush',
};

export function describeObject(object: unknown): string {
  if (!object || typeof object !== 'object') return '';
  const o = object as { service?: Record<string, unknown>; destination?: Record<string, unknown> };
  const s = o.service;
  const parts: string[] = [];
  if (s) {
    if (s.fwmark) parts.push(`fwmark ${s.fwmark}${s.family === 'inet6' ? ' (inet6)' : ''}`);
    else if (s.address !== undefined) parts.push(`${s.protocol} ${fmtHostPort(String(s.address), Number(s.port))}`);
  }
  const d = o.destination;
  if (d && d.address !== undefined) parts.push(`-> ${fmtHostPort(String(d.address), Number(d.port))}`);
  return parts.join(' ');
}

function fmtHostPort(a: string, p: number): string {
  return a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`;
}

/**
 * Turns a kernel refusal (errno, extack) of command `cmd` about `object` into an
 * IpvsError. The errno meanings are IPVS's: ESRCH is "no such service", ENOENT on
 * a destination command is "no such destination" and on a service add/edit is a
 * scheduler or persistence engine the kernel could not load.
 */
export function mapKernelError(errno: number, cmd: number, object: unknown, extack?: string, cause?: unknown): IpvsError {
  const what = `${verb[cmd] ?? `IPVS command ${cmd}`}${describeObject(object) ? ` ${describeObject(object)}` : ''}`;
  const opts: LvsdErrorOptions = { errno, extack, object, cause };
  const tail = extack ? `: ${extack}` : '';
  switch (errno) {
    case EEXIST:
      return new IpvsError('LVSD_ERR_IPVS_EXISTS', `${what}: already exists${tail}`, opts);
    case ESRCH:
      return new IpvsError('LVSD_ERR_IPVS_NOT_FOUND', `${what}: no such service${tail}`, opts);
    case ENOENT:
      if (cmd === Cmd.NEW_SERVICE || cmd === Cmd.SET_SERVICE) {
        const o = object as { service?: { scheduler?: string; persistenceEngine?: string } } | undefined;
        const sched = o?.service?.scheduler;
        const pe = o?.service?.persistenceEngine;
        return new IpvsError(
          'LVSD_ERR_IPVS_SCHEDULER',
          `${what}: the kernel has no scheduler module ip_vs_${sched ?? '?'}${pe ? ` or persistence engine ip_vs_pe_${pe}` : ''}${tail}`,
          opts,
        );
      }
      return new IpvsError('LVSD_ERR_IPVS_NOT_FOUND', `${what}: no such destination${tail}`, opts);
    case EPERM:
    case EACCES:
      return new IpvsError('LVSD_ERR_PERMISSION', `${what}: permission denied (CAP_NET_ADMIN is required)${tail}`, opts);
    case EINVAL:
    case ERANGE:
    case EAFNOSUPPORT:
      return new IpvsError('LVSD_ERR_IPVS_INVALID', `${what}: the kernel rejected it (${errnoText(errno)})${tail}`, opts);
    default:
      return new IpvsError('LVSD_ERR_IPVS_KERNEL', `${what}: ${errnoText(errno)}${tail}`, opts);
  }
}

function errnoText(errno: number): string {
  return errnoName(errno);
}

export function invalid(message: string, object?: unknown): IpvsError {
  return new IpvsError('LVSD_ERR_IPVS_INVALID', message, { object });
}
