// NetlinkSocket: one netlink socket in one network namespace. Requests go out in
// batches (many messages, one sendmsg), their acks come back together, and dumps
// are collected until NLMSG_DONE. Multicast notifications are emitted as events.
// ENOBUFS is reported as an 'overrun' event and fails what was pending; it never
// takes the process down.
import { EventEmitter } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { Writer } from './attr.js';
import { native, isErrno, type NativePoller, type RecvMessage } from './binding.js';
import {
  AF_NETLINK,
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_SNDBUF,
  SO_SNDBUFFORCE,
} from './constants.js';
import { LvsdError, NetlinkError, NetlinkOverrunError } from './errors.js';
import {
  beginMessage,
  finishMessage,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  parseAck,
  parseMessages,
  type NlMessage,
} from './nlmsg.js';
import { sockaddrNl } from './sockaddr.js';

export interface NetlinkSocketOptions {
  /** Network namespace: a path (/var/run/netns/NAME, /proc/PID/ns/net) or an open fd. */
  netns?: string | number;
  /** Receive buffer in bytes (SO_RCVBUFFORCE when permitted). Default 32 MiB. */
  rcvbuf?: number;
  /** Send buffer in bytes; bounds one batch's datagram. Default 4 MiB. */
  sndbuf?: number;
  /** Multicast groups to join (numeric ids). */
  groups?: number[];
}

/** One message to send: its type, extra flags and a body writer. */
export interface Outgoing {
  type: number;
  flags?: number;
  body?: (w: Writer) => void;
  /** Passed back on errors so they name the object the request was for. */
  object?: unknown;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface NetlinkSocketEvents {
  /** A message nobody asked for: a multicast notification. */
  message: [NlMessage];
  /** The receive queue overflowed; events were lost and pending calls failed. Resync by dump. */
  overrun: [NetlinkOverrunError];
}

interface PendingBatch {
  kind: 'batch';
  first: number;
  count: number;
  left: number;
  results: (NetlinkError | null)[];
  objects: unknown[];
  resolve: (r: (NetlinkError | null)[]) => void;
  reject: (e: Error) => void;
}

interface PendingDump {
  kind: 'dump';
  seq: number;
  messages: NlMessage[];
  interrupted: boolean;
  object: unknown;
  resolve: (r: NlMessage[]) => void;
  reject: (e: Error) => void;
}

type Pending = PendingBatch | PendingDump;

/** Largest batch in one sendmsg; keeps the acks of one batch well inside the receive buffer. */
const MAX_BATCH_MESSAGES = 1024;
const MAX_BATCH_BYTES = 512 * 1024;
/** Datagrams read synchronously right after a send before leaving the rest to the poller. */
const SYNC_DRAIN = 256;

export class NetlinkSocket extends EventEmitter<NetlinkSocketEvents> {
  readonly fd: number;
  readonly protocol: number;
  private seq = (Date.now() & 0x7fffffff) >>> 0;
  private readonly pending = new Map<number, Pending>();
  private poller: NativePoller | undefined;
  private closed = false;
  /** sendmsgAsync calls still running off the event loop: close() waits for them to close the fd. */
  private asyncSends = 0;
  private readonly writer = new Writer(64 * 1024);
  /** Messages sent and datagrams (sendmsg calls) used, for benchmarks and tests. */
  readonly counters = { messages: 0, sendmsg: 0, recvDatagrams: 0, overruns: 0 };

  private constructor(fd: number, protocol: number) {
    super();
    this.fd = fd;
    this.protocol = protocol;
  }

  static open(protocol: number, opts: NetlinkSocketOptions = {}): NetlinkSocket {
    let nsfd: number | undefined;
    let ownNs = false;
    if (typeof opts.netns === 'string') {
      nsfd = openNetns(opts.netns);
      ownNs = true;
    } else if (typeof opts.netns === 'number') nsfd = opts.netns;
    let fd: number;
    try {
      fd = native.socket(AF_NETLINK, SOCK_RAW, protocol, nsfd);
    } catch (e) {
      throw wrapErrno(e, `open netlink socket (protocol ${protocol})`, opts.netns);
    } finally {
      if (ownNs && nsfd !== undefined) closeSync(nsfd);
    }
    const sock = new NetlinkSocket(fd, protocol);
    try {
      native.bind(fd, sockaddrNl(0, 0));
      setBuf(fd, SO_RCVBUFFORCE, SO_RCVBUF, opts.rcvbuf ?? 32 << 20);
      setBuf(fd, SO_SNDBUFFORCE, SO_SNDBUF, opts.sndbuf ?? 4 << 20);
      // Both are best effort: old kernels lack them, and acks still work without.
      tryOpt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
      tryOpt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
      for (const g of opts.groups ?? []) native.setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g);
    } catch (e) {
      native.close(fd);
      throw wrapErrno(e, 'configure netlink socket');
    }
    return sock;
  }

  /** Joins a multicast group after open (e.g. a genl family's group). */
  join(group: number): void {
    native.setsockopt(this.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group);
    this.ensurePolling();
  }

  /** Starts delivering unsolicited messages as 'message' events. */
  listen(): void {
    this.ensurePolling();
  }

  private ensurePolling(): void {
    if (this.poller || this.closed) return;
    this.poller = new native.Poller(this.fd, (err, msgs) => this.onReadable(err, msgs));
    this.poller.start();
  }

  private stopPollingIfIdle(): void {
    if (this.poller && this.pending.size === 0 && this.listenerCount('message') === 0) {
      this.poller.stop();
      this.poller = undefined;
    }
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    if (this.seq === 0) this.seq = 1;
    return this.seq;
  }

  /**
   * Sends the messages as few datagrams as possible, each with NLM_F_ACK, and
   * resolves with one entry per message: null when the kernel accepted it, a
   * NetlinkError naming the errno, extended ack and object when it did not.
   * The kernel carries on after a failed message, so results are per message.
   */
  async send(msgs: readonly Outgoing[], opts: CallOptions = {}): Promise<(NetlinkError | null)[]> {
    this.assertOpen();
    opts.signal?.throwIfAborted();
    const results: (NetlinkError | null)[] = [];
    for (let i = 0; i < msgs.length; i += MAX_BATCH_MESSAGES) {
      const chunk = msgs.slice(i, i + MAX_BATCH_MESSAGES);
      const part = await this.sendChunk(chunk, opts);
      for (const r of part) results.push(r);
    }
    return results;
  }

  /** Like send() but the sendmsg runs off the event loop, for requests the kernel may block on. */
  async sendBlocking(msg: Outgoing, opts: CallOptions = {}): Promise<NetlinkError | null> {
    this.assertOpen();
    const w = this.writer;
    w.reset();
    const seq = this.nextSeq();
    const at = beginMessage(w, msg.type, NLM_F_REQUEST | NLM_F_ACK | (msg.flags ?? 0), seq);
    msg.body?.(w);
    finishMessage(w, at);
    const data = w.take();
    const done = this.expectBatch(seq, 1, [msg.object], opts);
    // Settled by a close() or an abort while the send still runs: awaited below, but
    // not yet, and an unhandled rejection in between would end the process.
    done.catch(() => {});
    this.ensurePolling();
    this.asyncSends++;
    try {
      await native.sendmsgAsync(this.fd, data);
    } catch (e) {
      this.pending.delete(seq);
      throw wrapErrno(e, 'netlink sendmsg', msg.object);
    } finally {
      // A close() meanwhile left the fd open for this send: its number must not be
      // reused by another socket while a worker thread still sends on it.
      if (--this.asyncSends === 0 && this.closed) native.close(this.fd);
    }
    this.counters.sendmsg++;
    this.counters.messages++;
    return (await done)[0];
  }

  private sendChunk(chunk: readonly Outgoing[], opts: CallOptions): Promise<(NetlinkError | null)[]> {
    const w = this.writer;
    const objects: unknown[] = [];
    const datagrams: { data: Buffer; first: number; count: number }[] = [];
    w.reset();
    let first = 0;
    let count = 0;
    const flush = () => {
      if (count === 0) return;
      datagrams.push({ data: w.take(), first, count });
      w.reset();
      count = 0;
    };
    for (const m of chunk) {
      const seq = this.nextSeq();
      if (count === 0) first = seq;
      const at = beginMessage(w, m.type, NLM_F_REQUEST | NLM_F_ACK | (m.flags ?? 0), seq);
      m.body?.(w);
      finishMessage(w, at);
      objects.push(m.object);
      count++;
      if (w.off >= MAX_BATCH_BYTES) flush();
    }
    flush();
    const all = datagrams.map((d, i) =>
      this.expectBatch(d.first, d.count, objects.slice(this.offsetOf(datagrams, i), this.offsetOf(datagrams, i) + d.count), opts),
    );
    for (const d of datagrams) {
      try {
        native.sendmsg(this.fd, d.data);
      } catch (e) {
        const err = wrapErrno(e, 'netlink sendmsg');
        for (const x of datagrams) this.failPending(x.first, err);
        throw err;
      }
      this.counters.sendmsg++;
      this.counters.messages += d.count;
      this.drainNow();
    }
    if (this.pending.size) this.ensurePolling();
    return Promise.all(all).then((parts) => parts.flat());
  }

  private offsetOf(datagrams: { count: number }[], i: number): number {
    let n = 0;
    for (let k = 0; k < i; k++) n += datagrams[k].count;
    return n;
  }

  private expectBatch(first: number, count: number, objects: unknown[], opts: CallOptions): Promise<(NetlinkError | null)[]> {
    return new Promise((resolve, reject) => {
      const p: PendingBatch = {
        kind: 'batch',
        first,
        count,
        left: count,
        results: new Array(count).fill(null),
        objects,
        resolve,
        reject,
      };
      for (let i = 0; i < count; i++) this.pending.set((first + i) >>> 0, p);
      this.watchAbort(opts.signal, () => {
        for (let i = 0; i < count; i++) this.pending.delete((first + i) >>> 0);
      }, reject);
    });
  }

  /** Runs a dump request and resolves with every message of the reply. */
  dump(msg: Outgoing, opts: CallOptions = {}): Promise<NlMessage[]> {
    return this.exchange(msg, NLM_F_DUMP, opts);
  }

  /** Sends one request and resolves with the messages the kernel answered before its ack. */
  request(msg: Outgoing, opts: CallOptions = {}): Promise<NlMessage[]> {
    return this.exchange(msg, 0, opts);
  }

  private async exchange(msg: Outgoing, extraFlags: number, opts: CallOptions): Promise<NlMessage[]> {
    this.assertOpen();
    opts.signal?.throwIfAborted();
    const w = this.writer;
    w.reset();
    const seq = this.nextSeq();
    const at = beginMessage(w, msg.type, NLM_F_REQUEST | extraFlags | NLM_F_ACK | (msg.flags ?? 0), seq);
    msg.body?.(w);
    finishMessage(w, at);
    const data = w.take();
    const done = new Promise<NlMessage[]>((resolve, reject) => {
      this.pending.set(seq, { kind: 'dump', seq, messages: [], interrupted: false, object: msg.object, resolve, reject });
      this.watchAbort(opts.signal, () => this.pending.delete(seq), reject);
    });
    try {
      native.sendmsg(this.fd, data);
    } catch (e) {
      const err = wrapErrno(e, 'netlink sendmsg', msg.object);
      this.failPending(seq, err);
      throw err;
    }
    this.counters.sendmsg++;
    this.counters.messages++;
    this.drainNow();
    if (this.pending.size) this.ensurePolling();
    return done;
  }

  private watchAbort(signal: AbortSignal | undefined, forget: () => void, reject: (e: Error) => void): void {
    if (!signal) return;
    signal.addEventListener(
      'abort',
      () => {
        forget();
        reject(signal.reason instanceof Error ? signal.reason : new LvsdError('LVSD_ERR_ABORTED', 'aborted'));
      },
      { once: true },
    );
  }

  /** Reads what the kernel already queued, so a batch's acks are handled without a poll round trip. */
  private drainNow(): void {
    for (let round = 0; round < SYNC_DRAIN && this.pending.size; round++) {
      let msgs: RecvMessage[];
      try {
        msgs = native.recvmsg(this.fd, 64);
      } catch (e) {
        this.onReadable(e as never, []);
        return;
      }
      if (msgs.length === 0) return;
      this.onReadable(null, msgs);
    }
  }

  private onReadable(err: { code?: string } | null, msgs: RecvMessage[]): void {
    for (const m of msgs) this.onDatagram(m.data);
    if (err && err.code === 'ENOBUFS') {
      this.counters.overruns++;
      const e = new NetlinkOverrunError();
      for (const seq of [...this.pending.keys()]) this.failPending(seq, e);
      this.emit('overrun', e);
    }
    this.stopPollingIfIdle();
  }

  private onDatagram(data: Buffer): void {
    this.counters.recvDatagrams++;
    let parsed: NlMessage[];
    try {
      parsed = parseMessages(data);
    } catch {
      return; // a malformed datagram from the kernel: nothing sane to attribute it to
    }
    for (const m of parsed) {
      const p = this.pending.get(m.seq);
      if (!p) {
        if (m.type !== NLMSG_NOOP && m.type !== NLMSG_ERROR && m.type !== NLMSG_DONE) this.emit('message', m);
        continue;
      }
      // A reply that does not decode fails its own request with the typed error;
      // thrown from here it would escape the poller and leave the request hanging.
      try {
        if (p.kind === 'batch') this.onBatchReply(p, m);
        else this.onDumpReply(p, m);
      } catch (e) {
        this.failPending(m.seq, asDecodeError(e));
      }
    }
  }

  private onBatchReply(p: PendingBatch, m: NlMessage): void {
    if (m.type !== NLMSG_ERROR) return; // echoes are not requested
    const ack = parseAck(m);
    const i = (m.seq - p.first) >>> 0;
    if (ack.errno !== 0) {
      p.results[i] = new NetlinkError(ack.errno, {
        index: i,
        extack: ack.extack,
        extackOffset: ack.extackOffset,
        object: p.objects[i],
      });
    }
    this.pending.delete(m.seq);
    if (--p.left === 0) p.resolve(p.results);
  }

  private onDumpReply(p: PendingDump, m: NlMessage): void {
    if (m.flags & NLM_F_DUMP_INTR) p.interrupted = true;
    if (m.type === NLMSG_DONE) {
      this.pending.delete(p.seq);
      if (p.interrupted) {
        p.reject(new LvsdError('LVSD_ERR_DUMP_INTERRUPTED', 'netlink dump was interrupted by a concurrent change; retry', { object: p.object }));
      } else p.resolve(p.messages);
      return;
    }
    if (m.type === NLMSG_ERROR) {
      const ack = parseAck(m);
      this.pending.delete(p.seq);
      if (ack.errno === 0) p.resolve(p.messages);
      else p.reject(new NetlinkError(ack.errno, { extack: ack.extack, extackOffset: ack.extackOffset, object: p.object }));
      return;
    }
    if (m.type === NLMSG_OVERRUN) return;
    p.messages.push(m);
  }

  private failPending(seq: number, err: Error): void {
    const p = this.pending.get(seq);
    if (!p) return;
    if (p.kind === 'batch') {
      for (let i = 0; i < p.count; i++) this.pending.delete((p.first + i) >>> 0);
    } else this.pending.delete(seq);
    p.reject(err);
  }

  private assertOpen(): void {
    if (this.closed) throw new LvsdError('LVSD_ERR_CLOSED', 'netlink socket is closed');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller?.stop();
    this.poller = undefined;
    const err = new LvsdError('LVSD_ERR_CLOSED', 'netlink socket closed with requests pending');
    for (const seq of [...this.pending.keys()]) this.failPending(seq, err);
    if (this.asyncSends === 0) native.close(this.fd); // else the last async send closes it
  }
}

function setBuf(fd: number, force: number, plain: number, size: number): void {
  try {
    native.setsockopt(fd, SOL_SOCKET, force, size);
  } catch {
    native.setsockopt(fd, SOL_SOCKET, plain, size); // without CAP_NET_ADMIN: capped by rmem_max
  }
}

function tryOpt(fd: number, level: number, name: number, v: number): void {
  try {
    native.setsockopt(fd, level, name, v);
  } catch {
    /* optional feature */
  }
}

/** Turns an errno exception from the addon into an LvsdError with the errno kept. */
export function wrapErrno(e: unknown, what: string, object?: unknown): LvsdError {
  if (isErrno(e)) {
    const code = e.code === 'EPERM' || e.code === 'EACCES' ? 'LVSD_ERR_PERMISSION' : 'LVSD_ERR_SYSCALL';
    return new LvsdError(code, `${what}: ${e.message}`, { errno: e.errno, object, cause: e });
  }
  if (e instanceof LvsdError) return e;
  return new LvsdError('LVSD_ERR_SYSCALL', `${what}: ${String(e)}`, { object, cause: e });
}

/**
 * Opens a network namespace file. A path that does not exist (a netns deleted
 * under us) is an LvsdError with the positive errno like any other failed call,
 * not a raw fs error with a negative one.
 */
export function openNetns(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    const errno = isErrno(e) ? Math.abs(e.errno) : undefined;
    const denied = errno === 1 || errno === 13; // EPERM, EACCES
    throw new LvsdError(denied ? 'LVSD_ERR_PERMISSION' : 'LVSD_ERR_SYSCALL', `open network namespace ${path}: ${String(e)}`, {
      errno,
      object: path,
      cause: e,
    });
  }
}

function asDecodeError(e: unknown): LvsdError {
  if (e instanceof LvsdError) return e;
  return new LvsdError('LVSD_ERR_NETLINK_DECODE', e instanceof Error ? e.message : String(e), { cause: e });
}
