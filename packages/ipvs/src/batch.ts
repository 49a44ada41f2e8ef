// The bulk path for large batches: a generic netlink socket of its own on which
// only the last message of each datagram asks for an ack. The kernel answers
// failures regardless, and handles a datagram synchronously inside sendmsg, so a
// batch of 1,000 changes costs one sendmsg and a couple of reads instead of 1,000
// ack reads (system calls are what a large apply pays for, not encoding).
import { closeSync, openSync } from 'node:fs';
import { wordView } from './codec.js';
import { LvsdError, NetlinkError, NetlinkOverrunError, Writer, consts, native, nlmsg, sockaddrNl, wrapErrno, type NlMessage } from '@lvsd/native';

/** Messages per datagram, and a byte bound that keeps a datagram well inside the send buffer. */
export const BATCH_MESSAGES = 1000;
const BATCH_BYTES = 1 << 20;
const SNDBUF = 8 << 20;
const RCVBUF = 32 << 20;

export interface BatchFailure {
  /** Index of the failed message in the batch. */
  index: number;
  errno: number;
  extack?: string;
}

export class BatchChannel {
  readonly fd: number;
  private seq = (Date.now() & 0x3fffffff) >>> 0;
  private readonly w = new Writer(BATCH_BYTES + 64 * 1024);
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  readonly counters = { messages: 0, sendmsg: 0, recvDatagrams: 0 };

  private constructor(fd: number) {
    this.fd = fd;
  }

  static open(netns?: string | number, rcvbuf = RCVBUF): BatchChannel {
    let nsfd: number | undefined;
    if (typeof netns === 'string') nsfd = openSync(netns, 'r');
    else nsfd = netns;
    let fd: number;
    try {
      fd = native.socket(consts.AF_NETLINK, consts.SOCK_RAW, consts.NETLINK_GENERIC, nsfd);
    } catch (e) {
      throw wrapErrno(e, 'open generic netlink socket', netns);
    } finally {
      if (typeof netns === 'string' && nsfd !== undefined) closeSync(nsfd);
    }
    try {
      native.bind(fd, sockaddrNl(0, 0));
      setBuf(fd, consts.SO_SNDBUFFORCE, consts.SO_SNDBUF, SNDBUF);
      setBuf(fd, consts.SO_RCVBUFFORCE, consts.SO_RCVBUF, rcvbuf);
      tryOpt(fd, consts.SOL_NETLINK, consts.NETLINK_EXT_ACK, 1);
      tryOpt(fd, consts.SOL_NETLINK, consts.NETLINK_CAP_ACK, 1);
    } catch (e) {
      native.close(fd);
      throw wrapErrno(e, 'configure generic netlink socket');
    }
    return new BatchChannel(fd);
  }

  /**
   * Sends `count` messages of netlink type `type`, `write(w, i)` writing the body of
   * message i, in datagrams of up to BATCH_MESSAGES. Resolves with the failures
   * (empty when all succeeded). Order is kept: the kernel runs them one by one.
   */
  send(type: number, count: number, write: (w: Writer, i: number) => void, signal?: AbortSignal): Promise<BatchFailure[]> {
    return this.serial(() => this.sendNow(type, count, write, signal));
  }

  /** One call at a time: replies are read from the socket synchronously, so calls must not interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async sendNow(type: number, count: number, write: (w: Writer, i: number) => void, signal?: AbortSignal): Promise<BatchFailure[]> {
    if (this.closed) throw new LvsdError('LVSD_ERR_CLOSED', 'IPVS batch socket is closed');
    signal?.throwIfAborted();
    const failures: BatchFailure[] = [];
    let i = 0;
    while (i < count) {
      signal?.throwIfAborted();
      const w = this.w;
      w.reset();
      const first = this.nextSeq(BATCH_MESSAGES);
      let n = 0;
      let lastAt = 0;
      const typeFlags = (type | (nlmsg.NLM_F_REQUEST << 16)) >>> 0;
      while (i + n < count && n < BATCH_MESSAGES && w.off < BATCH_BYTES) {
        // struct nlmsghdr written in place (length patched after the body): this loop runs once per object.
        w.reserve(16);
        lastAt = w.off;
        const v = wordView(w.buf);
        if (v) {
          const k = lastAt >>> 2;
          v[k] = 0;
          v[k + 1] = typeFlags;
          v[k + 2] = first + n;
          v[k + 3] = 0;
        } else {
          const b = w.buf;
          b.writeUInt32LE(0, lastAt);
          b.writeUInt32LE(typeFlags, lastAt + 4);
          b.writeUInt32LE((first + n) >>> 0, lastAt + 8);
          b.writeUInt32LE(0, lastAt + 12);
        }
        w.off += 16;
        write(w, i + n);
        w.align4();
        const vv = wordView(w.buf);
        if (vv) vv[lastAt >>> 2] = w.off - lastAt;
        else w.buf.writeUInt32LE(w.off - lastAt, lastAt);
        n++;
      }
      // Only the datagram's last message asks for an ack: its arrival means all were handled.
      w.buf.writeUInt16LE(nlmsg.NLM_F_REQUEST | nlmsg.NLM_F_ACK, lastAt + 6);
      try {
        native.sendmsg(this.fd, w.buf.subarray(0, w.off));
      } catch (e) {
        throw wrapErrno(e, 'netlink sendmsg');
      }
      this.counters.sendmsg++;
      this.counters.messages += n;
      await this.collect(first, n, i, failures, signal);
      i += n;
    }
    return failures;
  }

  /**
   * Runs one dump request and returns its messages. The kernel fills the first part
   * inside sendmsg and each read triggers the next, so a small dump (one service's
   * real servers) costs one sendmsg and two reads, with no promise per dump unless
   * the kernel has not answered yet.
   */
  dump(type: number, write: (w: Writer) => void, signal?: AbortSignal): Promise<NlMessage[]> {
    return this.serial(() => this.dumpNow(type, write, signal));
  }

  private async dumpNow(type: number, write: (w: Writer) => void, signal?: AbortSignal): Promise<NlMessage[]> {
    if (this.closed) throw new LvsdError('LVSD_ERR_CLOSED', 'IPVS batch socket is closed');
    signal?.throwIfAborted();
    const w = this.w;
    w.reset();
    const seq = this.nextSeq(1);
    const at = nlmsg.beginMessage(w, type, nlmsg.NLM_F_REQUEST | nlmsg.NLM_F_DUMP, seq);
    write(w);
    nlmsg.finishMessage(w, at);
    try {
      native.sendmsg(this.fd, w.buf.subarray(0, w.off));
    } catch (e) {
      throw wrapErrno(e, 'netlink sendmsg');
    }
    this.counters.sendmsg++;
    this.counters.messages++;
    const out: NlMessage[] = [];
    let interrupted = false;
    let spins = 0;
    const deadline = Date.now() + 30_000;
    for (;;) {
      let msgs;
      try {
        msgs = native.recvmsg(this.fd, 1);
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOBUFS') throw this.overrun();
        throw wrapErrno(e, 'netlink recvmsg');
      }
      if (msgs.length === 0) {
        signal?.throwIfAborted();
        if (Date.now() > deadline) throw new LvsdError('LVSD_ERR_TIMEOUT', 'IPVS dump: no answer from the kernel within 30 s');
        await new Promise((r) => (spins++ < 100 ? setImmediate(r) : setTimeout(r, 1)));
        continue;
      }
      this.counters.recvDatagrams++;
      for (const m of nlmsg.parseMessages(msgs[0].data)) {
        if (m.seq !== seq) continue; // a stale reply from an aborted call
        if (m.flags & nlmsg.NLM_F_DUMP_INTR) interrupted = true;
        if (m.type === nlmsg.NLMSG_DONE) {
          if (interrupted) throw new LvsdError('LVSD_ERR_DUMP_INTERRUPTED', 'netlink dump was interrupted by a concurrent change; retry');
          return out;
        }
        if (m.type === nlmsg.NLMSG_ERROR) {
          const ack = nlmsg.parseAck(m);
          if (ack.errno === 0) return out;
          throw new NetlinkError(ack.errno, { extack: ack.extack, extackOffset: ack.extackOffset });
        }
        if (m.type !== nlmsg.NLMSG_NOOP && m.type !== nlmsg.NLMSG_OVERRUN) out.push(m);
      }
    }
  }

  /**
   * The kernel dropped answers (ENOBUFS). Whatever is still queued belongs to the lost
   * batch: discard it, so the caller's resync (a dump) starts on an empty socket.
   */
  private overrun(): NetlinkOverrunError {
    for (let i = 0; i < 1_000_000; i++) {
      let msgs;
      try {
        msgs = native.recvmsg(this.fd, 1024);
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOBUFS') continue; // reported again: keep draining
        break;
      }
      if (msgs.length === 0) break;
    }
    return new NetlinkOverrunError();
  }

  private nextSeq(n: number): number {
    const s = this.seq;
    this.seq = (this.seq + n) & 0x3fffffff;
    return s;
  }

  /** Reads replies until the ack of the datagram's last message; records failures. */
  private async collect(first: number, n: number, base: number, failures: BatchFailure[], signal?: AbortSignal): Promise<void> {
    const lastSeq = (first + n - 1) >>> 0;
    let spins = 0;
    const deadline = Date.now() + 30_000;
    for (;;) {
      let msgs;
      try {
        msgs = native.recvmsg(this.fd, 256);
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOBUFS') throw this.overrun();
        throw wrapErrno(e, 'netlink recvmsg');
      }
      for (const r of msgs) {
        this.counters.recvDatagrams++;
        for (const m of nlmsg.parseMessages(r.data)) {
          if (m.type !== nlmsg.NLMSG_ERROR) continue;
          const ack = nlmsg.parseAck(m);
          const idx = (ack.seq - first) >>> 0;
          if (idx >= n) continue; // a stale reply from an aborted batch
          if (ack.errno !== 0) failures.push({ index: base + idx, errno: ack.errno, ...(ack.extack ? { extack: ack.extack } : {}) });
          if (ack.seq === lastSeq) return;
        }
      }
      if (msgs.length) continue;
      // The kernel normally answers within sendmsg; yield if it has not yet.
      signal?.throwIfAborted();
      if (Date.now() > deadline) throw new LvsdError('LVSD_ERR_TIMEOUT', 'IPVS batch: no acknowledgement from the kernel within 30 s');
      await new Promise((r) => (spins++ < 100 ? setImmediate(r) : setTimeout(r, 1)));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native.close(this.fd);
  }
}

function setBuf(fd: number, force: number, plain: number, size: number): void {
  try {
    native.setsockopt(fd, consts.SOL_SOCKET, force, size);
  } catch {
    native.setsockopt(fd, consts.SOL_SOCKET, plain, size);
  }
}

function tryOpt(fd: number, level: number, name: number, v: number): void {
  try {
    native.setsockopt(fd, level, name, v);
  } catch {
    /* optional: older kernels */
  }
}
