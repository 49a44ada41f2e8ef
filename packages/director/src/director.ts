// Director: a whole LVS director from one keepalived configuration. VRRP keeps the
// VIPs, the health checks decide which real servers are in the IPVS table, and
// the VRRP state drives the IPVS sync daemon. Every part is optional (-P / -C).
import { EventEmitter } from 'node:events';
import { LvsdError } from '@lvsd/native';
import type { StateChangeEvent } from '@lvsd/vrrp';
import type { ApplyReport } from '@lvsd/ipvs';
import type { CheckSide, QuorumEvent, RealServerEvent } from './checks.js';
import type { KeepalivedConfig } from './config/model.js';
import type { DirectorMetrics } from './metrics.js';
import type { VrrpSide } from './vrrp-side.js';
import type { SyncDaemonDriver, SyncState } from './sync-daemon.js';

export interface DirectorOptions {
  /** Run VRRP (keepalived -P runs only this). Default true. */
  vrrp?: boolean;
  /** Run health checks and program IPVS (keepalived -C runs only this). Default true. */
  check?: boolean;
  /** Leave the IPVS services in the kernel on stop (keepalived --dont-release-ipvs). */
  dontReleaseIpvs?: boolean;
  /** Leave the VIPs and virtual routes on stop and send no priority-0 advert (keepalived --dont-release-vrrp). */
  dontReleaseVrrp?: boolean;
  /** Run everything inside this network namespace (a path under /var/run/netns or /proc/PID/ns/net). */
  netns?: string;
  /** Seconds a real server removed by reload keeps weight 0 before deletion if connections remain. Default 60. */
  drainTimeout?: number;
  /** Milliseconds between drift checks of the IPVS table. Default 60000; 0 disables. */
  verifyInterval?: number;
  /**
   * Keep Prometheus metrics (`director.metrics`). Implied by `metricsPort`. Off by
   * default: prom-client is loaded only for a director that reports to it.
   */
  metrics?: boolean;
  /** Serve Prometheus metrics on this port (loopback unless metricsHost says otherwise). */
  metricsPort?: number;
  metricsHost?: string;
  /** Accepted for the CLI's convenience; the director reports through 'log' events. */
  logger?: unknown;
}

export interface DirectorLogEvent {
  level: 'error' | 'warn' | 'info' | 'debug';
  msg: string;
  [field: string]: unknown;
}

export interface DirectorEvents {
  /** One line per event, for loggers (the CLI prints these). */
  log: [DirectorLogEvent];
  vrrpState: [StateChangeEvent];
  realServer: [RealServerEvent];
  quorum: [QuorumEvent];
  /** Every change sent to the IPVS table: the operations and how many netlink messages. */
  ipvs: [ApplyReport];
  error: [Error];
}

export type DirectorState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/** The sync daemon's state for its VRRP instance's state. */
function syncStateOf(vrrpState: string | undefined): SyncState {
  if (vrrpState === 'MASTER') return 'master';
  return vrrpState === undefined || vrrpState === 'STOP' ? 'none' : 'backup';
}

export class Director extends EventEmitter<DirectorEvents> {
  /** Prometheus metrics, from start() on, with the `metrics` or `metricsPort` option. */
  metrics: DirectorMetrics | undefined;
  private config: KeepalivedConfig;
  private readonly opts: Required<Pick<DirectorOptions, 'vrrp' | 'check' | 'dontReleaseIpvs' | 'dontReleaseVrrp' | 'drainTimeout' | 'verifyInterval'>> &
    DirectorOptions;
  private vrrp: VrrpSide | undefined;
  private checks: CheckSide | undefined;
  private state: DirectorState = 'new';

  constructor(config: KeepalivedConfig, opts: DirectorOptions = {}) {
    super();
    this.config = config;
    this.opts = {
      ...opts,
      vrrp: opts.vrrp ?? true,
      check: opts.check ?? true,
      dontReleaseIpvs: opts.dontReleaseIpvs ?? false,
      dontReleaseVrrp: opts.dontReleaseVrrp ?? false,
      drainTimeout: opts.drainTimeout ?? 60,
      verifyInterval: opts.verifyInterval ?? 60_000,
    };
  }

  private log(level: DirectorLogEvent['level'], msg: string, fields: Record<string, unknown> = {}): void {
    this.emit('log', { level, msg, ...fields });
  }

  private fail(part: string, e: Error): void {
    this.metrics?.errors.inc({ part });
    this.log('error', `${part}: ${e.message}`, { event: 'error', part, code: (e as LvsdError).code });
    if (this.listenerCount('error')) this.emit('error', e);
  }

  /** start, reload and stop run one after the other: a stop during a start waits for it. */
  private lifecycle: Promise<unknown> = Promise.resolve();
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(fn);
    this.lifecycle = run.catch(() => {});
    return run;
  }

  /** Starts the configured parts. Rejects (and leaves nothing running) if one cannot start. */
  start(opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new LvsdError('LVSD_ERR_DIRECTOR_STATE', `start() in state ${this.state}`));
    this.state = 'starting';
    return this.serial(() => this.doStart(opts));
  }

  private async doStart(opts: { signal?: AbortSignal }): Promise<void> {
    try {
      if (this.opts.metrics || this.opts.metricsPort !== undefined) {
        const { DirectorMetrics } = await import('./metrics.js');
        this.metrics ??= new DirectorMetrics();
      }
      if (this.opts.check) {
        // Each part is loaded only when it runs: `lvsd -C` never loads VRRP, `-P` never
        // loads the checkers (their HTTP client alone is most of a start-up in the lab).
        const { CheckSide } = await import('./checks.js');
        this.checks = this.makeChecks(new CheckSide(this.config, this.checkOptions()));
        await this.checks.start(opts.signal);
        this.log('info', `IPVS programmed: ${this.config.virtualServers.length} virtual servers`, { event: 'ipvs-ready' });
      }
      if (this.opts.vrrp) {
        if (this.config.global.lvsSyncDaemon) this.sync = await this.makeSync();
        const { VrrpSide } = await import('./vrrp-side.js');
        this.vrrp = this.makeVrrp(new VrrpSide(this.config, this.opts.netns));
        await this.vrrp.start(opts.signal);
      }
      if (this.metrics && this.opts.metricsPort !== undefined) {
        const port = await this.metrics.listen(this.opts.metricsPort, this.opts.metricsHost);
        this.log('info', `metrics on http://${this.opts.metricsHost ?? '127.0.0.1'}:${port}/metrics`, { event: 'metrics', port });
      }
      this.state = 'running';
    } catch (e) {
      this.state = 'stopping';
      // The IPVS table stays: a restart may have adopted a table carrying traffic, and
      // a failed start must not drop it (stop() or the next start deals with it).
      await this.teardown(true, this.opts.dontReleaseVrrp).catch(() => {});
      this.state = 'stopped';
      throw e;
    }
  }

  private checkOptions() {
    return { netns: this.opts.netns, drainTimeout: this.opts.drainTimeout, verifyInterval: this.opts.verifyInterval };
  }

  private makeChecks(c: CheckSide): CheckSide {
    c.on('realServer', (e) => {
      const labels = { virtual_server: e.virtualServer, real_server: e.realServer };
      this.metrics?.realServerUp.set(labels, e.up ? 1 : 0);
      this.metrics?.realServerWeight.set(labels, e.weight);
      this.log(e.up ? 'info' : 'warn', `${e.virtualServer}: real server ${e.realServer} ${e.up ? 'up' : 'down'}${e.reason ? ` (${e.reason})` : ''}, weight ${e.weight}`, {
        event: 'real-server',
        ...e,
      });
      this.emit('realServer', e);
    });
    c.on('quorum', (e) => {
      this.metrics?.quorumUp.set({ virtual_server: e.virtualServer }, e.up ? 1 : 0);
      this.log(e.up ? 'info' : 'warn', `${e.virtualServer}: quorum ${e.up ? 'gained' : 'lost'} (weight ${e.weightSum})${e.sorryServer ? ', sorry server in' : ''}`, {
        event: 'quorum',
        ...e,
      });
      this.emit('quorum', e);
    });
    c.on('applied', (r) => {
      this.metrics?.ipvsApplies.inc();
      this.metrics?.ipvsOps.inc(r.messages);
      this.metrics?.ipvsApplySeconds.observe(r.durationMs / 1000);
      this.emit('ipvs', r);
      if (r.ops.length) this.log('debug', `IPVS: ${r.ops.length} changes in ${r.messages} messages, ${r.durationMs.toFixed(1)} ms`, { event: 'ipvs-applied', ops: r.ops.length });
    });
    c.on('suspended', (e) =>
      this.log('info', `${e.virtualServer}: health checks ${e.suspended ? 'suspended (ha_suspend: its address is not on this host)' : 'resumed (its address is on this host)'}`, {
        event: 'ha-suspend',
        ...e,
      }),
    );
    c.on('drained', (d) => this.log('info', `${d.virtualServer}: real server ${d.realServer} drained${d.timedOut ? ' (timeout)' : ''}, removed`, { event: 'drained', ...d }));
    c.on('error', (e) => this.fail('check', e));
    return c;
  }

  private makeVrrp(v: VrrpSide): VrrpSide {
    v.on('stateChange', (e) => {
      this.metrics?.setVrrpState(e.instance, e.to);
      this.log('info', `${e.instance} entering ${e.to} state (${e.reason}, priority ${e.priority})`, { event: 'vrrp-state', ...e });
      this.emit('vrrpState', e);
      this.followSyncDaemon(e);
    });
    v.on('error', (e) => this.fail('vrrp', e));
    v.on('warning', (w) => this.log('warn', w, { event: 'vrrp-warning' }));
    return v;
  }

  /** lvs_sync_daemon: the IPVS sync daemon is master while its VRRP instance is. */
  private followSyncDaemon(e: StateChangeEvent): void {
    const sd = this.config.global.lvsSyncDaemon;
    if (!sd || sd.vrrpInstance !== e.instance || !this.sync) return;
    void this.sync.follow(syncStateOf(e.to));
  }

  private async makeSync(): Promise<SyncDaemonDriver> {
    const { SyncDaemonDriver } = await import('./sync-daemon.js');
    return new SyncDaemonDriver(this.config.global.lvsSyncDaemon, this.opts.netns, (r) => {
      if (r.error) this.fail('sync-daemon', r.error);
      else this.log('info', `IPVS sync daemon: ${r.state}`, { event: 'sync-daemon', state: r.state });
    });
  }

  private sync: SyncDaemonDriver | undefined;

  /**
   * Moves to a new configuration with the smallest change: unchanged VRRP instances
   * keep their state, unchanged services and real servers are not touched in the
   * kernel, removed real servers are drained before deletion.
   */
  reload(config: KeepalivedConfig): Promise<void> {
    return this.serial(() => this.doReload(config));
  }

  private async doReload(config: KeepalivedConfig): Promise<void> {
    if (this.state !== 'running') throw new LvsdError('LVSD_ERR_DIRECTOR_STATE', `reload() in state ${this.state}`);
    const prev = this.config;
    this.config = config;
    try {
      if (this.checks) {
        const t0 = performance.now();
        await this.checks.reload(config);
        this.log('debug', `IPVS and checks reloaded in ${(performance.now() - t0).toFixed(1)} ms`, { event: 'checks-reloaded' });
      }
      if (this.vrrp) {
        const r = await this.vrrp.reload(config);
        this.log('info', `VRRP reloaded: kept ${r.kept.length}, replaced ${r.replaced.length}, added ${r.added.length}, removed ${r.removed.length}`, {
          event: 'vrrp-reload',
          ...r,
        });
      }
    } catch (e) {
      this.config = prev;
      throw e;
    }
    await this.reloadSyncDaemon();
  }

  /** lvs_sync_daemon changed: the daemon restarts with the new settings, in the state of its (new) instance. */
  private async reloadSyncDaemon(): Promise<void> {
    const cfg = this.config.global.lvsSyncDaemon;
    if (!this.vrrp || (!cfg && !this.sync)) return; // without VRRP (-C) nothing drives the daemon
    this.sync ??= await this.makeSync();
    void this.sync.reconfigure(cfg, syncStateOf(cfg ? this.vrrp.instance(cfg.vrrpInstance)?.state : undefined));
  }

  /** Releases what the director holds: priority-0 adverts and VIPs, IPVS services (unless told to keep them). */
  stop(): Promise<void> {
    return this.serial(async () => {
      if (this.state === 'stopped' || this.state === 'new') {
        this.state = 'stopped';
        return;
      }
      this.state = 'stopping';
      await this.teardown(this.opts.dontReleaseIpvs, this.opts.dontReleaseVrrp);
      this.state = 'stopped';
    });
  }

  private async teardown(keepIpvs: boolean, keepVrrp = false): Promise<void> {
    const errors: Error[] = [];
    await this.sync?.stop();
    this.sync = undefined;
    await Promise.all([
      this.vrrp?.stop(!keepVrrp).catch((e: Error) => errors.push(e)),
      this.checks?.stop(keepIpvs).catch((e: Error) => errors.push(e)),
      this.metrics?.close(),
    ]);
    this.vrrp = undefined;
    this.checks = undefined;
    if (errors.length) throw errors[0];
  }

  /** A JSON-safe snapshot: instances, states, VIPs, services, real servers, check results. */
  status() {
    return {
      state: this.state,
      routerId: this.config.global.routerId,
      vrrp: this.vrrp?.status() ?? [],
      check: this.checks?.status() ?? null,
    };
  }
}
