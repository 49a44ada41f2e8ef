// The engine: one timer queue for every checker, a global concurrency cap, an
// AbortController per attempt whose deadline lives in the same queue, and
// per-server state turned into ordered up/down/weight events.
import { EventEmitter } from 'node:events';
import pLimit, { type LimitFunction } from 'p-limit';
import { systemClock, type Clock } from './clock.js';
import { HealthConfigError } from './errors.js';
import { checkerKey, resolveTarget, type ResolvedChecker } from './options.js';
import { isWatchRunner, type CheckContext, type CheckRunner, type PollRunner, type AttemptContext } from './runner.js';
import { aggregate, applyResultInPlace, initialCheckerState, type CheckerState } from './state.js';
import { TimerQueue, type TimerEntry } from './timer-queue.js';
import type { CheckResult, CheckerRef, CheckerType, HealthEvent, HealthEvents, HealthTarget, TargetStatus } from './types.js';

export interface CheckSchedulerOptions {
  clock?: Clock;
  /** Attempts in flight at once, all checkers together (default 1024). */
  concurrency?: number;
  /** [0, 1) source for the warmup jitter. */
  random?: () => number;
  /**
   * Timer tick, ms (default 10): checks and deadlines due within one tick run
   * in one wake-up, at most this late. 0: a wake-up per entry.
   */
  timerResolution?: number;
  /** Checker implementations by type; defaults to the built-in ones (see defaultRunners). */
  runners?: Partial<Record<CheckerType, CheckRunner>>;
}

interface CheckerRec {
  index: number;
  resolved: ResolvedChecker;
  key: string;
  runner: CheckRunner;
  state: CheckerState;
  timer?: TimerEntry;
  deadline?: TimerEntry;
  attempt?: Attempt;
  /** Bumped whenever an in-flight attempt's outcome must be ignored. */
  gen: number;
  running: boolean;
  startedAt: number;
  lastResult?: CheckResult;
  lastCheck?: number;
  nextCheck?: number;
  unwatch?: () => void;
  removed: boolean;
  /** The timer callback, made once per checker rather than once per attempt. */
  fire?: () => void;
  /** The deadline and grace callbacks, likewise once per checker. */
  onDeadline?: () => void;
  onGrace?: () => void;
  /** Timer entries kept for reuse (see TimerQueue.schedule). */
  timerSlot?: TimerEntry;
  deadlineSlot?: TimerEntry;
  /** weightDelta when the server was last aggregated. */
  lastDelta: number;
}

interface TargetRec {
  target: HealthTarget;
  weight: number;
  checkers: CheckerRec[];
  alive: boolean;
  effWeight: number;
  /** keepalived's ha_suspend: no checks run; the state stays as it was. */
  suspended?: boolean;
}

const TIMEOUT: CheckResult = { ok: false, code: 'timeout', reason: 'timeout' };

/** One attempt's context; its AbortController is made on first use of `signal`. */
class Attempt implements AttemptContext {
  private controller?: AbortController;
  private hook?: (ctx: CheckContext) => void;
  aborted = false;
  private reason: unknown;
  private settled = false;
  data?: unknown;
  /** p-limit's slot, for an attempt started through it by a callback runner. */
  release?: () => void;

  constructor(
    readonly target: HealthTarget,
    readonly checker: ResolvedChecker,
    readonly configuredWeight: number,
    /** The checker's generation this attempt belongs to. */
    readonly gen: number,
    private readonly settle: (a: Attempt, rec: TargetRec, c: CheckerRec, r: CheckResult) => void,
    private readonly rec: TargetRec,
    private readonly c: CheckerRec,
    /** Started on the fast path (outside p-limit). */
    readonly direct: boolean,
  ) {}

  complete(r: CheckResult): void {
    if (this.settled) return;
    this.settled = true;
    this.data = undefined;
    this.settle(this, this.rec, this.c, r);
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  onAbort(fn: (ctx: CheckContext) => void): void {
    if (this.aborted) fn(this);
    else this.hook = fn;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const h = this.hook;
    this.hook = undefined;
    h?.(this);
  }
}
/** The abort reason at an attempt's deadline. */
export const TIMEOUT_REASON = 'timeout';
const ABORT_GRACE_MS = 1000;

export class CheckScheduler extends EventEmitter<HealthEvents> {
  private readonly clock: Clock;
  private readonly queue: TimerQueue;
  private readonly limit: LimitFunction;
  private readonly cap: number;
  /** Attempts started without p-limit (the fast path, while well under the cap). */
  private direct = 0;
  private readonly random: () => number;
  private readonly runners: Partial<Record<CheckerType, CheckRunner>>;
  private readonly targets = new Map<string, TargetRec>();
  private started = false;
  private seq = 0;
  /** Attempts completed (for benchmarks and tests). */
  attempts = 0;

  constructor(opts: CheckSchedulerOptions = {}) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.queue = new TimerQueue(this.clock, opts.timerResolution ?? 10);
    this.cap = opts.concurrency ?? 1024;
    this.limit = pLimit(this.cap);
    this.random = opts.random ?? Math.random;
    this.runners = { ...opts.runners };
  }

  /** Timer-queue entries (live and lazily cancelled): for tests. */
  get queuedTimers(): number {
    return this.queue.size;
  }

  /** Attempts running or waiting for a concurrency slot. */
  get inFlight(): number {
    return this.direct + this.limit.activeCount + this.limit.pendingCount;
  }

  has(id: string): boolean {
    return this.targets.has(id);
  }

  /** Adds a target; its checkers start (after their warmup) if the scheduler runs. */
  add(target: HealthTarget): void {
    if (this.targets.has(target?.id)) throw new HealthConfigError(`target ${target.id} already exists (use update)`, target);
    const resolved = resolveTarget(target);
    const rec: TargetRec = { target, weight: target.weight ?? 1, checkers: [], alive: true, effWeight: 0 };
    rec.checkers = resolved.map((r, i) => this.newChecker(rec, r, i));
    const a = aggregate(rec.weight, rec.checkers.map((c) => c.state));
    rec.alive = a.alive;
    rec.effWeight = a.weight;
    this.targets.set(target.id, rec);
    if (this.started) for (const c of rec.checkers) this.startChecker(rec, c);
  }

  /** Removes a target: its timers are cancelled and running attempts aborted. No event. */
  remove(id: string): boolean {
    const rec = this.targets.get(id);
    if (!rec) return false;
    for (const c of rec.checkers) this.stopChecker(c);
    this.targets.delete(id);
    return true;
  }

  /**
   * Replaces a target's configuration. Checkers whose effective options are
   * unchanged keep their state, schedule and running attempt; others start fresh.
   */
  update(target: HealthTarget): void {
    const rec = this.targets.get(target?.id);
    if (!rec) return this.add(target);
    const resolved = resolveTarget(target);
    const old = rec.checkers.slice();
    const next: CheckerRec[] = [];
    const fresh: CheckerRec[] = [];
    resolved.forEach((r, i) => {
      const key = checkerKey(r);
      const j = old.findIndex((c) => c.key === key);
      if (j >= 0) {
        const c = old.splice(j, 1)[0];
        c.index = i;
        c.resolved = r;
        next.push(c);
      } else {
        const c = this.newChecker(rec, r, i);
        next.push(c);
        fresh.push(c);
      }
    });
    for (const c of old) this.stopChecker(c);
    rec.target = target;
    rec.weight = target.weight ?? 1;
    rec.checkers = next;
    if (this.started) for (const c of fresh) this.startChecker(rec, c);
    this.reaggregate(rec, next[0] ? ref(next[0]) : { index: -1, type: 'TCP_CHECK' }, 'config', undefined);
  }

  /** Makes the set of targets exactly `targets`: adds, updates (keeping unchanged state), removes. */
  apply(targets: readonly HealthTarget[]): void {
    const ids = new Set(targets.map((t) => t.id));
    this.patch(targets, [...this.targets.keys()].filter((id) => !ids.has(id)));
  }

  /**
   * Changes some targets and leaves the others alone: removes `remove` (ids), then adds
   * or updates `upsert` (an unchanged target keeps its state). What a reload of a few
   * virtual servers out of thousands costs: only what it names. Everything is
   * validated before anything changes.
   */
  patch(upsert: readonly HealthTarget[], remove: Iterable<string> = []): void {
    const ids = new Set<string>();
    for (const t of upsert) {
      if (ids.has(t.id)) throw new HealthConfigError(`duplicate target id ${t.id}`, t);
      ids.add(t.id);
      resolveTarget(t);
    }
    for (const id of remove) if (!ids.has(id) && this.targets.has(id)) this.remove(id);
    for (const t of upsert) {
      const rec = this.targets.get(t.id);
      if (!rec) this.add(t);
      else if (!sameTarget(rec.target, t)) this.update(t);
    }
  }

  /**
   * Loads what the current targets' checkers need before their first attempt (the
   * HTTP client for HTTP_GET / SSL_GET), or those of the checker `types` given (before
   * the targets that use them are applied). Optional: without it the first attempt loads
   * it, with the event loop busy for as long as that takes.
   */
  async load(types?: Iterable<CheckerType>): Promise<void> {
    const wanted = new Set<CheckerType>(types);
    if (!types) for (const rec of this.targets.values()) for (const c of rec.checkers) wanted.add(c.resolved.type);
    const runners = new Set([...wanted].map((t) => this.runners[t]));
    await Promise.all([...runners].map((r) => (r && !isWatchRunner(r) ? r.load?.() : undefined)));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const rec of this.targets.values()) for (const c of rec.checkers) this.startChecker(rec, c);
  }

  /**
   * Stops every checker. With omega set on a target's virtual server, each live
   * target is reported down (code 'shutdown'), as keepalived does on exit.
   */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    for (const rec of this.targets.values()) {
      for (const c of rec.checkers) this.stopChecker(c, false);
      const c0 = rec.checkers[0];
      if (rec.alive && c0?.resolved.timing.omega) {
        rec.alive = false;
        this.emitEvent({ type: 'down', seq: 0, time: this.queue.now(), id: rec.target.id, weight: rec.effWeight, checker: ref(c0), code: 'shutdown', reason: 'shutdown (omega)' });
      }
    }
    this.queue.clear();
    for (const r of new Set(Object.values(this.runners))) r?.close?.();
  }

  /**
   * Suspends (or resumes) a target's checks, as keepalived's `ha_suspend` does while
   * the virtual server's address is not on this host: a running attempt is dropped,
   * no check runs, no event is sent, and the target keeps the state it had. Resumed,
   * its checkers start again (after their warmup). False if there is no such target.
   */
  suspend(id: string, suspended = true): boolean {
    const rec = this.targets.get(id);
    if (!rec) return false;
    if (!!rec.suspended === suspended) return true;
    rec.suspended = suspended;
    if (suspended) for (const c of rec.checkers) this.stopChecker(c, false);
    else if (this.started) for (const c of rec.checkers) this.startChecker(rec, c);
    return true;
  }

  status(): TargetStatus[];
  status(id: string): TargetStatus | undefined;
  status(id?: string): TargetStatus | TargetStatus[] | undefined {
    if (id !== undefined) {
      const rec = this.targets.get(id);
      return rec && this.statusOf(rec);
    }
    return [...this.targets.values()].map((r) => this.statusOf(r));
  }

  private statusOf(rec: TargetRec): TargetStatus {
    return {
      id: rec.target.id,
      alive: rec.alive,
      weight: rec.effWeight,
      configuredWeight: rec.weight,
      suspended: !!rec.suspended,
      checkers: rec.checkers.map((c) => ({
        index: c.index,
        type: c.resolved.type,
        up: c.state.up,
        hasRun: c.state.hasRun,
        retryIt: c.state.retryIt,
        weightDelta: c.state.weightDelta,
        lastResult: c.lastResult,
        lastCheck: c.lastCheck,
        nextCheck: c.nextCheck,
        running: c.running,
      })),
    };
  }

  private newChecker(rec: TargetRec, r: ResolvedChecker, index: number): CheckerRec {
    const runner = this.runners[r.type];
    if (!runner) throw new HealthConfigError(`${rec.target.id}: no runner for ${r.type}`, rec.target);
    return { index, resolved: r, key: checkerKey(r), runner, state: initialCheckerState(r.timing), gen: 0, running: false, startedAt: 0, removed: false, lastDelta: 0 };
  }

  private startChecker(rec: TargetRec, c: CheckerRec): void {
    if (c.removed || rec.suspended) return;
    if (isWatchRunner(c.runner)) {
      if (!c.unwatch) {
        const gen = c.gen;
        c.unwatch = c.runner.watch({ target: rec.target, checker: c.resolved, configuredWeight: rec.weight }, (r) => {
          if (c.removed || gen !== c.gen || !this.started) return;
          this.complete(rec, c, r, 0);
        });
      }
      return;
    }
    if (c.timer || c.running) return;
    const w = c.resolved.timing.warmup;
    this.scheduleNext(rec, c, w > 0 ? this.random() * w : 0);
  }

  private stopChecker(c: CheckerRec, removed = true): void {
    c.removed = removed;
    c.gen++;
    this.queue.cancel(c.timer);
    this.queue.cancel(c.deadline);
    c.timer = c.deadline = undefined;
    c.nextCheck = undefined;
    c.attempt?.abort(new Error('checker stopped'));
    c.attempt = undefined;
    c.running = false;
    c.unwatch?.();
    c.unwatch = undefined;
  }

  private scheduleNext(rec: TargetRec, c: CheckerRec, delay: number): void {
    c.nextCheck = this.queue.now() + delay;
    c.fire ??= () => {
      c.timer = undefined;
      this.launch(rec, c);
    };
    c.timer = c.timerSlot = this.queue.schedule(delay, c.fire, c.timerSlot);
  }

  /**
   * Starts an attempt under the global cap. p-limit is the limiter; while the
   * attempts in flight are well under the cap and nothing waits in p-limit, an
   * attempt starts at once without it (p-limit costs seven promises an
   * attempt). Invariant: direct + limit.activeCount <= cap, because p-limit's
   * concurrency is set to `cap - direct` before anything is queued in it and
   * whenever a direct attempt ends while something waits; a direct start needs
   * an empty p-limit queue and leaves room (direct + active < cap), so no
   * queued attempt can start on a stale, higher concurrency. Order: attempts
   * start in launch order (the fast path is closed while anything waits).
   */
  private launch(rec: TargetRec, c: CheckerRec): void {
    if (c.removed || !this.started || c.running || rec.suspended) return;
    c.running = true;
    const gen = c.gen;
    const limit = this.limit;
    if (limit.pendingCount === 0 && this.direct + limit.activeCount + 1 < this.cap) {
      this.direct++;
      this.begin(rec, c, gen, true);
      return;
    }
    const want = this.cap - this.direct;
    if (limit.concurrency !== want) limit.concurrency = want;
    void limit(() => this.begin(rec, c, gen, false));
  }

  /** Runs one attempt; the promise (p-limit's slot) settles when the runner's does. */
  private begin(rec: TargetRec, c: CheckerRec, gen: number, direct: boolean): Promise<void> | undefined {
    if (gen !== c.gen) {
      if (direct) this.releaseDirect();
      return undefined;
    }
    const attempt = new Attempt(rec.target, c.resolved, rec.weight, gen, this.settle, rec, c, direct);
    c.attempt = attempt;
    c.startedAt = this.queue.now();
    // The deadline sits in the shared queue: no timer per attempt. At the
    // deadline the attempt is aborted; the runner answers (a timeout, or a
    // success for UDP_CHECK's silent-is-fine rule) and if it does not within
    // a grace period, the attempt is closed as a timeout anyway. Both
    // callbacks are made once per checker: the deadline is cancelled when the
    // attempt finishes or the checker stops, so when it fires it belongs to
    // the checker's current attempt.
    c.onDeadline ??= () => {
      const a = c.attempt;
      c.deadline = c.deadlineSlot = this.queue.schedule(ABORT_GRACE_MS, c.onGrace!, c.deadlineSlot);
      a?.abort(TIMEOUT_REASON);
    };
    c.onGrace ??= () => {
      c.deadline = undefined;
      // Completed through the attempt, so its concurrency slot is given back even if
      // the runner never answers (its late answer is then ignored).
      const a = c.attempt;
      if (a) a.complete(TIMEOUT);
      else this.finish(rec, c, c.gen, TIMEOUT);
    };
    c.deadline = c.deadlineSlot = this.queue.schedule(c.resolved.timing.timeout, c.onDeadline, c.deadlineSlot);
    const runner = c.runner as PollRunner;
    // p-limit's slot is held until the attempt completes (settle releases it).
    const slot = direct ? undefined : new Promise<void>((res) => (attempt.release = res));
    try {
      if (runner.start) runner.start(attempt);
      else completeWithRun(runner, attempt);
    } catch (e) {
      attempt.complete(attempt.aborted ? TIMEOUT : errorResult(e));
    }
    return slot;
  }

  /** An attempt ended (Attempt.complete, once); made once per scheduler. */
  private readonly settle = (a: Attempt, rec: TargetRec, c: CheckerRec, r: CheckResult): void => {
    if (a.direct) this.releaseDirect();
    else a.release?.();
    this.finish(rec, c, a.gen, r);
  };

  /** A direct attempt ended: its slot goes to p-limit if anything waits there. */
  private releaseDirect(): void {
    this.direct--;
    if (this.limit.pendingCount > 0) this.limit.concurrency = this.cap - this.direct;
  }

  private finish(rec: TargetRec, c: CheckerRec, gen: number, r: CheckResult): void {
    if (gen !== c.gen) return;
    c.gen++;
    this.queue.cancel(c.deadline);
    c.deadline = undefined;
    c.attempt = undefined;
    c.running = false;
    this.attempts++;
    const duration = this.queue.now() - c.startedAt;
    this.complete(rec, c, r, duration);
  }

  private complete(rec: TargetRec, c: CheckerRec, r: CheckResult, duration: number): void {
    c.lastResult = r;
    c.lastCheck = this.queue.now();
    if (this.listenerCount('check') > 0) {
      this.emit('check', { type: 'check', seq: this.seq++, time: c.lastCheck, id: rec.target.id, checker: ref(c), result: r, duration });
    }
    // c.state is the engine's own (status() copies its fields): changed in place.
    const step = applyResultInPlace(c.state, r, c.resolved.timing, rec.weight);
    const delay = step.delay;
    // Most results change nothing: skip building the event material then.
    if (step.transition || c.state.weightDelta !== c.lastDelta) {
      c.lastDelta = c.state.weightDelta;
      this.reaggregate(rec, ref(c), r.ok ? (r.detail ?? 'check ok') : r.reason, r.ok ? undefined : r.code);
    }
    if (!isWatchRunner(c.runner) && this.started && !c.removed) this.scheduleNext(rec, c, delay);
  }

  private reaggregate(rec: TargetRec, cref: CheckerRef, reason: string, code: import('./types.js').FailureCode | undefined): void {
    const a = aggregate(rec.weight, rec.checkers.map((c) => c.state));
    const now = this.queue.now();
    const id = rec.target.id;
    if (a.weight !== rec.effWeight) {
      const previous = rec.effWeight;
      rec.effWeight = a.weight;
      this.emitEvent({ type: 'weight', seq: 0, time: now, id, weight: a.weight, previous, checker: cref, reason });
    }
    if (a.alive !== rec.alive) {
      rec.alive = a.alive;
      if (a.alive) this.emitEvent({ type: 'up', seq: 0, time: now, id, weight: a.weight, checker: cref });
      else this.emitEvent({ type: 'down', seq: 0, time: now, id, weight: a.weight, checker: cref, code: code ?? 'error', reason });
    }
  }

  private emitEvent(e: HealthEvent): void {
    e.seq = this.seq++;
    if (e.type === 'up') this.emit('up', e);
    else if (e.type === 'down') this.emit('down', e);
    else this.emit('weight', e);
    this.emit('change', e);
  }
}

function ref(c: CheckerRec): CheckerRef {
  return { index: c.index, type: c.resolved.type };
}

/** A runner without the callback form: its promise completes the attempt. */
function completeWithRun(runner: PollRunner, a: Attempt): void {
  runner.run(a).then(
    (r) => a.complete(r),
    (e: unknown) => a.complete(a.aborted ? TIMEOUT : errorResult(e)),
  );
}

function errorResult(e: unknown): CheckResult {
  const err = e as NodeJS.ErrnoException;
  return { ok: false, code: 'error', reason: err?.message ?? String(e) };
}

function sameTarget(a: HealthTarget, b: HealthTarget): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
