// The VRRP side of a director: one VrrpInstance per vrrp_instance, sync groups
// around them, and reload by instance: an instance whose options did not change
// is not touched, a changed one is replaced by a successor that resumes its state
// (no election, no state flap) unless it became another virtual router.
import { EventEmitter } from 'node:events';
import { VrrpInstance, VrrpSyncGroup, type ResolvedOptions, type StateChangeEvent, type VrrpInstanceOptions, type VrrpState } from '@lvsd/vrrp';
import type { KeepalivedConfig } from './config/model.js';
import { notifyScripts, vrrpOptions } from './map/vrrp.js';

export interface VrrpSideEvents {
  stateChange: [StateChangeEvent];
  error: [Error];
  warning: [string];
}

interface Entry {
  instance: VrrpInstance;
  fingerprint: string;
}

export class VrrpSide extends EventEmitter<VrrpSideEvents> {
  private readonly entries = new Map<string, Entry>();
  private groups: VrrpSyncGroup[] = [];
  private groupPrint = '';

  constructor(
    private config: KeepalivedConfig,
    private readonly netns?: string,
  ) {
    super();
  }

  private create(opts: VrrpInstanceOptions): VrrpInstance {
    const inst = new VrrpInstance(opts);
    inst.on('stateChange', (e) => this.emit('stateChange', e));
    inst.on('error', (e) => this.emit('error', e));
    inst.on('warning', (w) => this.emit('warning', `${opts.name}: ${w}`));
    return inst;
  }

  private wanted(config: KeepalivedConfig): Map<string, VrrpInstanceOptions> {
    return new Map(config.vrrpInstances.map((i) => [i.name, vrrpOptions(i, config, this.netns)]));
  }

  private buildGroups(config: KeepalivedConfig): VrrpSyncGroup[] {
    const fifo = (config.global.vrrpNotifyFifo ?? config.global.notifyFifo)?.path;
    return config.vrrpSyncGroups.map(
      (g) =>
        new VrrpSyncGroup(
          { name: g.name, ...notifyScripts(g.notify), ...(fifo ? { notifyFifo: fifo } : {}) },
          g.group.map((n) => this.entries.get(n)?.instance).filter((i): i is VrrpInstance => !!i),
        ),
    );
  }

  async start(signal?: AbortSignal): Promise<void> {
    for (const [name, opts] of this.wanted(this.config)) this.entries.set(name, { instance: this.create(opts), fingerprint: JSON.stringify(opts) });
    this.groups = this.buildGroups(this.config);
    this.groupPrint = JSON.stringify(this.config.vrrpSyncGroups.map((g) => [g.name, g.group, g.notify]));
    await Promise.all([...this.entries.values()].map((e) => e.instance.start({ signal })));
  }

  async reload(config: KeepalivedConfig): Promise<{ kept: string[]; replaced: string[]; added: string[]; removed: string[] }> {
    const want = this.wanted(config);
    const groupPrint = JSON.stringify(config.vrrpSyncGroups.map((g) => [g.name, g.group, g.notify]));
    const grouped = new Set([...this.config.vrrpSyncGroups, ...config.vrrpSyncGroups].flatMap((g) => g.group));
    const changed = (name: string) => {
      const e = this.entries.get(name);
      const next = want.get(name);
      return !e || !next || JSON.stringify(next) !== e.fingerprint;
    };
    // A sync group's members are bound to its object: when a group or any member
    // changes, every grouped instance is replaced and the groups are built again.
    const regroup = groupPrint !== this.groupPrint || [...grouped].some(changed);
    const report = { kept: [] as string[], replaced: [] as string[], added: [] as string[], removed: [] as string[] };
    const fresh: VrrpInstance[] = [];
    const resume = new Map<VrrpInstance, VrrpState>();
    for (const [name, e] of [...this.entries]) {
      const next = want.get(name);
      if (!changed(name) && !(regroup && grouped.has(name))) {
        report.kept.push(name);
        continue;
      }
      this.entries.delete(name);
      if (!next) {
        await e.instance.stop();
        report.removed.push(name);
        continue;
      }
      report.replaced.push(name);
      const inst = this.create(next);
      this.entries.set(name, { instance: inst, fingerprint: JSON.stringify(next) });
      fresh.push(inst);
      if (sameRouter(e.instance.options, inst.options)) {
        // Same virtual router: the successor resumes its state, no election (keepalived).
        resume.set(inst, await e.instance.handOver(inst.options));
      } else {
        await e.instance.stop(); // another router now: resign, the new one is elected afresh
      }
    }
    for (const [name, opts] of want) {
      if (this.entries.has(name)) continue;
      report.added.push(name);
      const inst = this.create(opts);
      this.entries.set(name, { instance: inst, fingerprint: JSON.stringify(opts) });
      fresh.push(inst);
    }
    this.config = config;
    if (regroup) {
      this.groups = this.buildGroups(config);
      this.groupPrint = groupPrint;
    }
    const started = await Promise.allSettled(fresh.map((i) => i.start({ resume: resume.get(i) })));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // Not kept as if it were running: the next reload starts it again.
      for (const [name, e] of this.entries) if (fresh.includes(e.instance) && e.instance.state === 'INIT') this.entries.delete(name);
      throw failed.reason;
    }
    return report;
  }

  /** `release: false` leaves the VIPs in place (keepalived --dont-release-vrrp). */
  async stop(release = true): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.instance.stop({ release })));
  }

  instance(name: string): VrrpInstance | undefined {
    return this.entries.get(name)?.instance;
  }

  status() {
    return [...this.entries.values()].map(({ instance }) => {
      const s = instance.stats();
      return {
        name: s.name,
        state: s.state,
        priority: s.priority,
        basePriority: s.basePriority,
        masterAddress: s.masterAddress,
        vips: instance.options.vips.map((v) => `${v.address}/${v.prefix}`),
        advertsSent: s.advertsSent,
        advertsReceived: s.advertsReceived,
        drops: s.drops,
        faults: s.faults,
      };
    });
  }
}

/** One virtual router on the wire: same interface, VRID, family and version. */
function sameRouter(a: Readonly<ResolvedOptions>, b: Readonly<ResolvedOptions>): boolean {
  return a.interface === b.interface && a.vrid === b.vrid && a.family === b.family && a.version === b.version;
}
