// Loads the compiled addon and gives its functions types. Nothing else lives here.
import { createRequire } from 'node:module';

export interface RecvMessage {
  data: Buffer;
  /** Raw sockaddr of the sender (decode with sockaddr.ts). */
  addr?: Buffer;
  /** Raw ancillary data (decode with cmsg.ts). */
  control?: Buffer;
  flags: number;
  truncated?: boolean;
}

/** An Error carrying the errno of the failed system call. */
export interface ErrnoException extends Error {
  errno: number;
  code: string;
  syscall: string;
}

export interface NativePoller {
  start(): void;
  stop(): void;
}

export interface NativePeriodicSender {
  update(data: Buffer, intervalUs?: number): void;
  stop(): void;
  /** rtPriority: the SCHED_FIFO priority in effect (0: none); rtErrno: why it could not be set. */
  stats(): { sent: number; errors: number; rtPriority: number; rtErrno: number };
}

export interface NativeBinding {
  socket(domain: number, type: number, protocol: number, netnsFd?: number): number;
  close(fd: number): void;
  setsockopt(fd: number, level: number, name: number, value: number | Buffer): void;
  getsockopt(fd: number, level: number, name: number, length: number): Buffer;
  bind(fd: number, addr: Buffer): void;
  connect(fd: number, addr: Buffer): boolean;
  getsockname(fd: number): Buffer;
  sendmsg(fd: number, data: Buffer | Buffer[], addr?: Buffer, control?: Buffer): number;
  sendmsgAsync(fd: number, data: Buffer | Buffer[], addr?: Buffer): Promise<number>;
  recvmsg(fd: number, max?: number): RecvMessage[];
  ifNameToIndex(name: string): number;
  ifIndexToName(index: number): string;
  Poller: new (fd: number, cb: (err: ErrnoException | null, msgs: RecvMessage[]) => void) => NativePoller;
  PeriodicSender: new (
    fd: number,
    data: Buffer,
    addrs: Buffer[],
    intervalUs: number,
    control?: Buffer,
    rtPriority?: number,
  ) => NativePeriodicSender;
}

const require = createRequire(import.meta.url);
export const native: NativeBinding = require('../build/Release/lvsd_native.node');

export function isErrno(e: unknown): e is ErrnoException {
  return e instanceof Error && typeof (e as ErrnoException).errno === 'number';
}
