// rtnetlink for what VRRP touches: the interface (index, MAC, up/down, its
// addresses), the virtual addresses and the virtual routes. A thin adapter over
// NetlinkSocket; every message layout is declared here once.
import { EventEmitter } from 'node:events';
import {
  bytesToIp,
  consts,
  decodeAttrs,
  encodeAttrs,
  ipToBytes,
  NetlinkSocket,
  nlmsg,
  type NetlinkError,
  type NlMessage,
  type Schema,
  type Writer,
} from '@lvsd/native';

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_GETADDR = 22;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTNLGRP_LINK = 1;
const RTNLGRP_IPV4_IFADDR = 5;
const RTNLGRP_IPV6_IFADDR = 9;
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
export const IFA_F_NODAD = 0x02;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RTN_UNICAST = 1;

export const SCOPES: Record<string, number> = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };

const ifaSchema: Schema = {
  address: { id: 1, type: 'binary' },
  local: { id: 2, type: 'binary' },
  label: { id: 3, type: 'string' },
  broadcast: { id: 4, type: 'binary' },
  flags: { id: 8, type: 'u32' },
};
const iflaSchema: Schema = {
  address: { id: 1, type: 'binary' },
  ifname: { id: 3, type: 'string' },
  mtu: { id: 4, type: 'u32' },
  operstate: { id: 16, type: 'u8' },
};
const rtaSchema: Schema = {
  dst: { id: 1, type: 'binary' },
  oif: { id: 4, type: 'u32' },
  gateway: { id: 5, type: 'binary' },
  priority: { id: 6, type: 'u32' },
  prefsrc: { id: 7, type: 'binary' },
  table: { id: 15, type: 'u32' },
};

export interface LinkInfo {
  index: number;
  name: string;
  mac: Buffer;
  /** IFF_UP and IFF_RUNNING (carrier), what keepalived calls up. */
  up: boolean;
}

export interface AddressInfo {
  family: 4 | 6;
  address: string;
  prefix: number;
  ifindex: number;
  scope: number;
  flags: number;
  label?: string;
}

/** One address as `ip addr add` takes it. */
export interface AddressSpec {
  address: string;
  prefix: number;
  ifindex: number;
  label?: string;
  scope?: number;
  broadcast?: string;
  /** IPv6: skip duplicate address detection so the VIP answers at once. */
  nodad?: boolean;
}

export interface RouteSpec {
  /** "default" or "a.b.c.d/len" / "x::/len". */
  dst: string;
  via?: string;
  src?: string;
  ifindex?: number;
  metric?: number;
  table?: number;
  scope?: number;
}

export interface RtnlEvents {
  link: [LinkInfo];
  /** An address was added (RTM_NEWADDR). */
  address: [AddressInfo];
  /** An address was removed (RTM_DELADDR). */
  addressRemoved: [AddressInfo];
  /** Link events were lost (receive buffer overrun): re-read what matters. */
  resync: [];
}

function family(addr: string): 4 | 6 {
  return addr.includes(':') ? 6 : 4;
}
const af = (f: 4 | 6) => (f === 4 ? consts.AF_INET : consts.AF_INET6);

function parseLink(m: NlMessage): LinkInfo {
  const { buf, start, end } = m;
  const flags = buf.readUInt32LE(start + 8);
  const a = decodeAttrs<{ address?: Buffer; ifname?: string }>(buf, start + 16, end, iflaSchema);
  return {
    index: buf.readInt32LE(start + 4),
    name: a.ifname ?? '',
    mac: a.address ?? Buffer.alloc(6),
    up: (flags & (IFF_UP | IFF_RUNNING)) === (IFF_UP | IFF_RUNNING),
  };
}

function parseAddr(m: NlMessage): AddressInfo {
  const { buf, start, end } = m;
  const fam = buf[start] === consts.AF_INET ? 4 : 6;
  const a = decodeAttrs<{ address?: Buffer; local?: Buffer; label?: string; flags?: number }>(buf, start + 8, end, ifaSchema);
  const bytes = a.local ?? a.address ?? Buffer.alloc(fam === 4 ? 4 : 16);
  const out: AddressInfo = {
    family: fam,
    address: bytesToIp(bytes),
    prefix: buf[start + 1],
    flags: a.flags ?? buf[start + 2],
    scope: buf[start + 3],
    ifindex: buf.readUInt32LE(start + 4),
  };
  if (a.label) out.label = a.label;
  return out;
}

function addrBody(s: AddressSpec, w: Writer): void {
  const f = family(s.address);
  const bytes = ipToBytes(s.address);
  w.u8(af(f));
  w.u8(s.prefix);
  w.u8(s.nodad ? IFA_F_NODAD : 0);
  w.u8(s.scope ?? 0);
  w.u32(s.ifindex);
  encodeAttrs(w, ifaSchema, {
    local: bytes,
    address: bytes,
    label: f === 4 ? s.label : undefined,
    broadcast: s.broadcast ? ipToBytes(s.broadcast) : undefined,
  });
}

function routeBody(r: RouteSpec, w: Writer): void {
  const [dst, len] = r.dst === 'default' ? [undefined, 0] : r.dst.split('/');
  const f = family(dst ?? r.via ?? r.src ?? '0.0.0.0');
  const dstLen = r.dst === 'default' ? 0 : len !== undefined ? Number(len) : f === 4 ? 32 : 128;
  w.u8(af(f));
  w.u8(dstLen);
  w.u8(0); // src_len
  w.u8(0); // tos
  w.u8(r.table !== undefined && r.table < 256 ? r.table : RT_TABLE_MAIN);
  w.u8(RTPROT_BOOT);
  w.u8(r.scope ?? (r.via ? 0 : 253));
  w.u8(RTN_UNICAST);
  w.u32(0);
  encodeAttrs(w, rtaSchema, {
    dst: dst ? ipToBytes(dst) : undefined,
    gateway: r.via ? ipToBytes(r.via) : undefined,
    prefsrc: r.src ? ipToBytes(r.src) : undefined,
    oif: r.ifindex,
    priority: r.metric,
    table: r.table,
  });
}

const CREATE = nlmsg.NLM_F_CREATE | nlmsg.NLM_F_EXCL;
/** errno values that mean "already as wanted" for an add or a delete. */
const EEXIST = 17;
const EADDRNOTAVAIL = 99;
const ESRCH = 3;
const ENOENT = 2;

export class Rtnl extends EventEmitter<RtnlEvents> {
  private events: NetlinkSocket | undefined;

  private constructor(
    private readonly sock: NetlinkSocket,
    private readonly netns?: string,
  ) {
    super();
  }

  static open(netns?: string): Rtnl {
    return new Rtnl(NetlinkSocket.open(consts.NETLINK_ROUTE, { netns, rcvbuf: 1 << 20 }), netns);
  }

  async link(name: string): Promise<LinkInfo> {
    const [m] = await this.sock.request({
      type: RTM_GETLINK,
      object: { interface: name },
      body: (w) => {
        w.zeros(16);
        encodeAttrs(w, iflaSchema, { ifname: name });
      },
    });
    return parseLink(m);
  }

  async addresses(ifindex?: number): Promise<AddressInfo[]> {
    const msgs = await this.sock.dump({ type: RTM_GETADDR, body: (w) => w.zeros(8) });
    return msgs.filter((m) => m.type === RTM_NEWADDR).map(parseAddr).filter((a) => ifindex === undefined || a.ifindex === ifindex);
  }

  /** Adds addresses; one already present counts as done. Returns one error or null per address. */
  addAddresses(specs: AddressSpec[]): Promise<(NetlinkError | null)[]> {
    return this.batch(RTM_NEWADDR, CREATE, specs, addrBody, [EEXIST]);
  }

  /** Deletes addresses; one already gone counts as done. */
  deleteAddresses(specs: AddressSpec[]): Promise<(NetlinkError | null)[]> {
    return this.batch(RTM_DELADDR, 0, specs, addrBody, [EADDRNOTAVAIL]);
  }

  addRoutes(routes: RouteSpec[]): Promise<(NetlinkError | null)[]> {
    return this.batch(RTM_NEWROUTE, CREATE, routes, routeBody, [EEXIST]);
  }

  deleteRoutes(routes: RouteSpec[]): Promise<(NetlinkError | null)[]> {
    return this.batch(RTM_DELROUTE, 0, routes, routeBody, [ESRCH, ENOENT]);
  }

  /** One batch of requests; errnos that mean "already as wanted" count as success. */
  private async batch<T>(type: number, flags: number, items: T[], body: (o: T, w: Writer) => void, done: number[]): Promise<(NetlinkError | null)[]> {
    const res = await this.sock.send(items.map((o) => ({ type, flags, object: o, body: (w: Writer) => body(o, w) })));
    return res.map((e) => (e && done.includes(e.errno ?? 0) ? null : e));
  }

  /** Starts 'link' events (RTNLGRP_LINK: up/down, carrier, removal) and 'address' / 'addressRemoved' events. */
  watchLinks(): void {
    if (this.events) return;
    const s = NetlinkSocket.open(consts.NETLINK_ROUTE, { netns: this.netns, groups: [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR], rcvbuf: 1 << 20 });
    s.on('message', (m) => {
      if (m.type === RTM_NEWLINK) this.emit('link', parseLink(m));
      else if (m.type === RTM_DELLINK) this.emit('link', { ...parseLink(m), up: false });
      else if (m.type === RTM_NEWADDR) this.emit('address', parseAddr(m));
      else if (m.type === RTM_DELADDR) this.emit('addressRemoved', parseAddr(m));
    });
    s.on('overrun', () => this.emit('resync'));
    s.listen();
    this.events = s;
  }

  close(): void {
    this.events?.close();
    this.sock.close();
  }
}
