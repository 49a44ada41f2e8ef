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
