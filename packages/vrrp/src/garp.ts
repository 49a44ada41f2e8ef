// Gratuitous ARP (IPv4) and unsolicited neighbour advertisements (IPv6) for the
// virtual addresses, sent as whole Ethernet frames on an AF_PACKET socket, with
// keepalived's timing: a burst on becoming master, a second burst after
// garp_master_delay, an optional refresh every garp_master_refresh, and a burst
// when a lower priority master is heard.
import { consts, ipToBytes, RawSocket, sockaddrLl } from '@lvsd/native';
import { inetChecksum, pseudoHeader } from './checksum.js';

const BROADCAST = Buffer.alloc(6, 0xff);
const ALL_NODES_MAC = Buffer.from([0x33, 0x33, 0, 0, 0, 1]);
const ALL_NODES = ipToBytes('ff02::1');
const ND_NA_FLAG_OVERRIDE = 0x20000000;

/** Ethernet + ARP request announcing `ip` at `mac` (sender and target address both the VIP). */
export function garpFrame(mac: Buffer, ip: string): Buffer {
  const b = Buffer.alloc(42);
  BROADCAST.copy(b, 0);
  mac.copy(b, 6);
  b.writeUInt16BE(consts.ETH_P_ARP, 12);
  b.writeUInt16BE(1, 14); // ARPHRD_ETHER
  b.writeUInt16BE(consts.ETH_P_IP, 16);
  b[18] = 6;
  b[19] = 4;
  b.writeUInt16BE(1, 20); // ARPOP_REQUEST, as keepalived
  mac.copy(b, 22);
  ipToBytes(ip).copy(b, 28);
  BROADCAST.copy(b, 32);
  ipToBytes(ip).copy(b, 38);
  return b;
}

/** Ethernet + IPv6 + ICMPv6 neighbour advertisement (override) for `ip` at `mac`, to all nodes. */
export function unsolicitedNaFrame(mac: Buffer, ip: string, router = false): Buffer {
  const target = ipToBytes(ip);
  const icmp = Buffer.alloc(32);
  icmp[0] = 136; // ND_NEIGHBOR_ADVERT
  icmp.writeUInt32BE(ND_NA_FLAG_OVERRIDE | (router ? 0x80000000 : 0), 4);
  target.copy(icmp, 8);
  icmp[24] = 2; // target link-layer address option
  icmp[25] = 1;
  mac.copy(icmp, 26);
  icmp.writeUInt16BE(inetChecksum(pseudoHeader(target, ALL_NODES, consts.IPPROTO_ICMPV6, icmp.length), icmp), 2);
  const b = Buffer.alloc(14 + 40 + icmp.length);
  ALL_NODES_MAC.copy(b, 0);
  mac.copy(b, 6);
  b.writeUInt16BE(consts.ETH_P_IPV6, 12);
  b.writeUInt32BE(0x60000000, 14);
  b.writeUInt16BE(icmp.length, 18);
  b[20] = consts.IPPROTO_ICMPV6;
  b[21] = 255;
  target.copy(b, 22);
  ALL_NODES.copy(b, 38);
  icmp.copy(b, 54);
  return b;
}

export interface GarpSettings {
  /** Seconds before the second burst after becoming master (keepalived garp_master_delay, default 5; 0 = none). */
  masterDelay: number;
  /** Frames per address in a burst (garp_master_repeat, default 5). */
  masterRepeat: number;
  /** Seconds between refresh bursts while master (garp_master_refresh, default 0 = none). */
  masterRefresh: number;
  /** Frames per address in a refresh (garp_master_refresh_repeat, default 1). */
  masterRefreshRepeat: number;
  /** After hearing a lower priority master (garp_lower_prio_delay / _repeat; default the master values). */
  lowerPrioDelay: number;
  lowerPrioRepeat: number;
  /** Seconds between two frames of a burst (vrrp_garp_interval / vrrp_gna_interval, default 0). */
  interval: number;
}

export const DEFAULT_GARP: GarpSettings = {
  masterDelay: 5,
  masterRepeat: 5,
  masterRefresh: 0,
  masterRefreshRepeat: 1,
  lowerPrioDelay: 5,
  lowerPrioRepeat: 5,
  interval: 0,
};

export class GarpSender {
  private readonly sock: RawSocket;
  private readonly dst: Buffer;
  private timers = new Set<NodeJS.Timeout>();
  private frames: Buffer[] = [];
  /** Frames sent, for stats and tests. */
  sent = 0;
  errors = 0;

  constructor(
    ifindex: number,
    private readonly settings: GarpSettings,
    netns?: string,
  ) {
    // Protocol 0: this socket only sends, it never queues received frames.
    this.sock = new RawSocket(consts.AF_PACKET, consts.SOCK_RAW, 0, { netns });
    this.dst = sockaddrLl(ifindex, 0, BROADCAST);
  }

  /** The interface MAC and the addresses to announce (both may change at run time). */
  setAddresses(mac: Buffer, addresses: string[]): void {
    this.frames = addresses.map((a) => (a.includes(':') ? unsolicitedNaFrame(mac, a) : garpFrame(mac, a)));
  }

  /** Became master: a burst now, another after masterDelay, then refreshes. */
  onMaster(): void {
    this.cancel();
    const s = this.settings;
    this.burst(s.masterRepeat);
    if (s.masterDelay > 0) this.after(s.masterDelay * 1000, () => this.burst(s.masterRepeat));
    if (s.masterRefresh > 0) {
      const refresh = () => {
        this.burst(s.masterRefreshRepeat);
        this.after(s.masterRefresh * 1000, refresh);
      };
      this.after((s.masterDelay + s.masterRefresh) * 1000, refresh);
    }
  }

  /** A lower priority master was heard: re-assert now and after lowerPrioDelay. */
  onLowerPriority(): void {
    const s = this.settings;
    if (s.lowerPrioRepeat <= 0) return;
    this.burst(s.lowerPrioRepeat);
    if (s.lowerPrioDelay > 0) this.after(s.lowerPrioDelay * 1000, () => this.burst(s.lowerPrioRepeat));
  }

  /** Left master: no more frames. */
  cancel(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  close(): void {
    this.cancel();
    this.sock.close();
  }

  private burst(repeat: number): void {
    const frames: Buffer[] = [];
    for (let r = 0; r < repeat; r++) frames.push(...this.frames);
    const gap = this.settings.interval * 1000;
    if (gap <= 0) {
      for (const f of frames) this.sendFrame(f);
      return;
    }
    frames.forEach((f, i) => (i === 0 ? this.sendFrame(f) : this.after(i * gap, () => this.sendFrame(f))));
  }

  private sendFrame(f: Buffer): void {
    try {
      this.sock.send(f, this.dst);
      this.sent++;
    } catch {
      this.errors++; // an interface going down mid-burst: counted, the next burst retries
    }
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }
}
