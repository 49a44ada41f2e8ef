// The error type every lvsd package builds on: a stable `code` for programs, the
// errno and its name when the kernel said no, and the object the call was for.
import { constants } from 'node:os';

const errnoNames = new Map<number, string>();
for (const [name, num] of Object.entries(constants.errno)) {
  if (!errnoNames.has(num)) errnoNames.set(num, name);
}

/** Name of a positive errno number, e.g. 17 -> "EEXIST". */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

export interface LvsdErrorOptions {
  errno?: number;
  /** The kernel's extended-ack message, when it sent one. */
  extack?: string;
  /** The object the failed call was about (a service, a destination, a packet...). */
  object?: unknown;
  cause?: unknown;
}

export class LvsdError extends Error {
  readonly code: string;
  readonly errno?: number;
  readonly errnoName?: string;
  readonly extack?: string;
  readonly object?: unknown;

  constructor(code: string, message: string, opts: LvsdErrorOptions = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    if (opts.errno !== undefined) {
      this.errno = opts.errno;
      this.errnoName = errnoName(opts.errno);
    }
    if (opts.extack !== undefined) this.extack = opts.extack;
    if (opts.object !== undefined) this.object = opts.object;
  }
}

/** A netlink request the kernel answered with a negative errno. */
export class NetlinkError extends LvsdError {
  /** Index of the failed message within its batch. */
  readonly index: number;
  /** Offset of the offending attribute, from the kernel's extended ack. */
  readonly extackOffset?: number;

  constructor(errno: number, opts: { index?: number; extack?: string; extackOffset?: number; object?: unknown } = {}) {
    const name = errnoName(errno);
    super('LVSD_ERR_NETLINK', `netlink: ${name}${opts.extack ? `: ${opts.extack}` : ''}`, {
      errno,
      extack: opts.extack,
      object: opts.object,
    });
    this.index = opts.index ?? 0;
    if (opts.extackOffset !== undefined) this.extackOffset = opts.extackOffset;
  }
}

/** The socket's receive queue overflowed (ENOBUFS): replies or events were lost; resync by dump. */
export class NetlinkOverrunError extends LvsdError {
  constructor() {
    super('LVSD_ERR_NETLINK_OVERRUN', 'netlink receive buffer overrun (ENOBUFS): messages were lost, resync required', {
      errno: 105,
    });
  }
}
