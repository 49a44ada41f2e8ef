// What a checker implementation looks like to the scheduler.
import type { ResolvedChecker } from './options.js';
import type { CheckResult, HealthTarget } from './types.js';

export interface CheckContext {
  target: HealthTarget;
  checker: ResolvedChecker;
  /** The target's configured weight (misc_dynamic and FILE_CHECK report weights relative to it). */
  configuredWeight: number;
  /** Aborted at the attempt's deadline (connect_timeout / misc_timeout) or on stop/remove. */
  readonly signal: AbortSignal;
  /**
   * The same abort, without an AbortSignal: registers one callback, run at the
   * deadline. The attempt's AbortController is created only when `signal` is
   * first read; a checker on the hot path (TCP_CHECK) that only needs the
   * callback saves the ~4 us and the garbage an AbortController costs.
   * Optional: a context made outside the scheduler may lack it. One callback
   * per attempt: a second call replaces the first; called at once if the
   * attempt is already aborted. The callback gets the context as its argument,
   * so one function can serve every attempt (see `data`).
   */
  onAbort?(fn: (ctx: CheckContext) => void): void;
  /**
   * Set by the scheduler's contexts only: ends the attempt with its result (see
   * PollRunner.start). The first call counts, later ones are ignored.
   */
  complete?(r: CheckResult): void;
  /** Free for the runner: its state for this attempt (read back in an onAbort callback). */
  data?: unknown;
}

/** A context from the scheduler: `complete` and `onAbort` are there. */
export type AttemptContext = CheckContext & Required<Pick<CheckContext, 'complete' | 'onAbort'>>;

export interface WatchContext {
  target: HealthTarget;
  checker: ResolvedChecker;
  configuredWeight: number;
}

/**
 * A polled checker runs one attempt per call and resolves with its result. It
 * must honour `signal` (close its sockets, kill its processes); a thrown error
 * counts as a failure with code 'error'.
 */
export interface PollRunner {
  run(ctx: CheckContext): Promise<CheckResult>;
  /**
   * Optional callback form of `run`, which the scheduler prefers: the attempt
   * ends when the runner calls `ctx.complete(result)` (no promise, no closures
   * per attempt on a checker's hot path). It must call it exactly once (later
   * calls are ignored), at the abort too; a thrown error counts as a failure
   * with code 'error'. A runner may fall back to `run` for cases it does not
   * handle itself by completing with `run`'s result.
   */
  start?(ctx: AttemptContext): void;
  /** Releases shared resources (sockets kept across attempts); called by stop(). */
  close?(): void;
  /**
   * Loads code the runner needs before its first attempt (the HTTP client). Called
   * by `CheckScheduler.load()`, so that a director pays for it while starting, not
   * with its event loop busy while VRRP timers should be firing.
   */
  load?(): Promise<void>;
}

/** An event-driven checker (FILE_CHECK) reports results when it wants; returns a stop function. */
export interface WatchRunner {
  watch(ctx: WatchContext, report: (r: CheckResult) => void): () => void;
  close?(): void;
}

export type CheckRunner = PollRunner | WatchRunner;

export const isWatchRunner = (r: CheckRunner): r is WatchRunner => typeof (r as WatchRunner).watch === 'function';
