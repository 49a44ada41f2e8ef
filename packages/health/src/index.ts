// @lvsd/health: keepalived's health checkers and the engine that runs them.
export { CheckScheduler, type CheckSchedulerOptions } from './scheduler.js';
export { systemClock, FakeClock, type Clock } from './clock.js';
export { HealthConfigError } from './errors.js';
export {
  resolveCheckerOptions,
  resolveTarget,
  parseStatusCodes,
  parseHex,
  splitCommandLine,
  DEFAULT_DELAY_LOOP,
  DEFAULT_CONNECT_TIMEOUT,
  type ResolvedChecker,
  type EffectiveTiming,
  type EffectiveConnection,
} from './options.js';
export { applyResult, initialCheckerState, aggregate, type CheckerState, type Step } from './state.js';
export { evaluateQuorum, initialQuorumUp, type QuorumConfig, type QuorumServer, type QuorumDecision, type Destination } from './quorum.js';
export type { CheckRunner, PollRunner, WatchRunner, CheckContext, WatchContext } from './runner.js';
export type * from './types.js';
export { HealthChecker } from './health-checker.js';
export { defaultRunners } from './checkers/index.js';
export { genhash } from './checkers/genhash.js';
export { buildDnsQuery } from './checkers/dns.js';
export { parseTrackValue, fileResult } from './checkers/file.js';
