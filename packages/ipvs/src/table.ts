// IpvsTable: the declarative side. The caller says what its services should look
// like; the table plans against what the kernel has and applies the difference in
// batches. The first apply dumps the kernel and adopts what already matches; later
// applies plan against the state this table last applied (no dump), so one changed
// weight costs one message. verify() dumps again and repairs drift (someone ran
// `ipvsadm -C`), optionally on a timer; a receive-buffer overrun triggers the same
// resync.
import { EventEmitter } from 'node:events';
import type { IpvsClient, IpvsOp } from './client.js';
import { IpvsApplyError, IpvsError } from './errors.js';
import { normalizeTable, type NormalizedEntry, type NormalizedTable } from './normalize.js';
import { ownedKeys, planTables, tableFromSnapshot } from './plan.js';
import { type DesiredService, type ServiceKey, type Service } from './types.js';

export interface Timers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface IpvsTableOptions {
  /** Service keys this table manages besides those in the desired table (e.g. ones it must delete after a restart). */
  owned?: Iterable<ServiceKey | DesiredService | string>;
  /** Run verify() every this many ms once start() is called. 0 or absent: never. */
  verifyInterval?: number;
  /** Injected timers (tests use a fake clock). Default: the global ones. */
  timers?: Timers;
}

export interface ApplyReport {
  ops: IpvsOp[];
  /** Whether this apply read the kernel table first (first apply, after a failure or an overrun). */
  dumped: boolean;
  messages: number;
  durationMs: number;
}

export interface DriftReport {
  /** The repairs: what was missing or different in the kernel. Empty when none. */
  ops: IpvsOp[];
}

export interface IpvsTableEvents {
  applied: [ApplyReport];
  drift: [DriftReport];
  error: [Error];
}

export class IpvsTable extends EventEmitter<IpvsTableEvents> {
  private readonly client: IpvsClient;
  private readonly owned: Set<string>;
  private readonly timers: Timers;
  private readonly verifyInterval: number;
  private timer: unknown;
  /** What the kernel holds for the owned services, as far as this table knows; undefined = unknown, dump first. */
  private state: NormalizedTable | undefined;
  private desired: NormalizedTable | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(client: IpvsClient, opts: IpvsTableOptions = {}) {
    super();
    this.client = client;
    this.owned = ownedKeys(opts.owned ?? []);
    this.verifyInterval = opts.verifyInterval ?? 0;
    this.timers = opts.timers ?? { setInterval: (f, ms) => setInterval(f, ms), clearInterval: (h) => clearInterval(h as NodeJS.Timeout) };
  }

  /** Adds service keys to the owned set. */
  own(keys: Iterable<ServiceKey | DesiredService | string>): void {
    for (const k of ownedKeys(keys)) this.owned.add(k);
  }

  /** The owned service keys (desired and previously applied ones included). */
  ownedKeys(): string[] {
    return [...this.allOwned()];
  }

  /** Dry run: the operations apply(desired) would send now. Dumps the kernel if this table has no state yet. */
  async plan(desired: Iterable<DesiredService>, opts: { signal?: AbortSignal } = {}): Promise<IpvsOp[]> {
    const want = normalizeTable(desired, this.desired);
    return this.serial(async () => {
      const owned = this.allOwned(want);
      if (this.state) return planTables(this.state, want, owned, this.skip);
      return planTables(await this.dumpOwned(owned, opts.signal), want, owned);
    });
  }

  /** Makes the owned part of the kernel table equal `desired`. Throws IpvsApplyError if some operations failed. */
  apply(desired: Iterable<DesiredService>, opts: { signal?: AbortSignal } = {}): Promise<ApplyReport> {
    // Invalid input throws here, before anything is sent. Unchanged services are reused from the last call.
    let want: NormalizedTable;
    try {
      want = normalizeTable(desired, this.desired);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.serial(() => this.applyNow(want, opts.signal)).catch((e) => this.failed(e));
  }

  /** Dumps the kernel, compares with the last desired table and repairs any difference. */
  verify(opts: { signal?: AbortSignal } = {}): Promise<DriftReport> {
    return this.serial(async (): Promise<DriftReport> => {
      if (!this.desired) return { ops: [] };
      const want = this.desired;
      const owned = this.allOwned(want);
      const actual = await this.dumpOwned(owned, opts.signal);
      const ops = planTables(actual, want, owned);
      this.state = actual;
      if (ops.length) {
        this.emit('drift', { ops });
        await this.send(ops, opts.signal);
      }
      this.state = want;
      return { ops };
    }).catch((e) => this.failed(e));
  }

  /** Starts the periodic verify (when verifyInterval > 0). Its failures are emitted as 'error' (when listened to). */
  start(): void {
    if (this.timer !== undefined || this.verifyInterval <= 0) return;
    this.timer = this.timers.setInterval(() => {
      this.verify().catch(() => undefined); // already emitted as 'error'; the next round retries
    }, this.verifyInterval);
  }

  stop(): void {
    if (this.timer === undefined) return;
    this.timers.clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The table as this table believes the kernel holds it (owned services only). */
  snapshot(): { service: Service; destinations: import('./types.js').Destination[] }[] | undefined {
    if (!this.state) return undefined;
    return [...this.state.values()].map((e) => ({ service: e.service, destinations: [...e.dests] }));
  }

  // ---- internals ----

  /**
   * After a successful apply the state IS the desired table, and normalizeTable reuses
   * the entries of services that did not change: same object means nothing to compare.
   */
  /** A failed apply/verify: 'error' for listeners (never an unhandled 'error' event), then the rejection. */
  private failed(e: unknown): never {
    if (this.listenerCount('error') > 0) this.emit('error', e as Error);
    throw e;
  }

  private readonly skip = (key: string, entry: NormalizedEntry): boolean => this.state?.get(key) === entry;

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private allOwned(want?: NormalizedTable): Set<string> {
    const s = new Set(this.owned);
    if (want) for (const k of want.keys()) s.add(k);
    if (this.desired) for (const k of this.desired.keys()) s.add(k);
    if (this.state) for (const k of this.state.keys()) s.add(k);
    return s;
  }

  private async dumpOwned(owned: ReadonlySet<string>, signal?: AbortSignal): Promise<NormalizedTable> {
    const snap = await this.client.dumpTable({ signal, stats: false });
    return tableFromSnapshot(snap, owned);
  }

  private async applyNow(want: NormalizedTable, signal?: AbortSignal, retried = false): Promise<ApplyReport> {
    const t0 = performance.now();
    const owned = this.allOwned(want);
    const dumped = this.state === undefined;
    if (!this.state) this.state = await this.dumpOwned(owned, signal);
    const ops = planTables(this.state, want, owned, this.skip);
    this.desired = want;
    // Services that left the desired table are deleted by ops; keep them owned until then.
    let messages = 0;
    if (ops.length) {
      try {
        messages = await this.send(ops, signal);
      } catch (e) {
        if ((e as { code?: string }).code === 'LVSD_ERR_NETLINK_OVERRUN' && !retried) {
          this.state = undefined;
          return this.applyNow(want, signal, true);
        }
        throw e;
      }
    }
    // Everything owned now matches `want`: it becomes the state, shared, not copied.
    this.state = want;
    const report: ApplyReport = { ops, dumped, messages, durationMs: performance.now() - t0 };
    this.emit('applied', report);
    return report;
  }

  /** Sends ops, folds the accepted ones into the state; any failure makes the next call dump first. */
  private async send(ops: IpvsOp[], signal?: AbortSignal): Promise<number> {
    let res;
    try {
      res = await this.client.applyBatch(ops, { signal });
    } catch (e) {
      this.state = undefined; // unknown how far the kernel got
      throw e;
    }
    if (res.errors.length) {
      // Some changes landed, some did not: the next apply reads the kernel again.
      this.state = undefined;
      throw new IpvsApplyError(res.errors, ops.length);
    }
    return res.messages;
  }
}

export { IpvsError };
