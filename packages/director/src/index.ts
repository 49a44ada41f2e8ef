// @lvsd/director: the Director (VRRP + IPVS + health checks), keepalived.conf, the lvsd CLI.
export * from './config/index.js';
export { Director, type DirectorOptions, type DirectorEvents, type DirectorLogEvent, type DirectorState } from './director.js';
export type { RealServerEvent, QuorumEvent } from './checks.js';
export type { DirectorMetrics } from './metrics.js';
