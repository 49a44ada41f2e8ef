// IpvsClient: the imperative IPVS API bound to one network namespace. Every call
// validates its input first (nothing is sent for bad input), and every kernel
// refusal comes back as an IpvsError naming the object.
import { LvsdError, NetlinkError, NetlinkSocket, Writer, consts, resolveFamily, type GenlFamily, type NlMessage } from '@lvsd/native';
import { Cmd, IPVS_GENL_NAME, familyNumber, type DaemonState } from './abi.js';
import { BatchChannel } from './batch.js';
import {
  body,
  decodeDaemonMessage,
  decodeDestMessage,
  decodeInfo,
  decodeServiceMessage,
  decodeTimeouts,
  destBody,
  newDestPackedBody,
  putServiceKey,
  serviceKeyAttr,
} from './codec.js';
import { IpvsError, invalid, mapKernelError } from './errors.js';
import { PACK_WORDS, PACKED_OP, normalizeDestination, normalizeKey, normalizeService, type PackedEntry } from './normalize.js';
import {
  familyOf,
  type Destination,
  type DestinationSpec,
  type IpvsInfo,
  type IpvsOp,
  type Service,
  type ServiceKey,
  type ServiceSpec,
  type SyncDaemon,
  type TableSnapshot,
  type Timeouts,
} from './types.js';

export interface IpvsClientOptions {
  /** Network namespace: a path (/var/run/netns/NAME, /proc/PID/ns/net) or an open fd. Default: the caller's. */
  netns?: string | number;
  signal?: AbortSignal;
  /**
   * Receive buffer of the batch socket in bytes (default 32 MiB). It holds the kernel's
   * answers to failed operations of a batch; if they overflow it (ENOBUFS), the batch
   * fails with LVSD_ERR_NETLINK_OVERRUN and IpvsTable resyncs by dumping.
   */
  rcvbuf?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface DumpOptions extends CallOptions {
  /** Decode the counters (stats64, connection counts). Default true. */
  stats?: boolean;
}

export interface BatchResult {
  /** Per operation: null when the kernel accepted all its messages, else the first error. */
  results: (IpvsError | null)[];
  /** Every failed message, in order, each naming its object (an add-service's real server included). */
  errors: IpvsError[];
  /** Messages sent and sendmsg calls used. */
  messages: number;
  datagrams: number;
}

type PackedOp = IpvsOp & { [PACKED_OP]?: PackedEntry };

/** The real-server messages an add-service op sends after its own (read without building packed ones). */
function extraMessages(op: IpvsOp): number {
  if (op.kind !== 'add-service') return 0;
  const packed = (op as PackedOp)[PACKED_OP];
  return packed ? packed.count : (op.destinations?.length ?? 0);
}

const cmdOf: Record<IpvsOp['kind'], number> = {
  'add-service': Cmd.NEW_SERVICE,
  'edit-service': Cmd.SET_SERVICE,
  'delete-service': Cmd.DEL_SERVICE,
  'add-destination': Cmd.NEW_DEST,
  'edit-destination': Cmd.SET_DEST,
  'delete-destination': Cmd.DEL_DEST,
};

type KeyLike = ServiceKey | ServiceSpec | Service;
type Canon = ReturnType<typeof normalizeKey>;

export class IpvsClient {
  readonly family: GenlFamily;
  private readonly sock: NetlinkSocket;
  private readonly bulk: BatchChannel;
  private closed = false;

  private constructor(sock: NetlinkSocket, bulk: BatchChannel, family: GenlFamily) {
    this.sock = sock;
    this.bulk = bulk;
    this.family = family;
  }

  /** Opens the sockets and resolves the IPVS family; LVSD_ERR_IPVS_UNAVAILABLE when ip_vs is not loaded. */
  static async open(opts: IpvsClientOptions = {}): Promise<IpvsClient> {
    opts.signal?.throwIfAborted();
    const sock = NetlinkSocket.open(consts.NETLINK_GENERIC, { netns: opts.netns });
    let family: GenlFamily;
    try {
      family = await resolveFamily(sock, IPVS_GENL_NAME, { signal: opts.signal });
    } catch (e) {
      sock.close();
      if ((e as LvsdError)?.code === 'LVSD_ERR_FAMILY_NOT_FOUND') {
        throw new IpvsError('LVSD_ERR_IPVS_UNAVAILABLE', 'IPVS is not available: the ip_vs kernel module is not loaded (modprobe ip_vs)', {
          errno: (e as LvsdError).errno,
          object: { family: IPVS_GENL_NAME },
          cause: e,
        });
      }
      throw e;
    }
    let bulk: BatchChannel;
    try {
      bulk = BatchChannel.open(opts.netns, opts.rcvbuf);
    } catch (e) {
      sock.close();
      throw e;
    }
    return new IpvsClient(sock, bulk, family);
  }

  /** Messages and datagrams sent so far (both sockets), for tests and benchmarks. */
  get counters(): { messages: number; sendmsg: number } {
    return {
      messages: this.sock.counters.messages + this.bulk.counters.messages,
      sendmsg: this.sock.counters.sendmsg + this.bulk.counters.sendmsg,
    };
  }

  // ---- services ----

  async addService(spec: ServiceSpec, opts: CallOptions = {}): Promise<void> {
    const s = normalizeService(spec);
    await this.one(Cmd.NEW_SERVICE, (w) => body.newService(w, s), { service: s }, opts);
  }

  /** Changes scheduler, flags, persistence of an existing service (ipvsadm -E): give the whole service. */
  async editService(spec: ServiceSpec, opts: CallOptions = {}): Promise<void> {
    const s = normalizeService(spec);
    await this.one(Cmd.SET_SERVICE, (w) => body.setService(w, s), { service: s }, opts);
  }

  async deleteService(key: KeyLike, opts: CallOptions = {}): Promise<void> {
    const k = normalizeKey(key);
    await this.one(Cmd.DEL_SERVICE, (w) => body.delService(w, k), { service: k }, opts);
  }

  /** Every service (with counters unless `stats: false`). */
  async listServices(opts: DumpOptions = {}): Promise<Service[]> {
    const msgs = await this.rawDump(Cmd.GET_SERVICE, (w) => body.getService(w), {}, opts);
    const out: Service[] = [];
    for (const m of msgs) {
      const s = decodeServiceMessage(m, opts);
      if (s) out.push(s);
    }
    return out;
  }

  /** One service; LVSD_ERR_IPVS_NOT_FOUND if it does not exist. */
  async getService(key: KeyLike, opts: CallOptions = {}): Promise<Service> {
    const k = normalizeKey(key);
    const msgs = await this.requestCmd(Cmd.GET_SERVICE, (w) => body.getService(w, k), { service: k }, opts);
    for (const m of msgs) {
      const s = decodeServiceMessage(m);
      if (s) return s;
    }
    throw new IpvsError('LVSD_ERR_IPVS_NOT_FOUND', 'get service: no such service', { object: { service: k } });
  }

  // ---- destinations ----

  async addDestination(service: KeyLike, dest: DestinationSpec, opts: CallOptions = {}): Promise<void> {
    const k = normalizeKey(service);
    const d = normalizeDestination(dest, k as Service);
    const key = serviceKeyAttr(k);
    await this.one(Cmd.NEW_DEST, (w) => body.newDest(w, key, d), { service: k, destination: d }, opts);
  }

  async editDestination(service: KeyLike, dest: DestinationSpec, opts: CallOptions = {}): Promise<void> {
    const k = normalizeKey(service);
    const d = normalizeDestination(dest, k as Service);
    const key = serviceKeyAttr(k);
    await this.one(Cmd.SET_DEST, (w) => body.setDest(w, key, d), { service: k, destination: d }, opts);
  }

  async deleteDestination(service: KeyLike, dest: { address: string; port?: number }, opts: CallOptions = {}): Promise<void> {
    const k = normalizeKey(service);
    const d = destKey(dest, k);
    const key = serviceKeyAttr(k);
    await this.one(Cmd.DEL_DEST, (w) => body.delDest(w, key, d), { service: k, destination: d }, opts);
  }

  /** The destinations of a service (empty for a service that does not exist: the kernel's dump says nothing). */
  async listDestinations(service: KeyLike, opts: DumpOptions = {}): Promise<Destination[]> {
    const k = normalizeKey(service);
    return this.dumpDests(k, serviceKeyAttr(k), opts);
  }

  private async dumpDests(k: Canon, key: Buffer, opts: DumpOptions): Promise<Destination[]> {
    const msgs = await this.rawDump(Cmd.GET_DEST, (w) => body.getDest(w, key), { service: k }, opts);
    const af = familyNumber(k.family);
    const out: Destination[] = [];
    for (const m of msgs) {
      const d = decodeDestMessage(m, af, opts);
      if (d) out.push(d);
    }
    return out;
  }

  /** Every service with its destinations (ipvsadm -Sn; `stats: false` leaves out the counters, as -Sn does). */
  async dumpTable(opts: DumpOptions = {}): Promise<TableSnapshot> {
    for (let attempt = 0; ; attempt++) {
      try {
        const services = await this.listServices(opts);
        const out: TableSnapshot = { services: [] };
        const w = new Writer(64);
        // One dump at a time: a netlink socket runs a single dump, and each needs the read that completes it.
        for (const s of services) {
          out.services.push({ service: s, destinations: await this.dumpDests(s as Canon, serviceKeyAttr(s, w), opts) });
        }
        return out;
      } catch (e) {
        // Someone changed the table mid-dump: read it again (a few times at most).
        if ((e as LvsdError).code !== 'LVSD_ERR_DUMP_INTERRUPTED' || attempt >= 3) throw e;
      }
    }
  }

  // ---- global settings ----

  async getInfo(opts: CallOptions = {}): Promise<IpvsInfo> {
    const msgs = await this.requestCmd(Cmd.GET_INFO, (w) => body.getInfo(w), {}, opts);
    if (!msgs[0]) throw new IpvsError('LVSD_ERR_IPVS_KERNEL', 'get info: empty reply');
    return decodeInfo(msgs[0]);
  }

  async getTimeouts(opts: CallOptions = {}): Promise<Timeouts> {
    const msgs = await this.requestCmd(Cmd.GET_CONFIG, (w) => body.getConfig(w), {}, opts);
    if (!msgs[0]) throw new IpvsError('LVSD_ERR_IPVS_KERNEL', 'get timeouts: empty reply');
    return decodeTimeouts(msgs[0]);
  }

  /** ipvsadm --set tcp tcpfin udp: seconds; an omitted or 0 value is left unchanged. */
  async setTimeouts(t: Partial<Timeouts>, opts: CallOptions = {}): Promise<void> {
    for (const [k, v] of Object.entries(t)) {
      if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0x7fffffff)) throw invalid(`timeout ${k} must be seconds 0..2147483647, got ${v}`, { timeouts: t });
    }
    await this.one(Cmd.SET_CONFIG, (w) => body.setConfig(w, t), { timeouts: t }, opts);
  }

  // ---- sync daemons ----

  async startDaemon(d: SyncDaemon, opts: CallOptions = {}): Promise<void> {
    if (d.state !== 'master' && d.state !== 'backup') throw invalid(`sync daemon state must be master or backup, got ${String(d.state)}`, { daemon: d });
    if (!d.interface || Buffer.byteLength(d.interface) >= 16) throw invalid(`sync daemon needs an interface name of 1..15 bytes`, { daemon: d });
    if (!Number.isInteger(d.syncId) || d.syncId < 0 || d.syncId > 255) throw invalid(`sync id must be 0..255, got ${d.syncId}`, { daemon: d });
    if (d.mcastGroup !== undefined) {
      if (!familyOf(d.mcastGroup)) throw invalid(`bad multicast group ${JSON.stringify(d.mcastGroup)}`, { daemon: d });
    }
    if (d.mcastPort !== undefined && (!Number.isInteger(d.mcastPort) || d.mcastPort < 1 || d.mcastPort > 65535)) throw invalid(`bad multicast port ${d.mcastPort}`, { daemon: d });
    if (d.mcastTtl !== undefined && (!Number.isInteger(d.mcastTtl) || d.mcastTtl < 1 || d.mcastTtl > 255)) throw invalid(`bad multicast ttl ${d.mcastTtl}`, { daemon: d });
    await this.one(Cmd.NEW_DAEMON, (w) => body.newDaemon(w, d), { daemon: d }, opts);
  }

  /**
   * Stops a sync daemon. The kernel waits for its thread here and has been seen to
   * hang, so the send runs off the event loop (sendBlocking).
   */
  async stopDaemon(state: DaemonState, opts: CallOptions = {}): Promise<void> {
    if (state !== 'master' && state !== 'backup') throw invalid(`sync daemon state must be master or backup, got ${String(state)}`, { daemon: { state } });
    this.assertOpen();
    let err: NetlinkError | null;
    try {
      err = await this.sock.sendBlocking({ type: this.family.id, body: (w) => body.delDaemon(w, state), object: { daemon: { state } } }, opts);
    } catch (e) {
      throw this.mapThrown(e, Cmd.DEL_DAEMON, { daemon: { state } });
    }
    if (err) throw mapKernelError(err.errno!, Cmd.DEL_DAEMON, { daemon: { state } }, err.extack, err);
  }

  async listDaemons(opts: CallOptions = {}): Promise<SyncDaemon[]> {
    const msgs = await this.dumpCmd(Cmd.GET_DAEMON, (w) => body.getDaemon(w), {}, opts);
    return msgs.map(decodeDaemonMessage).filter((d): d is SyncDaemon => !!d);
  }

  /** Zeroes the counters of one service, or of all (ipvsadm -Z). */
  async zero(service?: KeyLike, opts: CallOptions = {}): Promise<void> {
    const k = service ? normalizeKey(service) : undefined;
    await this.one(Cmd.ZERO, (w) => body.zero(w, k), k ? { service: k } : {}, opts);
  }

  /** Deletes every service in the namespace (ipvsadm -C). Never called implicitly. */
  async flush(opts: CallOptions = {}): Promise<void> {
    await this.one(Cmd.FLUSH, (w) => body.flush(w), {}, opts);
  }

  // ---- batches ----

  /**
   * Sends the operations in order, ~1,000 per sendmsg, and reports a result per
   * operation. The kernel carries on after a failure, so later operations still run;
   * an add-destination after a failed add-service fails with NOT_FOUND.
   * Operations must be canonical (from plan() or the normalize functions); pass
   * `validate: true` to check specs built by hand.
   */
  async applyBatch(ops: readonly IpvsOp[], opts: CallOptions & { validate?: boolean } = {}): Promise<BatchResult> {
    this.assertOpen();
    const list = opts.validate ? ops.map(canonicalOp) : ops;
    // Messages go out in order, so a cursor (op, real server of an add-service) follows
    // message i without a table per message; failures (rare) are located by locate().
    let total = 0;
    for (let k = 0; k < list.length; k++) total += 1 + extraMessages(list[k]);
    const before = { m: this.bulk.counters.messages, s: this.bulk.counters.sendmsg };
    let lastSvc: Service | undefined;
    const keyWords = new Uint32Array(16);
    let nWords = 0;
    const keyWriter = new Writer(64);
    // Destination messages repeat their service's key attribute: encoded once per
    // service into scratch words (no allocation per service or message).
    const keyOf = (s: Service): void => {
      if (s === lastSvc) return;
      lastSvc = s;
      keyWriter.reset();
      putServiceKey(keyWriter, s);
      nWords = keyWriter.off >>> 2;
      for (let k = 0; k < nWords; k++) keyWords[k] = keyWriter.buf.readUInt32LE(k * 4);
    };
    let opIdx = 0;
    let destIdx = -1; // -1: the op's own message; k: real server k of an add-service
    let next = 0;
    const write = (w: Writer, i: number): void => {
      if (i !== next) throw new Error(`applyBatch: message ${i} out of order (expected ${next})`);
      next++;
      const op = list[opIdx];
      const di = destIdx;
      // Advance the cursor past this message.
      if (op.kind === 'add-service' && di + 1 < extraMessages(op)) destIdx++;
      else {
        opIdx++;
        destIdx = -1;
      }
      switch (op.kind) {
        case 'add-service': {
          if (di < 0) return body.newService(w, op.service);
          keyOf(op.service);
          const packed = (op as PackedOp)[PACKED_OP];
          if (packed) return newDestPackedBody(w, keyWords, nWords, packed.words, packed.at + di * PACK_WORDS);
          return destBody(w, Cmd.NEW_DEST, keyWords, nWords, op.destinations![di], true);
        }
        case 'edit-service':
          return body.setService(w, op.service);
        case 'delete-service':
          return body.delService(w, op.service);
        case 'add-destination':
          keyOf(op.service);
          return destBody(w, Cmd.NEW_DEST, keyWords, nWords, op.destination, true);
        case 'edit-destination':
          keyOf(op.service);
          return destBody(w, Cmd.SET_DEST, keyWords, nWords, op.destination, true);
        case 'delete-destination':
          keyOf(op.service);
          return destBody(w, Cmd.DEL_DEST, keyWords, nWords, op.destination, false);
      }
    };
    /** Message index -> [op index, real server index or -1]. Failures arrive in order: one pass. */
    let li = 0;
    let lbase = 0;
    const locate = (m: number): [number, number] => {
      if (m < lbase) {
        li = 0;
        lbase = 0;
      }
      for (; li < list.length; li++) {
        const op = list[li];
        const n = 1 + extraMessages(op);
        if (m < lbase + n) return [li, m - lbase - 1];
        lbase += n;
      }
      return [list.length - 1, -1];
    };
    let failures;
    try {
      failures = await this.bulk.send(this.family.id, total, write, opts.signal);
    } catch (e) {
      throw this.mapThrown(e, 0, {});
    }
    const results: (IpvsError | null)[] = new Array(list.length).fill(null);
    const errors: IpvsError[] = [];
    for (const f of failures) {
      const [oi, di] = locate(f.index);
      const op = list[oi];
      const destination = di >= 0 ? (op as { destinations: readonly Destination[] }).destinations[di] : 'destination' in op ? op.destination : undefined;
      const kind = di >= 0 ? 'add-destination' : op.kind;
      const object = { op: kind, service: op.service, ...(destination ? { destination } : {}) };
      const e = mapKernelError(f.errno, cmdOf[kind], object, f.extack);
      results[oi] ??= e;
      errors.push(e);
    }
    return { results, errors, messages: this.bulk.counters.messages - before.m, datagrams: this.bulk.counters.sendmsg - before.s };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
    this.bulk.close();
  }

  // ---- plumbing ----

  private assertOpen(): void {
    if (this.closed) throw new LvsdError('LVSD_ERR_CLOSED', 'IpvsClient is closed');
  }

  private async one(cmd: number, write: (w: Writer) => void, object: unknown, opts: CallOptions): Promise<void> {
    this.assertOpen();
    let res: (NetlinkError | null)[];
    try {
      res = await this.sock.send([{ type: this.family.id, body: write, object }], opts);
    } catch (e) {
      throw this.mapThrown(e, cmd, object);
    }
    const err = res[0];
    if (err) throw mapKernelError(err.errno!, cmd, object, err.extack, err);
  }

  private async requestCmd(cmd: number, write: (w: Writer) => void, object: unknown, opts: CallOptions): Promise<NlMessage[]> {
    this.assertOpen();
    try {
      return await this.sock.request({ type: this.family.id, body: write, object }, opts);
    } catch (e) {
      throw this.mapThrown(e, cmd, object);
    }
  }

  private async dumpCmd(cmd: number, write: (w: Writer) => void, object: unknown, opts: CallOptions): Promise<NlMessage[]> {
    this.assertOpen();
    try {
      return await this.sock.dump({ type: this.family.id, body: write, object }, opts);
    } catch (e) {
      throw this.mapThrown(e, cmd, object);
    }
  }

  /** Dumps on the bulk socket: a table dump is one request per service, so per-request overhead counts. */
  private async rawDump(cmd: number, write: (w: Writer) => void, object: unknown, opts: CallOptions): Promise<NlMessage[]> {
    this.assertOpen();
    try {
      return await this.bulk.dump(this.family.id, write, opts.signal);
    } catch (e) {
      throw this.mapThrown(e, cmd, object);
    }
  }

  private mapThrown(e: unknown, cmd: number, object: unknown): unknown {
    if (e instanceof NetlinkError && e.errno !== undefined) return mapKernelError(e.errno, cmd, object, e.extack, e);
    return e;
  }
}

function destKey(dest: { address: string; port?: number }, k: Canon): Destination {
  // Only address, port and family travel in a delete; the rest is filler for the type.
  const d = normalizeDestination({ address: dest.address, port: dest.port, forwardingMethod: 'tunnel' }, k as Service);
  return d;
}

function canonicalOp(op: IpvsOp): IpvsOp {
  const service = normalizeService(op.service);
  if (op.kind === 'add-service') return { ...op, service, ...(op.destinations ? { destinations: op.destinations.map((d) => normalizeDestination(d, service)) } : {}) };
  if (op.kind === 'edit-service' || op.kind === 'delete-service') return { ...op, service };
  return { ...op, service, destination: normalizeDestination(op.destination, service) } as IpvsOp;
}
