// @lvsd/vrrp: VRRP v2/v3 for IPv4 and IPv6, wire-compatible with keepalived.
export { inetChecksum, pseudoHeader } from './checksum.js';
export {
  IPPROTO_VRRP,
  VRRP_TTL,
  VRRP_PRIO_OWNER,
  VRRP_PRIO_STOP,
  AUTH_NONE,
  AUTH_PASS,
  AUTH_AH,
  DROP_REASONS,
  dropCounters,
  advertLength,
  encodeAdvert,
  decodeAdvert,
  checksumValid,
  parseIpv4,
  type Advert,
  type AdvertInput,
  type DropReason,
  type IpFamily,
  type VrrpVersion,
  type PseudoAddresses,
} from './packet.js';
export { checkDatagram, type Datagram, type ReceiveConfig, type Checked, type Accepted } from './receive.js';
export {
  VrrpStateMachine,
  compareAddresses,
  type FsmAction,
  type FsmConfig,
  type AdvertIn,
  type VrrpState,
  type TransitionReason,
} from './fsm.js';
export {
  VrrpInstance,
  type VrrpInstanceEvents,
  type VrrpInstanceDeps,
  type VrrpStats,
  type StateChangeEvent,
  type AdvertEvent,
  type DropEvent,
} from './instance.js';
export { VrrpSyncGroup, type VrrpSyncGroupOptions, type VrrpSyncGroupEvents, type SyncGroupStateEvent } from './syncgroup.js';
export {
  VrrpConfigError,
  resolveOptions,
  parseVip,
  parseRoute,
  type VrrpInstanceOptions,
  type VipOption,
  type RouteOption,
  type TrackScriptOption,
  type TrackInterfaceOption,
  type TrackFileOption,
  type ResolvedOptions,
  type ResolvedVip,
} from './options.js';
export { ScriptTracker, InterfaceTracker, FileTracker, runProgram, type Tracker, type TrackerStatus, type TrackerEvents } from './track.js';
export { NotifyQueue, FifoWriter, fifoLine, type NotifyScripts, type NotifyState, type NotifyResult } from './notify.js';
export { splitArgv, resolveProgram } from './argv.js';
export { garpFrame, unsolicitedNaFrame, DEFAULT_GARP, type GarpSettings } from './garp.js';
export { VRRP_GROUP4, VRRP_GROUP6 } from './transport.js';
export { Rtnl, type RtnlEvents, type LinkInfo, type AddressInfo, type AddressSpec, type RouteSpec } from './rtnl.js';
