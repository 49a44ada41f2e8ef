// VrrpInstance: one keepalived vrrp_instance. The pure state machine decides; this
// adapter feeds it packets, link events, tracker results and the time, and
// carries out its actions on the wire (VrrpTransport), in the kernel (Rtnl) and
// toward the operator (events, notify scripts, FIFO).
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { bytesToIp, errnoName, ipToBytes, LvsdError } from '@lvsd/native';
import { VrrpStateMachine, type FsmAction, type TransitionReason, type VrrpState } from './fsm.js';
import { GarpSender } from './garp.js';
import { NoAcceptFilter, noAcceptTable } from './firewall.js';
import { FifoWriter, fifoLine, NotifyQueue, type NotifyResult, type NotifyScripts, type NotifyState } from './notify.js';
import { resolveOptions, type ResolvedOptions, type VrrpInstanceOptions } from './options.js';
import { dropCounters, encodeAdvert, type DropReason } from './packet.js';
import { checkDatagram, type Datagram, type ReceiveConfig } from './receive.js';
import { Rtnl, type AddressSpec, type LinkInfo, type RouteSpec } from './rtnl.js';
import { FileTracker, InterfaceTracker, ScriptTracker, type Tracker } from './track.js';
import { VrrpTransport } from './transport.js';

/** How early the Master_Down_Timer wakes up to be on time despite millisecond timers (busy-waited, at most 2 ms per expiry). */
const TIMER_LEAD_MS = 1;

export interface StateChangeEvent {
  instance: string;
  from: VrrpState;
  to: VrrpState;
  reason: TransitionReason;
  priority: number;
  /** Monotonic time (performance.now() ms) of the transition. */
  at: number;
}

export interface AdvertEvent {
  src: string;
  priority: number;
  advertIntCs: number;
}

export interface DropEvent {
  reason: DropReason;
  src?: string;
}

export interface VrrpInstanceEvents {
  stateChange: [StateChangeEvent];
  /** An advertisement that passed every check. */
  advert: [AdvertEvent];
  drop: [DropEvent];
  priorityChange: [{ from: number; to: number }];
  /** Sync groups: our timer expired, the group decides. */
  wantMaster: [];
  /** The instance's own faults (interface, trackers) changed. */
  faultsChanged: [string[]];
  notify: [NotifyResult];
  warning: [string];
  /** A failure the instance survived (a netlink call, a send). Without a listener it goes to 'warning'. */
  error: [LvsdError];
}

export interface VrrpStats {
  name: string;
  state: VrrpState;
  priority: number;
  basePriority: number;
  masterAddress?: string;
  masterPriority?: number;
  advertsReceived: number;
  advertsSent: number;
  priorityZeroSent: number;
  priorityZeroReceived: number;
  becameMaster: number;
  releasedMaster: number;
  drops: Record<DropReason, number>;
  addressListMismatch: number;
  advertIntervalMismatch: number;
  garpSent: number;
  sendErrors: number;
  faults: string[];
  /**
   * The native thread sending adverts while master: the SCHED_FIFO priority it got
   * (0: normal scheduling) and, when the kernel refused the one asked for, its errno name.
   */
  advertThread?: { rtPriority: number; rtError?: string };
}

export interface VrrpInstanceDeps {
  /** Monotonic milliseconds; tests inject their own. */
  now?: () => number;
}

export class VrrpInstance extends EventEmitter<VrrpInstanceEvents> {
  readonly options: Readonly<ResolvedOptions>;
  private readonly fsm: VrrpStateMachine;
  private readonly now: () => number;
  private rtnl: Rtnl | undefined;
  private transport: VrrpTransport | undefined;
  private garp: GarpSender | undefined;
  private fifo: FifoWriter | undefined;
  private noAccept: NoAcceptFilter | undefined;
  private readonly notifyQueue: NotifyQueue;
  private link: LinkInfo | undefined;
  private src: Buffer = Buffer.alloc(0);
  private rx: ReceiveConfig | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** netlink work (VIPs, routes) and the events that must follow it, in order. */
  private chain: Promise<void> = Promise.resolve();
  private readonly owned = new Set<string>();
  private resuming = false;
  private readonly trackers: Tracker[] = [];
  private readonly ifTrackers = new Map<string, InterfaceTracker>();
  private started = false;
  /** attach() after the interface appears, one at a time. */
  private attaching: Promise<void> = Promise.resolve();
  private readonly counters = {
    advertsReceived: 0,
    advertsSent: 0,
    priorityZeroSent: 0,
    priorityZeroReceived: 0,
    becameMaster: 0,
    releasedMaster: 0,
    addressListMismatch: 0,
    advertIntervalMismatch: 0,
    sendErrors: 0,
  };
  private readonly drops = dropCounters();
  private periodicBase = 0;
  private garpSentBefore = 0;

  constructor(options: VrrpInstanceOptions, deps: VrrpInstanceDeps = {}) {
    super();
    this.options = resolveOptions(options);
    this.now = deps.now ?? (() => performance.now());
    this.notifyQueue = new NotifyQueue(60_000, (r) => this.emit('notify', r), this.options.netns);
    this.fsm = new VrrpStateMachine({
      version: this.options.version,
      priority: this.options.priority,
      advertIntCs: this.options.advertIntCs,
      preempt: this.options.preempt,
      preemptDelayMs: this.options.preemptDelayMs,
      primaryAddress: Buffer.alloc(this.options.family === 4 ? 4 : 16),
      lowerPrioNoAdvert: this.options.lowerPrioNoAdvert,
      yieldAdvert: this.options.yieldAdvert,
    });
    const raw = (this.raw = options);
    for (const t of raw.trackScript ?? []) this.trackers.push(new ScriptTracker(t, this.options.netns));
    for (const t of raw.trackInterface ?? []) {
      const tr = new InterfaceTracker(t);
      this.ifTrackers.set(t.name, tr);
      this.trackers.push(tr);
    }
    for (const t of raw.trackFile ?? []) this.trackers.push(new FileTracker(t));
  }

  /** The options as given: trackers and notify scripts read them unchanged. */
  private readonly raw: VrrpInstanceOptions;

  get name(): string {
    return this.options.name;
  }
  get state(): VrrpState {
    return this.fsm.state;
  }
  get priority(): number {
    return this.fsm.priority;
  }
  /** Sync groups: our Master_Down_Timer ran out and we wait for the group. */
  get wantMaster(): boolean {
    return this.fsm.wantMaster;
  }

  /**
   * Opens the sockets, removes VIPs a crashed run left behind, starts the trackers
   * and the state machine. Resolves once the instance is in BACKUP, MASTER or FAULT.
   */
  async start(opts: { signal?: AbortSignal; resume?: VrrpState } = {}): Promise<void> {
    if (this.started) throw new LvsdError('LVSD_ERR_VRRP_STATE', `vrrp_instance ${this.name}: already started`);
    opts.signal?.throwIfAborted();
    this.started = true;
    // Resuming MASTER after handOver(): the VIPs on the interface are ours, not stale.
    this.resuming = opts.resume === 'MASTER';
    const o = this.options;
    try {
      this.rtnl = Rtnl.open(o.netns);
      // Link events first, so an interface that appears right after the lookup is seen.
      this.rtnl.on('link', (l) => this.onLink(l));
      this.rtnl.on('resync', () => void this.relink());
      // not bound yet (no interface, or no address on it): a new address may be what was missing
      this.rtnl.on('address', () => void (this.link ? undefined : this.relink()));
      this.rtnl.watchLinks();
      const link = await this.rtnl.link(o.interface).catch((e) => {
        if (e?.errnoName === 'ENODEV') return undefined;
        throw new LvsdError('LVSD_ERR_VRRP_INTERFACE', `vrrp_instance ${o.name}: interface ${o.interface}: ${e.message}`, { cause: e, object: o.interface });
      });
      const attached = link
        ? await this.attach(link).then(
            () => true,
            (e) => {
              if (!(e instanceof LvsdError) || e.code !== 'LVSD_ERR_VRRP_NO_SOURCE') throw e;
              this.emit('warning', `${e.message}: FAULT until it has one`);
              return false;
            },
          )
        : false;
      if (link) {
        if (!attached || !link.up) this.fsm.setFault(this.now(), this.ifFault, true);
      } else {
        // keepalived: an instance on a missing interface is in FAULT until it appears
        this.emit('warning', `vrrp_instance ${o.name}: interface ${o.interface} does not exist: FAULT until it appears`);
        this.fsm.setFault(this.now(), this.ifFault, true);
      }
      if (this.raw.notifyFifo) this.fifo = new FifoWriter(this.raw.notifyFifo);
      if (!o.accept && o.priority !== 255) {
        this.noAccept = new NoAcceptFilter(noAcceptTable(o.name, o.vrid), o.vips.map((v) => v.address), o.netns);
        await this.noAccept.install();
      }
      for (const [name, tr] of this.ifTrackers) {
        const l = await this.rtnl.link(name).catch(() => undefined);
        tr.set(l?.up ?? false);
      }
      for (const t of this.trackers) {
        t.on('change', () => this.retrack());
        t.on('warning', (w) => this.emit('warning', `vrrp_instance ${o.name}: ${w}`));
      }
      await Promise.all(this.trackers.map((t) => t.start()));
      this.retrack(false);
      this.apply(this.fsm.start(this.now(), opts.resume));
      this.resuming = false;
      opts.signal?.addEventListener('abort', () => void this.stop(), { once: true });
    } catch (e) {
      await this.noAccept?.remove();
      this.teardown();
      throw e;
    }
  }

  private get ifFault(): string {
    return `interface ${this.options.interface}`;
  }

  /**
   * Binds the instance to its interface (again, after the interface was created or
   * re-created): source address, stale VIPs, the VRRP socket and the gARP sender.
   */
  private async attach(link: LinkInfo): Promise<void> {
    const o = this.options;
    this.detach();
    const rtnl = this.rtnl!;
    const addrs = await rtnl.addresses(link.index);
    const vipSet = new Set(o.vips.map((v) => v.address));
    let src = o.srcIp;
    if (!src) {
      const cand = addrs.filter((a) => a.family === o.family && !vipSet.has(a.address));
      const pick = o.family === 4 ? (cand.find((a) => !(a.flags & 0x01)) ?? cand[0]) : cand.find((a) => a.address.startsWith('fe80:'));
      if (!pick) {
        throw new LvsdError(
          'LVSD_ERR_VRRP_NO_SOURCE',
          `vrrp_instance ${o.name}: interface ${o.interface} has no ${o.family === 4 ? 'IPv4' : 'IPv6 link-local'} address to send adverts from (set mcast_src_ip / unicast_src_ip)`,
        );
      }
      src = pick.address;
    }
    this.link = link;
    this.src = ipToBytes(src);
    this.fsm.primaryAddress = this.src;
    // A VIP on the interface now is not ours as master: a crashed run left it.
    if (!this.resuming) await this.cleanStale();
    if (this.rtnl !== rtnl) return; // stopped meanwhile: open nothing
    this.rx = {
      version: o.version,
      family: o.family,
      vrid: o.vrid,
      ifindex: link.index,
      priority: o.priority,
      advertIntCs: o.advertIntCs,
      authType: o.authType,
      authData: o.authData,
      vips: o.vips.map((v) => ipToBytes(v.address)),
      unicastPeers: new Set(o.unicastPeers.map((p) => ipToBytes(p).toString('hex'))),
      checkUnicastSrc: o.checkUnicastSrc,
      ownAddresses: new Set([this.src.toString('hex')]),
    };
    this.transport = new VrrpTransport({ family: o.family, ifindex: link.index, src, group: o.mcastGroup, unicastPeers: o.unicastPeers, netns: o.netns, rtPriority: o.rtPriority });
    this.transport.on('datagram', (d) => this.onDatagram(d));
    this.transport.on('error', (e) => this.report(e));
    this.transport.listen();
    this.garp = new GarpSender(link.index, o.garp, o.netns);
    this.garp.setAddresses(link.mac, o.vips.map((v) => v.address));
  }

  /** Closes what is bound to the interface (it went away, or attach() starts over). */
  private detach(): void {
    this.periodicBase += this.transport?.periodicStats().sent ?? 0;
    this.transport?.close();
    this.garpSentBefore += this.garp?.sent ?? 0;
    this.garp?.close();
    this.transport = undefined;
    this.garp = undefined;
    this.rx = undefined;
    this.link = undefined;
  }

  /**
   * Resigns (priority 0 advert when master), removes the VIPs we own, closes everything.
   * With `release: false` (keepalived --dont-release-vrrp) it only goes silent: VIPs,
   * routes and firewall rules stay, no priority 0 is sent, no notify runs; the peers
   * elect as after a crash, and the next start finds and cleans what was left.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (!this.started || this.fsm.state === 'STOP') return;
    if (opts.release === false) {
      await this.chain;
      this.teardown();
      return;
    }
    this.apply(this.fsm.stop());
    await this.chain;
    await this.notifyQueue.idle();
    await this.noAccept?.remove();
    this.teardown();
  }

  /**
   * Ends this instance for a successor with changed options (a reload) without an
   * election: no priority 0 advert, no notify. The VIPs and virtual routes the
   * successor does not configure are removed; the others stay for it to take over.
   * Returns the state to pass to the successor's `start({ resume })`.
   */
  async handOver(successor: Readonly<ResolvedOptions>): Promise<VrrpState> {
    const state = this.fsm.state;
    if (!this.started || state === 'STOP') return state;
    await this.chain;
    if (state === 'MASTER' && this.rtnl) {
      const key = (v: ResolvedOptions['vips'][number]) => `${v.address}/${v.prefix} ${v.dev ?? ''} ${v.label ?? ''} ${v.scope}`;
      const keep = new Set(successor.vips.map(key));
      const specs = await this.vipSpecs();
      const gone = specs.filter((s, i) => this.owned.has(s.address) && !keep.has(key(this.options.vips[i])));
      const kept = new Set(successor.routes.map((r) => JSON.stringify(r)));
      const routes = this.options.routes.filter((r) => !kept.has(JSON.stringify(r)));
      if (routes.length) {
        const specs = await Promise.all(routes.map(async ({ dev, ...rest }) => ({ ...rest, ifindex: await this.ifindexOf(dev) })));
        for (const e of await this.rtnl.deleteRoutes(specs)) if (e) this.report(e);
      }
      if (gone.length) for (const e of await this.rtnl.deleteAddresses(gone)) if (e) this.report(e);
    }
    await this.noAccept?.remove(); // the successor installs its own
    this.teardown();
    return state;
  }

  stats(): VrrpStats {
    const s: VrrpStats = {
      name: this.name,
      state: this.fsm.state,
      priority: this.fsm.priority,
      basePriority: this.options.priority,
      ...this.counters,
      advertsSent: this.counters.advertsSent + this.periodicSent(),
      drops: { ...this.drops },
      garpSent: this.garpSentBefore + (this.garp?.sent ?? 0),
      faults: this.fsm.faultReasons,
    };
    if (this.fsm.masterAddress) s.masterAddress = bytesToIp(this.fsm.masterAddress);
    if (this.fsm.masterPriority !== undefined) s.masterPriority = this.fsm.masterPriority;
    const p = this.transport?.periodicStats();
    if (p && p.rtPriority + p.rtErrno > 0) s.advertThread = p.rtErrno ? { rtPriority: 0, rtError: errnoName(p.rtErrno) } : { rtPriority: p.rtPriority };
    return s;
  }

  /** Resolves when queued VIP changes and notify scripts are done (tests, orderly shutdown). */
  async settled(): Promise<void> {
    await this.chain;
    await this.notifyQueue.idle();
  }

  /** Faults of our own (interface, trackers), not the ones a sync group imposes. */
  get faults(): string[] {
    return this.fsm.faultReasons.filter((f) => !f.startsWith('sync group '));
  }

  /** Called by VrrpSyncGroup before start: an expired timer then asks the group. */
  joinSyncGroup(): void {
    if (this.started) throw new LvsdError('LVSD_ERR_VRRP_STATE', `vrrp_instance ${this.name}: join a sync group before start()`);
    this.fsm.syncGroup = true;
  }

  /** Sync groups: move with the group. */
  force(to: 'MASTER' | 'BACKUP'): void {
    this.apply(this.fsm.force(this.now(), to));
  }

  /** Raises or clears a named fault (sync groups use 'sync group NAME'). */
  setFault(key: string, faulty: boolean): void {
    this.apply(this.fsm.setFault(this.now(), key, faulty));
  }

  /** Queue a group notification behind this instance's own (sync groups). */
  notifyGroup(name: string, state: NotifyState, scripts: NotifyScripts): void {
    this.notifyQueue.push(scripts, 'GROUP', name, state, 0);
  }

  private retrack(apply = true): void {
    let delta = 0;
    for (const t of this.trackers) {
      const s = t.status();
      const was = this.fsm.faultReasons.includes(t.key);
      if (s.fault !== was) {
        const acts = this.fsm.setFault(this.now(), t.key, s.fault);
        if (apply) this.apply(acts);
      }
      delta += s.delta;
    }
    const from = this.fsm.priority;
    const acts = this.fsm.setPriority(this.options.priority + delta);
    if (this.fsm.priority !== from) this.emit('priorityChange', { from, to: this.fsm.priority });
    if (apply) this.apply(acts);
  }

  private onLink(l: LinkInfo): void {
    this.ifTrackers.get(l.name)?.set(l.up);
    if (l.name !== this.options.interface && l.index !== this.link?.index) return;
    if (!this.link || (l.name === this.options.interface && l.index !== this.link.index)) {
      // our interface appeared (or was re-created with a new index)
      if (l.name !== this.options.interface || !this.started || this.fsm.state === 'STOP') return;
      this.attaching = this.attaching
        .then(() => (this.link?.index === l.index ? undefined : this.attach(l)))
        .then(
          () => this.apply(this.fsm.setFault(this.now(), this.ifFault, !l.up)),
          (e) => this.report(e instanceof LvsdError ? e : new LvsdError('LVSD_ERR_VRRP_INTERFACE', String(e), { cause: e })),
        );
      return;
    }
    if (l.mac.length === 6 && !l.mac.equals(this.link.mac)) {
      this.link = { ...this.link, mac: l.mac };
      this.garp?.setAddresses(l.mac, this.options.vips.map((v) => v.address));
    }
    this.apply(this.fsm.setFault(this.now(), this.ifFault, !l.up));
  }

  /** After lost link events: read our interface and the tracked ones again. */
  private async relink(): Promise<void> {
    const rtnl = this.rtnl;
    if (!rtnl) return;
    for (const name of [this.options.interface, ...this.ifTrackers.keys()]) {
      const l = await rtnl.link(name).catch(() => undefined);
      if (l) this.onLink(l);
      else this.ifTrackers.get(name)?.set(false);
    }
  }

  private onDatagram(d: Datagram): void {
    if (!this.rx) return;
    const r = checkDatagram(d, this.rx);
    if (!r.ok) {
      this.drops[r.reason]++;
      if (this.listenerCount('drop')) this.emit('drop', { reason: r.reason });
      return;
    }
    this.counters.advertsReceived++;
    if (r.addressListMismatch) this.counters.addressListMismatch++;
    if (r.advertIntervalMismatch) this.counters.advertIntervalMismatch++;
    if (r.advert.priority === 0) this.counters.priorityZeroReceived++;
    if (this.listenerCount('advert')) this.emit('advert', { src: bytesToIp(r.src), priority: r.advert.priority, advertIntCs: r.advert.advertIntCs });
    this.apply(this.fsm.receive(this.now(), { priority: r.advert.priority, advertIntCs: r.advert.advertIntCs, src: r.src }));
  }

  /** Master_Down_Timer: read what is queued first, so adverts delayed by a stalled event loop count. */
  private onTimer(): void {
    this.timer = undefined;
    const at = this.fsm.timerAt;
    const early = at === undefined ? 0 : at - this.now();
    if (early > 0 && early <= TIMER_LEAD_MS * 2) {
      const end = performance.now() + early;
      while (performance.now() < end);
    }
    if (this.transport) for (const d of this.transport.drain()) this.onDatagram(d);
    this.apply(this.fsm.timeout(this.now()));
  }

  private advert(priority: number): (dst: string) => Buffer {
    const o = this.options;
    const addresses = o.vips.map((v) => ipToBytes(v.address));
    return (dst) =>
      encodeAdvert(
        { version: o.version, vrid: o.vrid, priority, advertIntCs: o.advertIntCs, addresses, authType: o.authType, authData: o.authData },
        { src: this.src, dst: ipToBytes(dst) },
      );
  }

  private apply(actions: FsmAction[]): void {
    this.applyActions(actions);
    // A sync group must hear when a member's own faults clear even if its state does not
    // change (it may still be held in FAULT by the group): tell it on every change.
    const sig = this.faults.join('|');
    if (sig !== this.faultSig) {
      this.faultSig = sig;
      this.emit('faultsChanged', this.faults);
    }
  }

  private faultSig = '';

  private applyActions(actions: FsmAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'setTimer': {
          clearTimeout(this.timer);
          // libuv timers have millisecond resolution: wake a little early, wait out the rest in onTimer
          this.timer = setTimeout(() => this.onTimer(), Math.max(0, a.at - this.now() - TIMER_LEAD_MS));
          break;
        }
        case 'clearTimer':
          clearTimeout(this.timer);
          this.timer = undefined;
          break;
        case 'advertise':
          this.safeSend(() => {
            this.periodicBase += this.transport?.periodicStats().sent ?? 0;
            this.transport?.startPeriodic(this.advert(a.priority), a.intervalCs * 10);
            this.counters.advertsSent += this.transport?.destinations.length ?? 0;
          });
          break;
        case 'stopAdvertising':
          this.periodicBase += this.transport?.periodicStats().sent ?? 0;
          this.transport?.stopPeriodic();
          break;
        case 'sendAdvert':
          this.safeSend(() => {
            this.transport?.send(this.advert(a.priority));
            this.counters.advertsSent += this.transport?.destinations.length ?? 0;
            if (a.priority === 0) this.counters.priorityZeroSent++;
          });
          break;
        case 'addVips':
          this.counters.becameMaster++;
          this.queue(() => this.addVips());
          break;
        case 'removeVips':
          this.counters.releasedMaster++;
          this.garp?.cancel();
          this.queue(() => this.removeVips());
          break;
        case 'garp':
          if (a.kind === 'master') this.queue(async () => this.fsm.state === 'MASTER' && this.garp?.onMaster());
          else this.garp?.onLowerPriority();
          break;
        case 'wantMaster':
          this.emit('wantMaster');
          break;
        case 'state': {
          const ev: StateChangeEvent = { instance: this.name, from: a.from, to: a.to, reason: a.reason, priority: this.fsm.priority, at: this.now() };
          this.queue(async () => {
            this.emit('stateChange', ev);
            // Resumed after a reload: the state did not change for the scripts.
            if (a.to === 'INIT' || a.reason === 'reload') return;
            const st = a.to as NotifyState;
            this.fifo?.write(fifoLine('INSTANCE', this.name, st, ev.priority));
            this.notifyQueue.push(this.raw, 'INSTANCE', this.name, st, ev.priority);
          });
          break;
        }
      }
    }
  }

  private periodicSent(): number {
    return this.periodicBase + (this.transport?.periodicStats().sent ?? 0);
  }

  /** Errors never take the instance down: listeners get them, or they become warnings. */
  private report(e: LvsdError): void {
    if (this.listenerCount('error')) this.emit('error', e);
    else this.emit('warning', `vrrp_instance ${this.name}: ${e.message}`);
  }

  private safeSend(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.counters.sendErrors++;
      this.report(e instanceof LvsdError ? e : new LvsdError('LVSD_ERR_VRRP_SEND', String(e), { cause: e }));
    }
  }

  private queue(fn: () => Promise<unknown>): void {
    this.chain = this.chain.then(fn).then(
      () => undefined,
      (e) => this.report(e instanceof LvsdError ? e : new LvsdError('LVSD_ERR_VRRP', String(e), { cause: e })),
    );
  }

  private async ifindexOf(dev: string | undefined): Promise<number> {
    if (!dev || dev === this.options.interface) {
      if (!this.link) throw new LvsdError('LVSD_ERR_VRRP_INTERFACE', `vrrp_instance ${this.name}: interface ${this.options.interface} does not exist`);
      return this.link.index;
    }
    return (await this.rtnl!.link(dev)).index;
  }

  private async vipSpecs(): Promise<AddressSpec[]> {
    const out: AddressSpec[] = [];
    for (const v of this.options.vips) {
      const s: AddressSpec = { address: v.address, prefix: v.prefix, ifindex: await this.ifindexOf(v.dev), scope: v.scope, nodad: v.family === 6 };
      if (v.label) s.label = v.label;
      if (v.broadcast) s.broadcast = v.broadcast;
      out.push(s);
    }
    return out;
  }

  private async routeSpecs(): Promise<RouteSpec[]> {
    const out: RouteSpec[] = [];
    for (const r of this.options.routes) {
      const { dev, ...rest } = r;
      out.push({ ...rest, ifindex: await this.ifindexOf(dev) });
    }
    return out;
  }

  private async addVips(): Promise<void> {
    if (!this.rtnl) return;
    const specs = await this.vipSpecs();
    const res = await this.rtnl.addAddresses(specs);
    res.forEach((e, i) => (e ? this.report(e) : this.owned.add(specs[i].address)));
    if (this.options.routes.length) for (const e of await this.rtnl.addRoutes(await this.routeSpecs())) if (e) this.report(e);
  }

  /** Only what we added comes off: an address someone else configured stays. */
  private async removeVips(): Promise<void> {
    if (!this.rtnl) return;
    if (this.options.routes.length) for (const e of await this.rtnl.deleteRoutes(await this.routeSpecs())) if (e) this.report(e);
    const specs = (await this.vipSpecs()).filter((s) => this.owned.has(s.address));
    const res = await this.rtnl.deleteAddresses(specs);
    res.forEach((e, i) => (e ? this.report(e) : this.owned.delete(specs[i].address)));
  }

  private async cleanStale(): Promise<void> {
    const specs = await this.vipSpecs();
    const present = new Set<string>();
    for (const ifindex of new Set(specs.map((s) => s.ifindex))) for (const a of await this.rtnl!.addresses(ifindex)) present.add(`${a.ifindex} ${a.address}`);
    const stale = specs.filter((s) => present.has(`${s.ifindex} ${s.address}`));
    if (!stale.length) return;
    this.emit('warning', `vrrp_instance ${this.name}: removing ${stale.map((s) => s.address).join(', ')} left on the interface by an earlier run`);
    for (const e of await this.rtnl!.deleteAddresses(stale)) if (e) this.report(e);
  }

  private teardown(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const t of this.trackers) t.stop();
    this.detach();
    this.rtnl?.close();
    this.fifo?.close();
    this.rtnl = undefined;
    this.fifo = undefined;
  }
}
