// lvs_sync_daemon: the kernel's IPVS connection-sync daemon follows one VRRP
// instance, master while it is MASTER and backup otherwise, as keepalived's VRRP
// process drives it. Changes run one at a time and always toward the latest wanted
// state, so a quick BACKUP -> MASTER -> BACKUP ends with the backup daemon. Its own
// IPVS handle: `lvsd -P` (VRRP only) drives the daemon too.
import { IpvsClient } from '@lvsd/ipvs';
import type { LvsSyncDaemon } from './config/model.js';

export type SyncState = 'master' | 'backup' | 'none';

export interface SyncDaemonReport {
  state: SyncState;
  error?: Error;
}

export class SyncDaemonDriver {
  private client: IpvsClient | undefined;
  private wanted: SyncState = 'none';
  private chain: Promise<void> = Promise.resolve();
  /** Set once this driver has managed a daemon: only then does stop() stop one. */
  private touched = false;

  constructor(
    private cfg: LvsSyncDaemon | undefined,
    private readonly netns: string | undefined,
    private readonly report: (r: SyncDaemonReport) => void,
  ) {}

  /** Wants the daemon in `state`; runs after the changes already queued. */
  follow(state: SyncState): Promise<void> {
    this.wanted = state;
    return this.enqueue(false);
  }

  /**
   * A reload: with changed settings the running daemon is stopped and started again
   * with the new ones, in `state` (that of the configured instance now).
   */
  reconfigure(cfg: LvsSyncDaemon | undefined, state: SyncState): Promise<void> {
    if (sameSettings(this.cfg, cfg)) return this.follow(state);
    this.cfg = cfg;
    this.wanted = cfg ? state : 'none';
    return this.enqueue(true);
  }

  /** Stops the daemon this driver started (none other) and closes the handle. */
  async stop(): Promise<void> {
    this.wanted = 'none';
    if (this.touched) await this.enqueue(false);
    else await this.chain;
    this.client?.close();
    this.client = undefined;
  }

  private enqueue(restart: boolean): Promise<void> {
    const run = this.chain.then(async () => {
      const want = this.wanted;
      if (want === 'none' && !this.touched) return;
      try {
        await this.apply(want, restart);
        this.report({ state: want });
      } catch (e) {
        this.report({ state: want, error: e as Error });
      }
    });
    this.chain = run;
    return run;
  }

  private async apply(state: SyncState, restart: boolean): Promise<void> {
    if (this.cfg) this.touched = true; // ours from now on, adopted or started: stop() ends it
    this.client ??= await IpvsClient.open({ netns: this.netns });
    const current = await this.client.listDaemons();
    for (const d of current) if (restart || d.state !== state) await this.client.stopDaemon(d.state);
    const cfg = this.cfg;
    if (state === 'none' || !cfg) return;
    if (!restart && current.some((d) => d.state === state)) return;
    await this.client.startDaemon({
      state,
      interface: cfg.interface,
      syncId: cfg.syncId,
      syncMaxlen: cfg.maxlen,
      mcastGroup: cfg.group,
      mcastPort: cfg.port,
      mcastTtl: cfg.ttl,
    });
  }
}

function sameSettings(a: LvsSyncDaemon | undefined, b: LvsSyncDaemon | undefined): boolean {
  const strip = (x: LvsSyncDaemon | undefined) => (x ? JSON.stringify({ ...x, loc: undefined }) : 'none');
  return strip(a) === strip(b);
}
