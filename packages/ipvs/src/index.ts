// @lvsd/ipvs: the IPVS generic netlink ABI, an imperative client and a declarative table.
export { IpvsClient, type IpvsClientOptions, type CallOptions, type DumpOptions, type BatchResult } from './client.js';
export { IpvsTable, type IpvsTableOptions, type IpvsTableEvents, type ApplyReport, type DriftReport, type Timers } from './table.js';
export { plan, planTables, tableFromSnapshot, ownedKeys, type OwnedKeys } from './plan.js';
export { IpvsError, IpvsApplyError, mapKernelError, type IpvsErrorCode } from './errors.js';
export {
  normalizeService,
  normalizeDestination,
  normalizeKey,
  normalizeTable,
  destIndex,
  sameService,
  sameDestination,
  MAX_WEIGHT,
  MAX_THRESHOLD,
  DEFAULT_SCHEDULER,
  type NormalizedTable,
  type NormalizedEntry,
} from './normalize.js';
export {
  serviceKeyString,
  canonicalAddress,
  familyOf,
  keyOf,
  type ServiceKey,
  type ServiceSpec,
  type DestinationSpec,
  type DesiredService,
  type Service,
  type Destination,
  type Stats,
  type IpvsInfo,
  type Timeouts,
  type SyncDaemon,
  type IpvsOp,
  type TableSnapshot,
} from './types.js';
export * as abi from './abi.js';
export type {
  Family,
  Protocol,
  Scheduler,
  SchedulerFlag,
  ForwardingMethod,
  TunnelType,
  TunnelChecksum,
  PersistenceEngine,
  DaemonState,
} from './abi.js';
export { body as encode, serviceKeyAttr, decodeServiceMessage, decodeDestMessage, decodeDaemonMessage, decodeInfo, decodeTimeouts } from './codec.js';
