// The scheduler with the built-in keepalived checkers: what the Director uses.
import { defaultRunners } from './checkers/index.js';
import { CheckScheduler, type CheckSchedulerOptions } from './scheduler.js';

export class HealthChecker extends CheckScheduler {
  constructor(opts: CheckSchedulerOptions = {}) {
    super({ ...opts, runners: { ...defaultRunners(), ...opts.runners } });
  }
}
