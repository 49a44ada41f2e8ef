// Per-checker state and what one result does to it, following keepalived's
// checker epilogue: a failure of a live checker is retried `retry` times,
// `delay_before_retry` apart, before the checker is declared down; a success
// resets the retry count; a failed checker comes back after `rise` (keepalived:
// 1) successes, `delay_loop` apart. At start (without alpha) one failure is
// enough, as keepalived does. Pure: no clock, no I/O.
import type { EffectiveTiming } from './options.js';
import type { CheckResult } from './types.js';

export interface CheckerState {
  up: boolean;
  hasRun: boolean;
  /** Failures so far in the current retry sequence. */
  retryIt: number;
  /** Consecutive successes while down (for `rise`). */
  successes: number;
  /** This checker's contribution to the server weight (misc_dynamic, FILE_CHECK). */
  weightDelta: number;
}

export function initialCheckerState(t: EffectiveTiming): CheckerState {
  return { up: !t.alpha, hasRun: false, retryIt: t.retry, successes: 0, weightDelta: 0 };
}

export interface Step {
  state: CheckerState;
  /** Milliseconds until the next attempt. */
  delay: number;
  transition?: 'up' | 'down';
}

export function applyResult(s: CheckerState, r: CheckResult, t: EffectiveTiming, configuredWeight: number): Step {
  const n: CheckerState = { ...s };
  const x = applyResultInPlace(n, r, t, configuredWeight);
  return { state: n, delay: x.delay, transition: x.transition };
}

const scratch: { delay: number; transition: Step['transition'] } = { delay: 0, transition: undefined };

/**
 * applyResult for the engine's hot path: changes `s` itself and returns a shared
 * object (the delay and the transition), valid until the next call. No garbage.
 */
export function applyResultInPlace(s: CheckerState, r: CheckResult, t: EffectiveTiming, configuredWeight: number): { readonly delay: number; readonly transition: Step['transition'] } {
  const wasUp = s.up;
  const hadRun = s.hasRun;
  s.hasRun = true;
  let delay = t.delayLoop;
  let transition: Step['transition'];
  if (r.ok) {
    s.retryIt = 0;
    if (r.weight !== undefined) s.weightDelta = r.weight - configuredWeight;
    if (!wasUp) {
      s.successes += 1;
      if (s.successes >= t.rise) {
        s.up = true;
        s.successes = 0;
        transition = 'up';
      }
    }
  } else {
    s.successes = 0;
    if ((wasUp || !hadRun) && s.retryIt >= t.retry) {
      s.retryIt = 0;
      s.weightDelta = 0;
      if (wasUp) {
        s.up = false;
        transition = 'down';
      }
    } else if (wasUp) {
      s.retryIt += 1;
      delay = t.delayBeforeRetry;
    }
  }
  scratch.delay = delay;
  scratch.transition = transition;
  return scratch;
}

/** keepalived's real_weight(): the IPVS weight range. */
export function clampWeight(w: number): number {
  return Math.max(0, Math.min(0x7fffffff, w));
}

/** A server is alive when every checker is up; its weight adds every checker's delta. */
export function aggregate(configuredWeight: number, checkers: readonly CheckerState[]): { alive: boolean; weight: number } {
  let alive = true;
  let w = configuredWeight;
  for (const c of checkers) {
    if (!c.up) alive = false;
    w += c.weightDelta;
  }
  return { alive, weight: clampWeight(w) };
}
