// RawSocket: a datagram-style socket the Node runtime does not offer (raw IP for
// VRRP protocol 112, ICMP echo, AF_PACKET for gratuitous ARP). Messages arrive as
// events with the sender and ancillary data already decoded; the protocol above
// decides what the bytes mean.
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import { native, isErrno, type NativePeriodicSender, type NativePoller, type RecvMessage } from './binding.js';
import { parseCmsgs, type Cmsg } from './cmsg.js';
import { LvsdError } from './errors.js';
import { openNetns, wrapErrno } from './netlink.js';
import { decodeSockaddr } from './sockaddr.js';

export interface RawSocketOptions {
  /** Network namespace to create the socket in: a path or an open fd. */
  netns?: string | number;
}

export interface RawMessage {
  data: Buffer;
  /** The sender, decoded (IPv4/IPv6/packet), when the kernel gave one. */
  from: ReturnType<typeof decodeSockaddr>;
  /** Ancillary data (IP_PKTINFO, IP_TTL, IPV6_HOPLIMIT...). */
  cmsgs: Cmsg[];
  truncated: boolean;
}

export interface RawSocketEvents {
  message: [RawMessage];
  /** A receive error (ENOBUFS, ENETDOWN...); the socket keeps working. */
  error: [LvsdError];
}

export class RawSocket extends EventEmitter<RawSocketEvents> {
  readonly fd: number;
  private poller: NativePoller | undefined;
  private closed = false;
  private readonly senders = new Set<NativePeriodicSender>();

  constructor(domain: number, type: number, protocol: number, opts: RawSocketOptions = {}) {
    super();
    let nsfd: number | undefined;
    let own = false;
    if (typeof opts.netns === 'string') {
      nsfd = openNetns(opts.netns);
      own = true;
    } else nsfd = opts.netns;
    try {
      this.fd = native.socket(domain, type, protocol, nsfd);
    } catch (e) {
      throw wrapErrno(e, `socket(${domain}, ${type}, ${protocol})`, opts.netns);
    } finally {
      if (own && nsfd !== undefined) closeSync(nsfd);
    }
  }

  setOption(level: number, name: number, value: number | Buffer): void {
    this.call(() => native.setsockopt(this.fd, level, name, value), `setsockopt(${level}, ${name})`);
  }

  getOption(level: number, name: number, length: number): Buffer {
    return this.call(() => native.getsockopt(this.fd, level, name, length), `getsockopt(${level}, ${name})`);
  }

  /** The bound local address as a raw sockaddr (decode with decodeSockaddr). */
  localAddress(): Buffer {
    return this.call(() => native.getsockname(this.fd), 'getsockname');
  }

  bind(addr: Buffer): void {
    this.call(() => native.bind(this.fd, addr), 'bind');
  }

  /** Non-blocking connect; true when already connected. */
  connect(addr: Buffer): boolean {
    return this.call(() => native.connect(this.fd, addr), 'connect');
  }

  /** One sendmsg; throws an LvsdError carrying the errno. */
  send(data: Buffer | Buffer[], addr?: Buffer, control?: Buffer): number {
    return this.call(() => native.sendmsg(this.fd, data, addr, control), 'sendmsg');
  }

  /**
   * Starts a native thread that sends `data` to each address every `intervalMs`
   * until stopped, so a stalled event loop does not stop the cadence. With
   * `rtPriority` > 0 the thread asks for SCHED_FIFO at that priority (stats()
   * tell whether it got it), so a loaded machine does not delay it either.
   */
  startPeriodic(data: Buffer, addrs: Buffer[], intervalMs: number, control?: Buffer, rtPriority = 0): NativePeriodicSender {
    if (this.closed) throw new LvsdError('LVSD_ERR_CLOSED', 'socket is closed');
    if (!Number.isInteger(rtPriority) || rtPriority < 0 || rtPriority > 99)
      throw new LvsdError('LVSD_ERR_INVALID_ARG', `rtPriority must be an integer from 0 to 99, got ${rtPriority}`);
    const inner = new native.PeriodicSender(this.fd, data, addrs, periodUs(intervalMs * 1000), control, rtPriority);
    const s: NativePeriodicSender = {
      update: (d, us) => inner.update(d, us === undefined ? undefined : periodUs(us)),
      stats: () => inner.stats(),
      stop: () => {
        inner.stop();
        this.senders.delete(s);
      },
    };
    this.senders.add(s);
    return s;
  }

  /** Starts emitting 'message' events. */
  listen(): void {
    if (this.poller || this.closed) return;
    this.poller = new native.Poller(this.fd, (err, msgs) => {
      for (const m of msgs) this.emit('message', decode(m));
      if (err) this.emit('error', wrapErrno(err, 'recvmsg'));
    });
    this.poller.start();
  }

  /** Reads whatever is queued right now, without waiting for the poller. */
  drain(max = 256): RawMessage[] {
    try {
      return native.recvmsg(this.fd, max).map(decode);
    } catch (e) {
      if (isErrno(e)) this.emit('error', wrapErrno(e, 'recvmsg'));
      return [];
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.senders]) s.stop();
    this.poller?.stop();
    this.poller = undefined;
    native.close(this.fd);
  }

  private call<T>(fn: () => T, what: string): T {
    if (this.closed) throw new LvsdError('LVSD_ERR_CLOSED', `${what}: socket is closed`);
    try {
      return fn();
    } catch (e) {
      throw wrapErrno(e, what);
    }
  }
}

function decode(m: RecvMessage): RawMessage {
  return {
    data: m.data,
    from: m.addr ? decodeSockaddr(m.addr) : undefined,
    cmsgs: parseCmsgs(m.control),
    truncated: m.truncated === true,
  };
}

/**
 * The sender thread's period in microseconds. 0, a negative number or NaN would
 * have it send flat out (~10,000 packets a second on loopback); VRRP's shortest
 * interval is 10 ms, so anything under 1 ms is a caller's bug.
 */
function periodUs(us: number): number {
  if (!Number.isFinite(us) || us < 1000)
    throw new LvsdError('LVSD_ERR_INVALID_ARG', `periodic send interval must be at least 1 ms, got ${us / 1000} ms`);
  return Math.round(us);
}
