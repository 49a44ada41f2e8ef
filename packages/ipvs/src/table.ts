// IpvsTable: the declarative side. The caller says what its services should look
// like; the table plans against what the kernel has and applies the difference in
// batches. The first apply dumps the kernel and adopts what already matches; later
// applies plan against the state this table last applied (no dump), so one changed
// weight costs one message. verify() dumps again and repairs drift (someone ran
// `ipvsadm -C`), optionally on a timer; a receive-buffer overrun triggers the same
// resync.
import { EventEmitter } from 'node:events';
import type { IpvsClient } from './client.js';
import { IpvsApplyError, IpvsError } from './errors.js';
import { normalizeTable, type NormalizedEntry, type NormalizedTable } from './normalize.js';
import { ownedKeys, planTables, tableFromSnapshot, type OwnedKeys } from './plan.js';
import { type DesiredService, type IpvsOp, type ServiceKey, type Service } from './types.js';

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
    const all = new Set(this.owned);
    for (const t of [this.desired, this.state]) if (t) for (const k of t.keys()) all.add(k);
    return [...all];
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

  /**
   * Upserts one service of the desired table (and only it): validates, plans and sends
   * its changes without looking at the rest of the table. What a health checker calls
   * when one real server goes down or comes back.
   */
  applyService(spec: DesiredService, opts: { signal?: AbortSignal } = {}): Promise<ApplyReport> {
    let one: NormalizedTable;
    try {
      one = normalizeTable([spec], this.desired);
    } catch (e) {
      return Promise.reject(e);
    }
    const [key, entry] = one.entries().next().value as [string, NormalizedEntry];
    return this.serial(() => this.applyOne(key, entry, opts.signal)).catch((e) => this.failed(e));
  }

  /** Deletes one owned service (and its real servers) and drops it from the desired table. */
  removeService(key: ServiceKey | DesiredService | string, opts: { signal?: AbortSignal } = {}): Promise<ApplyReport> {
    let k: string;
    try {
      k = [...ownedKeys([key])][0];
    } catch (e) {
      return Promise.reject(e);
    }
    this.owned.add(k); // if it comes back behind our back, verify() removes it again
    return this.serial(() => this.applyOne(k, undefined, opts.signal)).catch((e) => this.failed(e));
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

  /** Owned: listed explicitly, desired now, desired before, or applied before. A predicate, so nothing is copied. */
  private allOwned(want?: NormalizedTable): OwnedKeys {
    const { owned, desired, state } = this;
    return { has: (k) => owned.has(k) || !!want?.has(k) || !!desired?.has(k) || !!state?.has(k) };
  }

  private async dumpOwned(owned: OwnedKeys, signal?: AbortSignal): Promise<NormalizedTable> {
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

  private async applyOne(key: string, entry: NormalizedEntry | undefined, signal?: AbortSignal): Promise<ApplyReport> {
    const t0 = performance.now();
    const dumped = this.state === undefined;
    if (!this.state) this.state = await this.dumpOwned(this.allOwned(), signal);
    const desired = this.desired ?? new Map();
    const have = this.state.get(key);
    const cur: NormalizedTable = have ? new Map([[key, have]]) : new Map();
    const want: NormalizedTable = entry ? new Map([[key, entry]]) : new Map();
    const ops = have === entry ? [] : planTables(cur, want, { has: (k) => k === key });
    const record = (t: NormalizedTable | undefined) => (entry ? t?.set(key, entry) : t?.delete(key));
    let messages = 0;
    try {
      if (ops.length) messages = await this.send(ops, signal);
    } finally {
      // The caller's intent stands even if the kernel refused (verify() retries it). The
      // state (possibly the same Map as the desired table) changes only on success, and a
      // failure has already made it unknown.
      record(desired);
      this.desired = desired;
      if (this.state !== desired) record(this.state);
    }
    const report: ApplyReport = { ops, dumped, messages, durationMs: performance.now() - t0 };
    this.emit('applied', report);
    return report;
  }

  /** Sends ops; any failure makes the state unknown, so the next call dumps first. */
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
      throw new IpvsApplyError(res.errors, res.messages); // errors are per message (a service carries its real servers)
    }
    return res.messages;
  }
}

export { IpvsError };
