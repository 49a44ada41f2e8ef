// The VRRP socket: raw IP protocol 112 on one interface, IPv4 or IPv6. Joins the
// multicast group, sends with TTL / hop limit 255 from the configured source
// (IP_PKTINFO / IPV6_PKTINFO on each send, so one socket serves both ways), and
// hands every datagram up with its ingress interface, destination and hop limit.
// While master, adverts go out from a native thread (RawSocket.startPeriodic) so
// a stalled event loop does not silence us.
import { EventEmitter } from 'node:events';
import {
  buildCmsgs,
  consts,
  ipToBytes,
  RawSocket,
  sockaddrIn,
  type LvsdError,
  type NativePeriodicSender,
  type RawMessage,
} from '@lvsd/native';
import { IPPROTO_VRRP, VRRP_TTL, type IpFamily } from './packet.js';
import type { Datagram } from './receive.js';

export const VRRP_GROUP4 = '224.0.0.18';
export const VRRP_GROUP6 = 'ff02::12';

export interface TransportOptions {
  family: IpFamily;
  ifindex: number;
  /** Source address of our adverts. */
  src: string;
  /** Multicast group (default 224.0.0.18 / ff02::12); ignored with unicast peers. */
  group?: string;
  unicastPeers?: string[];
  netns?: string;
  /** SCHED_FIFO priority for the periodic sender threads (0: normal scheduling). */
  rtPriority?: number;
}

export interface TransportEvents {
  datagram: [Datagram];
  error: [LvsdError];
}

export class VrrpTransport extends EventEmitter<TransportEvents> {
  readonly destinations: string[];
  private readonly sock: RawSocket;
  private readonly control: Buffer;
  private readonly addrs: Map<string, Buffer>;
  private periodic: NativePeriodicSender[] = [];

  constructor(private readonly opts: TransportOptions) {
    super();
    const v4 = opts.family === 4;
    const group = opts.group ?? (v4 ? VRRP_GROUP4 : VRRP_GROUP6);
    this.destinations = opts.unicastPeers?.length ? [...opts.unicastPeers] : [group];
    this.addrs = new Map(this.destinations.map((d) => [d, sockaddrIn(d, 0, v4 ? 0 : opts.ifindex)]));
    this.sock = new RawSocket(v4 ? consts.AF_INET : consts.AF_INET6, consts.SOCK_RAW, IPPROTO_VRRP, { netns: opts.netns });
    try {
      const ifx = Buffer.alloc(4);
      ifx.writeInt32LE(opts.ifindex);
      if (v4) {
        this.sock.setOption(consts.SOL_IP, consts.IP_PKTINFO, 1);
        this.sock.setOption(consts.SOL_IP, consts.IP_MULTICAST_ALL, 0);
        this.sock.setOption(consts.SOL_IP, consts.IP_MULTICAST_TTL, VRRP_TTL);
        this.sock.setOption(consts.SOL_IP, consts.IP_TTL, VRRP_TTL);
        this.sock.setOption(consts.SOL_IP, consts.IP_MULTICAST_LOOP, 0);
        this.sock.setOption(consts.SOL_IP, consts.IP_TOS, 0xc0); // network control, as keepalived
        // struct ip_mreqn: group, local address (any), ifindex
        const mreqn = Buffer.alloc(12);
        ipToBytes(group).copy(mreqn, 0);
        mreqn.writeInt32LE(opts.ifindex, 8);
        this.sock.setOption(consts.SOL_IP, consts.IP_MULTICAST_IF, mreqn);
        if (!opts.unicastPeers?.length) this.sock.setOption(consts.SOL_IP, consts.IP_ADD_MEMBERSHIP, mreqn);
        // struct in_pktinfo: ifindex, spec_dst (our source), addr
        const pi = Buffer.alloc(12);
        pi.writeInt32LE(opts.ifindex, 0);
        ipToBytes(opts.src).copy(pi, 4);
        this.control = buildCmsgs([{ level: consts.SOL_IP, type: consts.IP_PKTINFO, data: pi }]);
      } else {
        this.sock.setOption(consts.SOL_IPV6, consts.IPV6_RECVPKTINFO, 1);
        this.sock.setOption(consts.SOL_IPV6, consts.IPV6_RECVHOPLIMIT, 1);
        this.sock.setOption(consts.SOL_IPV6, consts.IPV6_MULTICAST_HOPS, VRRP_TTL);
        this.sock.setOption(consts.SOL_IPV6, consts.IPV6_UNICAST_HOPS, VRRP_TTL);
        this.sock.setOption(consts.SOL_IPV6, consts.IPV6_MULTICAST_LOOP, 0);
        this.sock.setOption(consts.SOL_IPV6, consts.IPV6_MULTICAST_IF, opts.ifindex);
        if (!opts.unicastPeers?.length) {
          // struct ipv6_mreq: group, ifindex
          const mreq = Buffer.alloc(20);
          ipToBytes(group).copy(mreq, 0);
          mreq.writeUInt32LE(opts.ifindex, 16);
          this.sock.setOption(consts.SOL_IPV6, consts.IPV6_ADD_MEMBERSHIP, mreq);
        }
        // struct in6_pktinfo: source address, ifindex
        const pi = Buffer.alloc(20);
        ipToBytes(opts.src).copy(pi, 0);
        pi.writeUInt32LE(opts.ifindex, 16);
        this.control = buildCmsgs([{ level: consts.SOL_IPV6, type: consts.IPV6_PKTINFO, data: pi }]);
      }
    } catch (e) {
      this.sock.close();
      throw e;
    }
    this.sock.on('message', (m) => this.emit('datagram', this.toDatagram(m)));
    this.sock.on('error', (e) => this.emit('error', e));
  }

  listen(): void {
    this.sock.listen();
  }

  /** Whatever is queued now, read synchronously (a backup checks this before declaring the master down). */
  drain(): Datagram[] {
    return this.sock.drain().map((m) => this.toDatagram(m));
  }

  /** Sends one advert to every destination; `build` makes the bytes for a destination (v3 checksums differ). */
  send(build: (dst: string) => Buffer): void {
    for (const d of this.destinations) this.sock.send(build(d), this.addrs.get(d), this.control);
  }

  /** Sends now, then every `intervalMs` from a native thread, until stopPeriodic(). */
  startPeriodic(build: (dst: string) => Buffer, intervalMs: number): void {
    this.stopPeriodic();
    let failed: unknown;
    try {
      this.send(build);
    } catch (e) {
      failed = e; // e.g. ENETDOWN for a moment: the thread keeps trying at the interval
    }
    this.periodic = this.destinations.map((d) => this.sock.startPeriodic(build(d), [this.addrs.get(d)!], intervalMs, this.control, this.opts.rtPriority ?? 0));
    if (failed) throw failed;
  }

  stopPeriodic(): void {
    for (const p of this.periodic) p.stop();
    this.periodic = [];
  }

  /** Adverts sent by the native threads so far, and the real-time priority they run at (lowest of them; errno if refused). */
  periodicStats(): { sent: number; errors: number; rtPriority: number; rtErrno: number } {
    return this.periodic.reduce(
      (a, p) => {
        const s = p.stats();
        return { sent: a.sent + s.sent, errors: a.errors + s.errors, rtPriority: Math.min(a.rtPriority, s.rtPriority), rtErrno: a.rtErrno || s.rtErrno };
      },
      { sent: 0, errors: 0, rtPriority: this.periodic.length ? 99 : 0, rtErrno: 0 },
    );
  }

  close(): void {
    this.stopPeriodic();
    this.sock.close();
  }

  private toDatagram(m: RawMessage): Datagram {
    const d: Datagram = { family: this.opts.family, data: m.data };
    for (const c of m.cmsgs) {
      if (c.level === consts.SOL_IP && c.type === consts.IP_PKTINFO && c.data.length >= 4) d.ifindex = c.data.readInt32LE(0);
      else if (c.level === consts.SOL_IPV6 && c.type === consts.IPV6_PKTINFO && c.data.length >= 20) {
        d.dst = Buffer.from(c.data.subarray(0, 16));
        d.ifindex = c.data.readUInt32LE(16);
      } else if (c.level === consts.SOL_IPV6 && c.type === consts.IPV6_HOPLIMIT && c.data.length >= 4) d.hopLimit = c.data.readInt32LE(0);
    }
    if (this.opts.family === 6 && m.from && m.from.family === 6) d.src = ipToBytes(m.from.address);
    return d;
  }
}
