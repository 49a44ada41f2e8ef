// The check side of a director: health events -> quorum -> the IPVS table.
// The decisions (which destinations each service holds) are made by pure
// functions (map/ipvs.ts, @lvsd/health's evaluateQuorum); this class only keeps
// the state between events and hands the result to the IpvsTable.
import { EventEmitter } from 'node:events';
import { evaluateQuorum, initialQuorumUp, HealthChecker, type CheckerType, type HealthEvent, type HealthTarget, type QuorumConfig, type QuorumServer } from '@lvsd/health';
import { IpvsApplyError, IpvsClient, IpvsTable, serviceKeyString, type ApplyReport, type DesiredService, type DestinationSpec } from '@lvsd/ipvs';
import { runProgram } from '@lvsd/native';
import type { KeepalivedConfig, RealServer, ScriptSpec, VirtualServer } from './config/model.js';
import { desiredService, destinationOf, realServerId, servicesOf, virtualServerId, type ServiceInstance } from './map/ipvs.js';
import { healthTarget } from './map/health.js';
import { LocalAddresses } from './local-addresses.js';

export interface CheckSideOptions {
  netns?: string;
  /** Seconds a removed real server is drained (weight 0) before deletion. */
  drainTimeout: number;
  /** Milliseconds between drift checks of the kernel table (0: never). */
  verifyInterval: number;
}

export interface RealServerEvent {
  virtualServer: string;
  realServer: string;
  up: boolean;
  weight: number;
  reason?: string;
}

export interface QuorumEvent {
  virtualServer: string;
  up: boolean;
  weightSum: number;
  sorryServer: boolean;
}

export interface CheckSideEvents {
  realServer: [RealServerEvent];
  quorum: [QuorumEvent];
  applied: [ApplyReport];
  drained: [{ virtualServer: string; realServer: string; timedOut: boolean }];
  /** ha_suspend: a virtual server's checks were suspended (its address left this host) or resumed. */
  suspended: [{ virtualServer: string; suspended: boolean }];
  error: [Error];
}

interface VsState {
  vs: VirtualServer;
  id: string;
  instances: ServiceInstance[];
  quorumUp: boolean;
  sorryActive: boolean;
  init: boolean;
  /** ha_suspend in effect: its checks do not run. */
  suspended?: boolean;
  /** This virtual server's part of the desired table; recomputed only when dirty. */
  output?: DesiredService[];
  dirty: boolean;
  /** Health targets of its real servers that have checkers. */
  targets: HealthTarget[];
  /** realServerId of each of vs.realServers, in order (made once, on first use). */
  rsIds?: string[];
}

function rsIdsOf(st: VsState): string[] {
  return (st.rsIds ??= st.vs.realServers.map((rs) => realServerId(st.id, rs)));
}

/**
 * "0", "1", ...: the ids the quorum decision gets for the real servers, by position. A
 * real server's full id (realServerId) is a ~35-character string; building one per real
 * server at start cost 6 MB for 55,000 of them, and new memory is what a start pays for.
 * Shared by every virtual server; the full ids are made only where health needs them.
 */
const positionIds: string[] = [];
function positions(n: number): readonly string[] {
  for (let i = positionIds.length; i < n; i++) positionIds.push(String(i));
  return positionIds;
}

interface Draining {
  vsId: string;
  rsId: string;
  rs: RealServer;
  instances: ServiceInstance[];
  since: number;
}

/** Notifiers run by stop() (omega) get this long: a stop must end. */
const SHUTDOWN_SCRIPT_MS = 5_000;

export class CheckSide extends EventEmitter<CheckSideEvents> {
  private client: IpvsClient | undefined;
  private table: IpvsTable | undefined;
  private readonly health = new HealthChecker();
  private vss = new Map<string, VsState>();
  /** Which virtual server wants each service key. */
  private readonly byKey = new Map<string, VsState>();
  /** The state of each virtual server object of the running configuration (not groups). */
  private readonly byVs = new Map<VirtualServer, VsState>();
  /** States ha_suspend may change: those asking for it, and those suspended now. */
  private readonly suspendable = new Set<VsState>();
  private readonly draining = new Map<string, Draining>();
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly scripts = new Set<Promise<unknown>>();
  private local: LocalAddresses | undefined;
  private drainBusy = false;
  private applyQueued = false;
  private applying: Promise<void> = Promise.resolve();
  private started = false;

  constructor(
    private config: KeepalivedConfig,
    private readonly opts: CheckSideOptions,
  ) {
    super();
    this.health.on('change', (e) => this.onHealth(e));
    // The first configuration: everything is new (throws on an invalid health target).
    const { fresh } = this.diff(config, { list: config.virtualServers, kept: 0 });
    this.config = config;
    for (const st of fresh) this.put(st);
  }

  /**
   * The virtual servers of `config` that are not running now as they are (ConfigLoader
   * keeps unchanged blocks as the same objects: one lookup each), and how many are.
   */
  private candidates(config: KeepalivedConfig): { list: VirtualServer[]; kept: number } {
    // Health targets read the track_file list: if it changed, every virtual server is looked at.
    if (config.trackFiles !== this.config.trackFiles) return { list: config.virtualServers, kept: 0 };
    const list: VirtualServer[] = [];
    let kept = 0;
    for (const vs of config.virtualServers) {
      if (this.byVs.has(vs)) kept++;
      else list.push(vs);
    }
    return { list, kept };
  }

  /**
   * What a new configuration changes, without changing anything: the virtual servers
   * that are new or differ (with the state each replaces), those equal to their
   * predecessor (they keep its state) and those that are gone. Throws, with nothing
   * changed, if a health target is invalid.
   */
  private diff(config: KeepalivedConfig, cand: { list: VirtualServer[]; kept: number }): { fresh: VsState[]; replaced: VsState[]; removed: VsState[]; rebind: [VsState, VirtualServer][] } {
    const fresh: VsState[] = [];
    const replaced: VsState[] = [];
    const rebind: [VsState, VirtualServer][] = [];
    const filesEqual = config.trackFiles === this.config.trackFiles || sameIgnoringLoc(config.trackFiles, this.config.trackFiles);
    for (const vs of cand.list) {
      const id = virtualServerId(vs);
      const prev = this.vss.get(id);
      if (prev && filesEqual && vs.kind !== 'group' && sameIgnoringLoc(prev.vs, vs)) {
        // Equal: keep its state and its part of the table (the same objects, so the
        // IpvsTable skips it without normalising its real servers again).
        rebind.push([prev, vs]);
        continue;
      }
      if (prev) replaced.push(prev);
      fresh.push({
        vs,
        id,
        instances: servicesOf(vs, config),
        quorumUp: prev?.quorumUp ?? true,
        sorryActive: prev?.sorryActive ?? false,
        suspended: prev?.suspended,
        init: prev === undefined,
        dirty: true,
        targets: this.targetsOf(id, vs, config),
      });
    }
    // Every running state accounted for: nothing removed (the usual reload), no scan.
    let removed: VsState[] = [];
    if (cand.kept + rebind.length + replaced.length !== this.vss.size) {
      const live = new Set<VsState>([...rebind.map(([st]) => st), ...replaced]);
      for (const vs of config.virtualServers) {
        const st = this.byVs.get(vs);
        if (st) live.add(st);
      }
      removed = [...this.vss.values()].filter((st) => !live.has(st));
    }
    return { fresh, replaced, removed, rebind };
  }

  private targetsOf(id: string, vs: VirtualServer, config: KeepalivedConfig): HealthTarget[] {
    const out: HealthTarget[] = [];
    for (const rs of vs.realServers) {
      if (rs.checkers.length === 0) continue; // always alive: no target (and no id to build)
      const t = healthTarget(realServerId(id, rs), vs, rs, config.trackFiles, this.opts.netns);
      if (t) out.push(t);
    }
    return out;
  }

  /** Makes `st` the state of its virtual server (replacing the one with its id). */
  private put(st: VsState): void {
    const prev = this.vss.get(st.id);
    if (prev) this.drop(prev);
    this.vss.set(st.id, st);
    if (st.vs.kind !== 'group') this.byVs.set(st.vs, st);
    if (st.vs.haSuspend || st.suspended) this.suspendable.add(st);
    for (const i of st.instances) this.byKey.set(i.key, st);
  }

  private drop(st: VsState): void {
    if (this.vss.get(st.id) === st) this.vss.delete(st.id);
    if (this.byVs.get(st.vs) === st) this.byVs.delete(st.vs);
    this.suspendable.delete(st);
    for (const i of st.instances) if (this.byKey.get(i.key) === st) this.byKey.delete(i.key);
  }

  private allTargets(): HealthTarget[] {
    const out: HealthTarget[] = [];
    for (const st of this.vss.values()) for (const t of st.targets) out.push(t);
    return out;
  }

  async start(signal?: AbortSignal): Promise<void> {
    this.client = await IpvsClient.open({ netns: this.opts.netns, signal });
    const t = this.config.global.lvsTimeouts;
    if (t) await this.setTimeouts(t, signal);
    this.table = new IpvsTable(this.client, { owned: this.ownedKeys(), verifyInterval: this.opts.verifyInterval });
    this.table.on('drift', (d) => this.emit('error', new Error(`IPVS drift repaired: ${d.ops.length} operations`)));
    this.table.on('error', (e) => this.emit('error', e));
    this.health.apply(this.allTargets());
    for (const st of this.vss.values()) st.quorumUp = initialQuorumUp(this.quorumConfig(st.vs), this.servers(st));
    // The HTTP client is loaded now, before VRRP starts: loaded by the first check it
    // kept the event loop busy for seconds in the lab, and a backup's master-down
    // timer fired that much late.
    await this.health.load();
    await this.followSuspend();
    try {
      await this.applyNow(signal);
    } catch (e) {
      // As keepalived: a service the kernel refuses (a scheduler module missing...) is
      // reported and the rest runs; the table retries it on the next apply or verify.
      // The table has reported it already (its 'error' event is forwarded).
      if (!(e instanceof IpvsApplyError)) throw e;
    }
    this.health.start();
    this.table.start();
    this.started = true;
  }

  /**
   * ha_suspend: watches this host's addresses while a virtual server asks for it, and
   * suspends that virtual server's checks while its address is not here.
   */
  private async followSuspend(): Promise<void> {
    let wanted = false;
    for (const st of this.suspendable) if (st.vs.haSuspend && st.vs.kind === 'address') wanted = true;
    if (!wanted) {
      this.local?.close();
      this.local = undefined;
    } else if (!this.local) {
      this.local = await LocalAddresses.open(this.opts.netns);
      this.local.on('change', () => this.applySuspend());
      this.local.on('error', (e) => this.emit('error', e));
    }
    this.applySuspend();
  }

  private applySuspend(): void {
    for (const st of this.suspendable) {
      const suspended = !!(st.vs.haSuspend && st.vs.kind === 'address' && this.local && !this.local.has(st.vs.address!));
      if (suspended === !!st.suspended) continue;
      st.suspended = suspended;
      for (const rs of st.vs.realServers) this.health.suspend(realServerId(st.id, rs), suspended);
      this.emit('suspended', { virtualServer: st.id, suspended });
    }
  }

  /** lvs_timeouts; one left out (0) keeps the kernel's value. */
  private async setTimeouts(t: NonNullable<KeepalivedConfig['global']['lvsTimeouts']>, signal?: AbortSignal): Promise<void> {
    await this.client!.setTimeouts({ tcp: t.tcp ?? 0, tcpFin: t.tcpfin ?? 0, udp: t.udp ?? 0 }, { signal });
  }

  private ownedKeys(): string[] {
    const keys = new Set<string>();
    for (const st of this.vss.values()) for (const i of st.instances) keys.add(i.key);
    for (const d of this.draining.values()) for (const i of d.instances) keys.add(i.key);
    return [...keys];
  }

  private quorumConfig(vs: VirtualServer): QuorumConfig {
    const q: QuorumConfig = { quorum: vs.quorum, hysteresis: vs.hysteresis, inhibit_on_failure: vs.inhibitOnFailure };
    if (vs.sorryServer) {
      q.sorry_server = { address: vs.sorryServer.address, port: vs.sorryServer.port };
      q.sorry_server_inhibit = vs.sorryServer.inhibit;
    }
    return q;
  }

  /** The quorum inputs of a virtual server, each real server named by its position. */
  private servers(st: VsState): QuorumServer[] {
    const list = st.vs.realServers;
    const pos = positions(list.length);
    const out: QuorumServer[] = new Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const rs = list[i]!;
      // Without checkers a real server has no health target: always alive at its weight.
      const s = rs.checkers.length > 0 ? this.health.status(rsIdsOf(st)[i]!) : undefined;
      out[i] = { id: pos[i]!, alive: s ? s.alive : true, weight: s ? s.weight : rs.weight, inhibit_on_failure: rs.inhibitOnFailure };
    }
    return out;
  }

  /**
   * The whole desired table from the current health and quorum state (for start(); no
   * real server drains before the first reload). Only virtual servers touched by an
   * event are recomputed; the others hand back the same objects, which the IpvsTable
   * recognises and skips without comparing them again.
   */
  private desired(): DesiredService[] {
    const out: DesiredService[] = [];
    for (const st of this.vss.values()) {
      this.refresh(st);
      for (const svc of st.output!) out.push(svc);
    }
    return out;
  }

  /** Recomputes one virtual server's part of the table if an event touched it. */
  private refresh(st: VsState): void {
    if (!st.dirty && st.output) return;
    const d = evaluateQuorum(this.quorumConfig(st.vs), st.quorumUp, this.servers(st), { init: st.init, previousSorryActive: st.sorryActive });
    if (d.transition) this.onQuorum(st, d.up, d.weightSum, d.sorryActive, d.transition);
    st.quorumUp = d.up;
    st.sorryActive = d.sorryActive;
    st.init = false;
    const pos = positions(st.vs.realServers.length);
    st.output = st.instances.map((inst) => desiredService(inst, st.vs, d.destinations, pos));
    st.dirty = false;
  }

  /** The draining real servers of each service, as weight-0 destinations. */
  private drainsByKey(): Map<string, { spec: DesiredService; dests: DestinationSpec[] }> {
    const out = new Map<string, { spec: DesiredService; dests: DestinationSpec[] }>();
    for (const dr of this.draining.values()) {
      const dest = destinationOf(dr.rs, 0);
      for (const inst of dr.instances) {
        const e = out.get(inst.key);
        if (e) e.dests.push(dest);
        else out.set(inst.key, { spec: inst.spec, dests: [dest] });
      }
    }
    return out;
  }

  /**
   * Sends the services named by `keys`, and only them, one applyService (or
   * removeService, when nothing wants a key any more) each: a reload or a health event
   * costs what it changes, not the size of the table. Removals go first. Throws the
   * first failure after trying every key (each is also reported by the table).
   */
  private async applyKeys(keys: Iterable<string>): Promise<void> {
    if (!this.table) return;
    const drains = this.draining.size ? this.drainsByKey() : undefined;
    const put: [DesiredService, VsState | undefined][] = [];
    const del: string[] = [];
    for (const key of keys) {
      const st = this.byKey.get(key);
      let svc: DesiredService | undefined;
      if (st) {
        this.refresh(st);
        svc = st.output![st.instances.findIndex((i) => i.key === key)];
      }
      const d = drains?.get(key);
      if (d) svc = svc ? withDests(svc, d.dests) : { ...d.spec, destinations: d.dests };
      if (svc) put.push([svc, st]);
      else del.push(key);
    }
    let failure: unknown;
    const send = async (p: Promise<ApplyReport>, st?: VsState) => {
      try {
        this.emit('applied', await p);
      } catch (e) {
        // Reported by the table's 'error' event; sent again with the next event and
        // repaired by verify().
        if (st) st.dirty = true;
        failure ??= e;
      }
    };
    for (const key of del) await send(this.table.removeService(key));
    for (const [svc, st] of put) await send(this.table.applyService(svc), st);
    if (failure) throw failure;
  }

  /** Runs a notify / quorum script (30 s at most); resolves with why it failed, or undefined. */
  private async runScript(script: ScriptSpec, timeoutMs = 30_000): Promise<string | undefined> {
    const run = runProgram(script.argv, { timeoutMs, netns: this.opts.netns });
    // stop() waits for scripts still running: a notifier must not die with the process.
    this.scripts.add(run);
    const r = await run.finally(() => this.scripts.delete(run));
    if (r.error) return `cannot run: ${r.error}`;
    if (r.timedOut) return `timed out after ${timeoutMs / 1000} s, process group killed`;
    if (r.signal) return `killed by ${r.signal}`;
    return r.code === 0 ? undefined : `exit ${r.code}`;
  }

  private onQuorum(st: VsState, up: boolean, weightSum: number, sorry: boolean, transition: 'quorum_up' | 'quorum_down'): void {
    this.emit('quorum', { virtualServer: st.id, up, weightSum, sorryServer: sorry });
    const script: ScriptSpec | undefined = transition === 'quorum_up' ? st.vs.quorumUp : st.vs.quorumDown;
    if (script) void this.runScript(script).then((failed) => failed && this.emit('error', new Error(`${transition} script ${script.text}: ${failed}`)));
  }

  private onHealth(e: HealthEvent): void {
    const [vsId] = e.id.split(' -> ');
    const st = this.vss.get(vsId);
    const rs = st?.vs.realServers[rsIdsOf(st).indexOf(e.id)];
    // A weight event can come just before a 'down' (the dynamic weight is reset first):
    // report what the server is now, not "up".
    const up = e.type === 'weight' ? (this.health.status(e.id)?.alive ?? true) : e.type === 'up';
    const ev: RealServerEvent = { virtualServer: vsId, realServer: e.id.slice(vsId.length + 4), up, weight: e.weight };
    if (e.type === 'down') ev.reason = e.reason;
    else if (e.type === 'weight') ev.reason = e.reason;
    this.emit('realServer', ev);
    if (st) st.dirty = true;
    if (rs) {
      const script = e.type === 'up' ? rs.notifyUp : e.type === 'down' ? rs.notifyDown : undefined;
      const limit = e.type === 'down' && e.code === 'shutdown' ? SHUTDOWN_SCRIPT_MS : undefined;
      if (script) void this.runScript(script, limit).then((failed) => failed && this.emit('error', new Error(`notify script ${script.text}: ${failed}`)));
    }
    this.scheduleApply();
  }

  /** Coalesces the events of one tick into one apply (one netlink batch). */
  private scheduleApply(): void {
    if (this.applyQueued || !this.table || !this.started) return;
    this.applyQueued = true;
    setImmediate(() => {
      this.applyQueued = false;
      this.applyChanged().catch((e) => this.emit('error', e));
    });
  }

  /**
   * After health events: only the services of the touched virtual servers go to the
   * kernel, one by one (a few ms each), instead of comparing the whole table again.
   */
  private applyChanged(): Promise<void> {
    const run = this.applying.then(async () => {
      const keys: string[] = [];
      for (const st of this.vss.values()) if (st.dirty) for (const i of st.instances) keys.push(i.key);
      await this.applyKeys(keys).catch(() => {}); // already reported; retried with the next event
    });
    this.applying = run.catch(() => {});
    return run;
  }

  /** Runs applyKeys in turn with every other apply. */
  private applyQueuedKeys(keys: Iterable<string>): Promise<void> {
    const run = this.applying.then(() => this.applyKeys(keys));
    this.applying = run.catch(() => {});
    return run;
  }

  private applyNow(signal?: AbortSignal): Promise<void> {
    const run = this.applying.then(async () => {
      if (!this.table) return;
      const report = await this.table.apply(this.desired(), { signal });
      this.emit('applied', report);
    });
    this.applying = run.catch(() => {});
    return run;
  }

  /**
   * Moves to a new configuration with the fewest kernel changes: unchanged services
   * and real servers are left alone (the planner skips them), checkers of unchanged
   * real servers keep their state, removed real servers are drained first.
   */
  async reload(config: KeepalivedConfig): Promise<void> {
    // Before any state is read: events arriving during this await must not be lost.
    const cand = this.candidates(config);
    await this.health.load(checkerTypes(cand.list));
    const { fresh, replaced, removed, rebind } = this.diff(config, cand);
    // The kernel call that can fail comes first: a reload that throws changes nothing.
    const timeouts = config.global.lvsTimeouts;
    if (timeouts && JSON.stringify(timeouts) !== JSON.stringify(this.config.global.lvsTimeouts ?? null)) await this.setTimeouts(timeouts);
    // Health targets are validated before anything of theirs changes. Unchanged real
    // servers of a changed virtual server compare equal and keep their checkers' state.
    const upsert = fresh.flatMap((st) => st.targets);
    this.health.patch(upsert, [...replaced, ...removed].flatMap((st) => st.targets.map((t) => t.id)));

    // The services to send: those of every virtual server changed, added or removed, and
    // of every real server starting or ending a drain. Unchanged ones are not looked at.
    const touched = new Set<string>();
    const freshById = new Map(fresh.map((st) => [st.id, st]));
    const now = Date.now();
    for (const prev of replaced) {
      for (const i of prev.instances) touched.add(i.key);
      const after = freshById.get(prev.id)!;
      const kept = new Set(after.vs.realServers.map((r) => realServerId(prev.id, r)));
      for (const rs of prev.vs.realServers) {
        const rsId = realServerId(prev.id, rs);
        if (!kept.has(rsId)) this.draining.set(rsId, { vsId: prev.id, rsId, rs, instances: prev.instances, since: now });
      }
    }
    for (const st of removed) for (const i of st.instances) touched.add(i.key);
    for (const st of fresh) for (const i of st.instances) touched.add(i.key);
    if (this.draining.size) {
      const gone = new Set(removed.map((st) => st.id));
      for (const [rsId, d] of this.draining) {
        // Its virtual server is gone: nothing left to drain into. Back in the config: live again.
        const back = freshById.get(d.vsId)?.vs.realServers.some((r) => realServerId(d.vsId, r) === rsId);
        if (gone.has(d.vsId) || back) {
          this.draining.delete(rsId);
          for (const i of d.instances) touched.add(i.key);
        }
      }
    }

    this.config = config;
    for (const [st, vs] of rebind) {
      this.byVs.delete(st.vs);
      st.vs = vs;
      this.byVs.set(vs, st); // equal, so its ha_suspend did not change either
    }
    for (const st of removed) this.drop(st);
    for (const st of fresh) {
      this.put(st);
      // ha_suspend carried over: the new targets start suspended too.
      if (st.suspended) for (const t of st.targets) this.health.suspend(t.id, true);
      if (st.init) st.quorumUp = initialQuorumUp(this.quorumConfig(st.vs), this.servers(st));
    }
    await this.followSuspend();
    const owned: string[] = [];
    for (const st of fresh) for (const i of st.instances) owned.push(i.key);
    for (const d of this.draining.values()) for (const i of d.instances) owned.push(i.key);
    this.table?.own(owned);
    if (this.draining.size && !this.drainTimer) this.drainTimer = setInterval(() => this.drainTick(), 1000);
    await this.applyQueuedKeys(touched);
  }

  /** One drain check at a time; a failure is reported, never thrown out of a timer. */
  private drainTick(): void {
    if (this.draining.size === 0 || this.drainBusy) return;
    this.drainBusy = true;
    this.checkDrains()
      .catch((e) => this.emit('error', e))
      .finally(() => (this.drainBusy = false));
  }

  private async checkDrains(): Promise<void> {
    if (!this.client || !this.started) return;
    const done = new Set<string>();
    for (const [rsId, d] of [...this.draining]) {
      const timedOut = Date.now() - d.since >= this.opts.drainTimeout * 1000;
      let active = 0;
      if (!timedOut) {
        for (const inst of d.instances) {
          try {
            const dests = await this.client.listDestinations(inst.spec);
            const dest = dests.find((x) => x.address === d.rs.address && x.port === d.rs.port);
            active += (dest?.activeConns ?? 0) + (dest?.inactiveConns ?? 0);
          } catch {
            /* service gone: nothing to drain */
          }
        }
      }
      // A reload during the awaits above may have replaced this drain: that one is not done.
      if ((timedOut || active === 0) && this.draining.get(rsId) === d) {
        this.draining.delete(rsId);
        for (const i of d.instances) done.add(i.key);
        this.emit('drained', { virtualServer: d.vsId, realServer: rsId.slice(d.vsId.length + 4), timedOut });
      }
    }
    if (this.draining.size === 0 && this.drainTimer) {
      clearInterval(this.drainTimer);
      this.drainTimer = undefined;
    }
    if (!this.started || !done.size) return;
    await this.applyQueuedKeys(done);
  }

  /** Stops the checkers; removes every service this director owns unless `keepIpvs`. */
  async stop(keepIpvs: boolean): Promise<void> {
    this.started = false; // in-flight drain checks and health events stop here
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.drainTimer = undefined;
    this.local?.close();
    this.local = undefined;
    this.health.stop(); // with omega: live real servers reported down, their notify_down run
    this.table?.stop();
    // keepalived's omega: "on daemon shutdown, consider quorum and RS down notifiers".
    for (const st of this.vss.values()) {
      const script = st.vs.quorumDown;
      if (st.vs.omega && st.quorumUp && script) {
        void this.runScript(script, SHUTDOWN_SCRIPT_MS).then((failed) => failed && this.emit('error', new Error(`quorum_down script ${script.text}: ${failed}`)));
      }
    }
    await Promise.allSettled([...this.scripts]);
    await this.applying;
    const table = this.table;
    try {
      if (table && !keepIpvs) {
        this.vss = new Map();
        this.byKey.clear();
        this.byVs.clear();
        this.suspendable.clear();
        this.draining.clear();
        await table.apply([]);
      }
    } finally {
      this.client?.close();
      this.client = undefined;
      this.table = undefined;
    }
  }

  status() {
    const services = (this.table?.snapshot() ?? []).map(({ service: s, destinations }) => ({
      service: serviceKeyString(s),
      scheduler: s.scheduler,
      persistenceTimeout: s.persistent ? s.persistenceTimeout : 0,
      destinations: destinations.map((d) => ({ address: d.address, port: d.port, forwardingMethod: d.forwardingMethod, weight: d.weight })),
    }));
    return {
      virtualServers: [...this.vss.values()].map((st) => ({
        id: st.id,
        quorumUp: st.quorumUp,
        sorryServer: st.sorryActive,
        realServers: st.vs.realServers.map((rs) => {
          const id = realServerId(st.id, rs);
          const s = this.health.status(id);
          return {
            id: id.slice(st.id.length + 4),
            alive: s ? s.alive : true,
            weight: s ? s.weight : rs.weight,
            checkers: s?.checkers.map((c) => ({ type: c.type, up: c.up, lastResult: c.lastResult })) ?? [],
          };
        }),
      })),
      draining: [...this.draining.values()].map((d) => d.rsId),
      ipvs: services,
    };
  }
}

/** Deep equality of two config subtrees, ignoring where they were written (`loc`). */
export function sameIgnoringLoc(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => k !== 'loc');
  const kb = Object.keys(b).filter((k) => k !== 'loc');
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!sameIgnoringLoc((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

function checkerTypes(list: readonly VirtualServer[]): Set<CheckerType> {
  const out = new Set<CheckerType>();
  for (const vs of list) for (const rs of vs.realServers) for (const c of rs.checkers) out.add(c.type);
  return out;
}

/** `svc` with `dests` added (those it does not have yet); a copy, so cached entries stay as they were. */
function withDests(svc: DesiredService, dests: readonly DestinationSpec[]): DesiredService {
  const have = svc.destinations ?? [];
  const add = dests.filter((d) => !have.some((x) => x.address === d.address && x.port === d.port));
  return add.length ? { ...svc, destinations: [...have, ...add] } : svc;
}
