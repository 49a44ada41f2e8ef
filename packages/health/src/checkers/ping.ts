// PING_CHECK: ICMP / ICMPv6 echo. One socket per (family, fwmark, bindto,
// netns) is shared by every PING_CHECK and replies are matched by sequence
// number and source, so 10,000 pinged servers do not mean 10,000 sockets each
// seeing every reply. The socket is an unprivileged ICMP datagram socket
// (SOCK_DGRAM, IPPROTO_ICMP) where net.ipv4.ping_group_range allows it, a raw
// socket otherwise (root / CAP_NET_RAW).
import { bytesToIp, consts, ipToBytes, RawSocket, sockaddrIn, type RawMessage } from '@lvsd/native';
import type { EffectiveConnection } from '../options.js';
import type { PollRunner } from '../runner.js';
import type { CheckResult } from '../types.js';
import { errnoish } from './dgram.js';
import { errorToResult, failure, netnsFd } from './net.js';

const ECHO = { 4: 8, 6: 128 } as const;
const ECHO_REPLY = { 4: 0, 6: 129 } as const;
const UNREACH = { 4: 3, 6: 1 } as const;

interface Pending {
  ip: string;
  resolve: (r: CheckResult) => void;
}

export class Pinger {
  readonly kind: 'dgram' | 'raw';
  private readonly sock: RawSocket;
  private readonly id: number;
  private seq = Math.floor(Math.random() * 0x10000);
  private readonly pending = new Map<number, Pending>();

  constructor(
    readonly family: 4 | 6,
    opts: { fwmark?: number; bindto?: string; netns?: string } = {},
  ) {
    const domain = family === 6 ? consts.AF_INET6 : consts.AF_INET;
    const proto = family === 6 ? consts.IPPROTO_ICMPV6 : consts.IPPROTO_ICMP;
    const ns = opts.netns ? { netns: netnsFd(opts.netns) } : {};
    let sock: RawSocket;
    try {
      sock = new RawSocket(domain, consts.SOCK_DGRAM, proto, ns);
      this.kind = 'dgram';
    } catch {
      // EACCES: this group is outside net.ipv4.ping_group_range.
      sock = new RawSocket(domain, consts.SOCK_RAW, proto, ns);
      this.kind = 'raw';
    }
    this.sock = sock;
    this.id = (process.pid ^ Math.floor(Math.random() * 0x10000)) & 0xffff;
    try {
      if (opts.fwmark !== undefined) sock.setOption(consts.SOL_SOCKET, consts.SO_MARK, opts.fwmark);
      if (opts.bindto !== undefined) sock.bind(sockaddrIn(opts.bindto, 0));
    } catch (e) {
      sock.close();
      throw e;
    }
    sock.on('message', (m) => this.onMessage(m));
    sock.on('error', () => {
      // A stray ICMP error on the shared socket: the affected echo times out.
    });
    sock.listen();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  ping(ip: string, signal: AbortSignal): Promise<CheckResult> {
    return new Promise((resolve) => {
      let seq = 0;
      for (let i = 0; i < 0x10000; i++) {
        this.seq = (this.seq + 1) & 0xffff;
        if (!this.pending.has(this.seq)) break;
      }
      seq = this.seq;
      const canonical = bytesToIp(ipToBytes(ip));
      const onAbort = () => {
        this.pending.delete(seq);
        resolve(failure('timeout'));
      };
      this.pending.set(seq, {
        ip: canonical,
        resolve: (r) => {
          signal.removeEventListener('abort', onAbort);
          this.pending.delete(seq);
          resolve(r);
        },
      });
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        this.sock.send(this.echo(seq), sockaddrIn(ip, 0));
      } catch (e) {
        this.pending.get(seq)?.resolve(errorToResult(errnoish(e)));
      }
    });
  }

  close(): void {
    for (const p of [...this.pending.values()]) p.resolve(failure('error', 'pinger closed'));
    this.sock.close();
  }

  private echo(seq: number): Buffer {
    const b = Buffer.alloc(8 + 16);
    b[0] = ECHO[this.family];
    b.writeUInt16BE(this.id, 4); // the kernel replaces it on a datagram socket
    b.writeUInt16BE(seq, 6);
    b.writeBigUInt64BE(process.hrtime.bigint(), 8);
    b.write('lvsd-health', 16, 'latin1');
    // ICMPv6 checksums are the kernel's job (pseudo-header); ICMPv4 ones ours on a raw socket.
    if (this.family === 4) b.writeUInt16BE(checksum(b), 2);
    return b;
  }

  private onMessage(m: RawMessage): void {
    let d = m.data;
    if (this.kind === 'raw' && this.family === 4) {
      if (d.length < 20) return;
      d = d.subarray((d[0] & 0x0f) * 4);
    }
    if (d.length < 8) return;
    const type = d[0];
    if (type === ECHO_REPLY[this.family]) {
      if (this.kind === 'raw' && d.readUInt16BE(4) !== this.id) return;
      const p = this.pending.get(d.readUInt16BE(6));
      const from = m.from && 'address' in m.from ? m.from.address : undefined;
      if (p && from === p.ip) p.resolve({ ok: true });
      return;
    }
    if (type === UNREACH[this.family] && this.kind === 'raw') {
      // The error quotes our echo: its IP header, then the ICMP header.
      let inner = d.subarray(8);
      if (this.family === 4) {
        if (inner.length < 20) return;
        inner = inner.subarray((inner[0] & 0x0f) * 4);
      } else inner = inner.subarray(40);
      if (inner.length < 8 || inner[0] !== ECHO[this.family] || inner.readUInt16BE(4) !== this.id) return;
      this.pending.get(inner.readUInt16BE(6))?.resolve(failure('unreachable', `unreachable (icmp code ${d[1]})`));
    }
  }
}

export function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2) sum += b[b.length - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

export function pingCheck(): PollRunner & { pingers: Map<string, Pinger> } {
  const pingers = new Map<string, Pinger>();
  const pingerFor = (c: EffectiveConnection) => {
    const key = `${c.family}|${c.fwmark ?? ''}|${c.bindto ?? ''}|${c.netns ?? ''}`;
    let p = pingers.get(key);
    if (!p) pingers.set(key, (p = new Pinger(c.family, c)));
    return p;
  };
  return {
    pingers,
    run({ checker, signal }) {
      const c = checker.connection!;
      let p: Pinger;
      try {
        p = pingerFor(c);
      } catch (e) {
        return Promise.resolve(errorToResult(errnoish(e)));
      }
      return p.ping(c.ip, signal);
    },
    close() {
      for (const p of pingers.values()) p.close();
      pingers.clear();
    },
  };
}
