// The typed configuration model: what a keepalived.conf says, as plain data (JSON-safe),
// with keepalived's defaults applied. The same model is what the TypeScript API takes,
// so a program can build it by hand instead of parsing a file.
//
// Units: every time is in seconds (a number, fractions allowed where keepalived allows
// them, e.g. `advert_int 0.5` for VRRPv3). Addresses are text as written (`10.0.0.1`,
// `2001:db8::1`); ports are numbers.
import type { SourceLoc } from './diagnostics.js';

export type Family = 'inet' | 'inet6';

/** A command line run without a shell (keepalived 2 splits it into argv itself). */
export interface ScriptSpec {
  /** argv[0] is the program. */
  argv: string[];
  /** As written in the configuration (after quotes were removed). */
  text: string;
  /** Run as this user (and group); undefined: global `script_user`, else keepalived_script or root. */
  user?: string;
  group?: string;
}

export interface KeepalivedConfig {
  global: GlobalDefs;
  vrrpScripts: VrrpScript[];
  /** `vrrp_track_file` / `track_file` definitions (shared by VRRP and FILE_CHECK). */
  trackFiles: TrackFileDef[];
  vrrpInstances: VrrpInstance[];
  vrrpSyncGroups: VrrpSyncGroup[];
  virtualServerGroups: VirtualServerGroup[];
  virtualServers: VirtualServer[];
  /** Every file the configuration was read from, the main file first. */
  files: string[];
}

// ---------------------------------------------------------------------------------------
// global_defs

export interface GlobalDefs {
  /** Default: the host name up to its first dot. */
  routerId: string;
  /** Default 224.0.0.18. */
  vrrpMcastGroup4: string;
  /** Default ff02::12. */
  vrrpMcastGroup6: string;
  /** Default user for scripts (`script_user USER [GROUP]`). */
  scriptUser?: { user: string; group?: string };
  /** Default false. */
  enableScriptSecurity: boolean;
  /** VRRP version when an instance does not say (default 2). */
  vrrpVersion: 2 | 3;
  /** RFC-strict VRRP (default false). */
  vrrpStrict: boolean;
  /** Gratuitous ARP / unsolicited NA after becoming master: delay (s, default 5) and count (default 5). */
  vrrpGarpMasterDelay: number;
  vrrpGarpMasterRepeat: number;
  /** Periodic refresh while master (s, 0 = none) and its count (default 1). */
  vrrpGarpMasterRefresh: number;
  vrrpGarpMasterRefreshRepeat: number;
  /** After a lower-priority advert while master (defaults: the master delay and repeat). */
  vrrpGarpLowerPrioDelay: number;
  vrrpGarpLowerPrioRepeat: number;
  /** Pause between gratuitous ARPs / NAs (s, default 0). */
  vrrpGarpInterval: number;
  vrrpGnaInterval: number;
  /** SCHED_FIFO priority of the advert sender thread (vrrp_rt_priority; lvsd's default 1). */
  vrrpRtPriority: number;
  vrrpMinGarp: boolean;
  vrrpLowerPrioNoAdvert: boolean;
  vrrpHigherPrioSendAdvert: boolean;
  vrrpCheckUnicastSrc: boolean;
  vrrpSkipCheckAdvAddr: boolean;
  /** Adverts missed before the master is down (default 3). */
  vrrpDownTimerAdverts: number;
  /** Delay before VRRP starts (s, default 0). */
  vrrpStartupDelay: number;
  vrrpNotifyPriorityChanges: boolean;
  lvsSyncDaemon?: LvsSyncDaemon;
  /** IPVS connection timeouts (s); unset ones are left as the kernel has them. */
  lvsTimeouts?: { tcp?: number; tcpfin?: number; udp?: number };
  /** Flush the whole IPVS table at start (default false). */
  lvsFlush: boolean;
  /** What to remove from IPVS on stop: `none` = keepalived's default (remove what it added). */
  lvsFlushOnStop: 'none' | 'vs' | 'all';
  notifyFifo?: NotifyFifo;
  vrrpNotifyFifo?: NotifyFifo;
  lvsNotifyFifo?: NotifyFifo;
  checkerLogAllFailures: boolean;
  rsInitNotifies: boolean;
  /** Accepted for compatibility; lvsd sends no e-mail. */
  email: {
    notificationEmail: string[];
    notificationEmailFrom?: string;
    smtpServer?: string;
    smtpHeloName?: string;
    smtpConnectTimeout?: number;
  };
}

export interface LvsSyncDaemon {
  interface: string;
  /** The VRRP instance whose state decides master or backup sync daemon. */
  vrrpInstance: string;
  /** Default: that instance's virtual_router_id. */
  syncId: number;
  maxlen?: number;
  port?: number;
  ttl?: number;
  group?: string;
  loc: SourceLoc;
}

export interface NotifyFifo {
  path: string;
  script?: ScriptSpec;
}

// ---------------------------------------------------------------------------------------
// VRRP

export interface VrrpScript {
  name: string;
  script: ScriptSpec;
  /** Seconds between runs (default 1). */
  interval: number;
  /** Seconds before a run is killed (default: the interval). */
  timeout: number;
  /** Priority change while the script succeeds (>0) or fails (<0); 0 = fault on failure. Default 0. */
  weight: number;
  weightReverse: boolean;
  /** Successes / failures needed to change state (default 1 / 1). */
  rise: number;
  fall: number;
  /** Start in the failed state (default false: starts as succeeded once run). */
  initFail: boolean;
  loc: SourceLoc;
}

export interface TrackFileDef {
  name: string;
  file: string;
  /** Multiplier of the number in the file (default 1). */
  weight: number;
  weightReverse: boolean;
  /** `init_file [VALUE] [overwrite]`. */
  init?: { value: number; overwrite: boolean };
  loc: SourceLoc;
}

/** `track_script`, `track_interface`, `track_file` entries: weight undefined = the tracked object's own. */
export interface TrackRef {
  name: string;
  weight?: number;
  reverse: boolean;
  loc: SourceLoc;
}

export interface VirtualIp {
  /** Without prefix. */
  address: string;
  family: Family;
  /** Default 32 (IPv4) / 128 (IPv6). */
  prefix: number;
  /** Broadcast address, or `+` / `-` as `ip addr` takes them. */
  brd?: string;
  /** Default: the instance's interface. */
  dev?: string;
  scope?: string;
  label?: string;
  peer?: string;
  home?: boolean;
  nodad?: boolean;
  noprefixroute?: boolean;
  /** Address changes of a no_track VIP do not put the instance in FAULT. */
  noTrack?: boolean;
  /** Seconds, or 'forever'. */
  preferredLft?: number | 'forever';
  loc: SourceLoc;
}

export interface VirtualRoute {
  /** Destination with prefix (`default`, `10.0.0.0/8`...). */
  to: string;
  family: Family;
  src?: string;
  via?: string;
  dev?: string;
  scope?: string;
  /** As written, and resolved to its number (names from iproute2's rt_tables). */
  table?: string;
  tableId?: number;
  metric?: number;
  /** `blackhole`, `unreachable`, `prohibit`... when given. */
  type?: string;
  /** Any other `name value` options, in order, as written. */
  options: string[];
  noTrack?: boolean;
  loc: SourceLoc;
}

export interface VrrpNotify {
  master?: ScriptSpec;
  backup?: ScriptSpec;
  fault?: ScriptSpec;
  stop?: ScriptSpec;
  deleted?: ScriptSpec;
  /** `notify`: called for every state change with the type, name, state and priority. */
  any?: ScriptSpec;
  masterRxLowerPri?: ScriptSpec;
}

export interface VrrpInstance {
  name: string;
  /** Initial state. Default: MASTER when priority is 255, else BACKUP. */
  state: 'MASTER' | 'BACKUP';
  interface?: string;
  virtualRouterId: number;
  /** Default 100; 255 when `state MASTER` and no priority. */
  priority: number;
  /** Seconds (default 1; whole seconds for VRRPv2, centiseconds for v3). */
  advertInt: number;
  version: 2 | 3;
  family: Family;
  authentication?: { type: 'PASS' | 'AH'; pass: string };
  virtualIpaddresses: VirtualIp[];
  virtualIpaddressesExcluded: VirtualIp[];
  virtualRoutes: VirtualRoute[];
  /** Source address of adverts (`mcast_src_ip` / `unicast_src_ip`; they are the same setting). */
  srcIp?: string;
  unicastPeers: { address: string; minTtl?: number; maxTtl?: number }[];
  unicastTtl?: number;
  mcastDstIp?: string;
  nopreempt: boolean;
  /** Seconds (default 0). */
  preemptDelay: number;
  /** Accept packets to the VIPs when not the address owner (default true unless strict). */
  accept: boolean;
  strictMode: boolean;
  dontTrackPrimary: boolean;
  trackScripts: TrackRef[];
  trackInterfaces: TrackRef[];
  trackFiles: TrackRef[];
  garpMasterDelay: number;
  garpMasterRepeat: number;
  garpMasterRefresh: number;
  garpMasterRefreshRepeat: number;
  garpLowerPrioDelay: number;
  garpLowerPrioRepeat: number;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  downTimerAdverts: number;
  skipCheckAdvAddr: boolean;
  checkUnicastSrc: boolean;
  promoteSecondaries: boolean;
  notify: VrrpNotify;
  notifyPriorityChanges: boolean;
  /** Name of the vrrp_sync_group it belongs to. */
  syncGroup?: string;
  loc: SourceLoc;
}

export interface VrrpSyncGroup {
  name: string;
  /** Instance names. */
  group: string[];
  trackScripts: TrackRef[];
  trackInterfaces: TrackRef[];
  trackFiles: TrackRef[];
  notify: VrrpNotify;
  notifyPriorityChanges: boolean;
  syncGroupTrackingWeight: boolean;
  loc: SourceLoc;
}

// ---------------------------------------------------------------------------------------
// IPVS and health checks

export type LbKind = 'NAT' | 'DR' | 'TUN';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type Scheduler =
  | 'rr'
  | 'wrr'
  | 'lc'
  | 'wlc'
  | 'lblc'
  | 'sh'
  | 'mh'
  | 'dh'
  | 'fo'
  | 'ovf'
  | 'lblcr'
  | 'sed'
  | 'nq'
  | 'twos';

export interface Tunnel {
  type: 'ipip' | 'gue' | 'gre';
  /** GUE only. */
  port?: number;
  csum: 'nocsum' | 'csum' | 'remcsum';
}

export interface VirtualServerGroupEntry {
  kind: 'address' | 'fwmark';
  /** First address of a range (`10.0.0.1-10`, `10.0.0.0/29`), or the only one. */
  address?: string;
  /** Last address of a range (equal to `address` for one address). */
  addressEnd?: string;
  family?: Family;
  /** 0 = any port (persistent services only). */
  port?: number;
  fwmark?: number;
  loc: SourceLoc;
}

export interface VirtualServerGroup {
  name: string;
  entries: VirtualServerGroupEntry[];
  loc: SourceLoc;
}

export interface SorryServer {
  address: string;
  port: number;
  lbKind: LbKind;
  tunnel?: Tunnel;
  /** `sorry_server_inhibit`: weight 0 instead of removal. */
  inhibit: boolean;
  loc: SourceLoc;
}

export interface VirtualServer {
  kind: 'address' | 'fwmark' | 'group';
  address?: string;
  /** 0 when not given (persistent "any port" services). */
  port?: number;
  fwmark?: number;
  /** `virtual_server group NAME`. */
  group?: string;
  family: Family;
  /** Undefined for fwmark services (the kernel ignores it). keepalived's default when unset is UDP. */
  protocol?: Protocol;
  /** Default wlc. */
  lbAlgo: Scheduler;
  /** Default NAT. */
  lbKind: LbKind;
  tunnel?: Tunnel;
  /** Seconds, 0 = not persistent. */
  persistenceTimeout: number;
  /** IPv4 netmask (`255.255.255.0`) or IPv6 prefix length; undefined = host. */
  persistenceGranularity?: string;
  persistenceEngine?: string;
  ops: boolean;
  shPort: boolean;
  shFallback: boolean;
  mhPort: boolean;
  mhFallback: boolean;
  flag1: boolean;
  flag2: boolean;
  flag3: boolean;
  /** Seconds between checks (default 60). */
  delayLoop: number;
  /** Default connect timeout of the checkers (s, default 5). */
  connectTimeout: number;
  virtualhost?: string;
  sorryServer?: SorryServer;
  /** Minimum total weight of live real servers (default 1). */
  quorum: number;
  hysteresis: number;
  quorumUp?: ScriptSpec;
  quorumDown?: ScriptSpec;
  /** Real servers start down until their first check succeeds. */
  alpha: boolean;
  /** Run notify_down and quorum_down on removal at shutdown. */
  omega: boolean;
  /** Failed real servers get weight 0 instead of removal (the real servers' default). */
  inhibitOnFailure: boolean;
  /** Only program the service while a VRRP instance holds its address. */
  haSuspend: boolean;
  realServers: RealServer[];
  loc: SourceLoc;
}

export interface RealServer {
  address: string;
  /** The virtual server's port when not given (DR/TUN must match it). */
  port: number;
  /** Default: the virtual server's `weight` (1). */
  weight: number;
  lbKind: LbKind;
  tunnel?: Tunnel;
  /** Upper / lower connection thresholds (0 = none). */
  uthreshold: number;
  lthreshold: number;
  inhibitOnFailure: boolean;
  alpha: boolean;
  notifyUp?: ScriptSpec;
  notifyDown?: ScriptSpec;
  virtualhost?: string;
  checkers: Checker[];
  loc: SourceLoc;
}

/** Options every checker has, with inheritance (checker <- real server <- virtual server) resolved. */
export interface CheckerCommon {
  /** Seconds between checks. */
  delayLoop: number;
  /** Failures retried before the real server is declared down. */
  retry: number;
  /** Seconds between retries. */
  delayBeforeRetry: number;
  /** Maximum random delay before the first check (s). */
  warmup: number;
  alpha: boolean;
  logAllFailures: boolean;
  loc: SourceLoc;
}

/** Where a network checker connects. */
export interface CheckerConnection {
  /** Default: the real server's address. */
  connectIp: string;
  /** Default: the real server's port (25 for SMTP_CHECK when the real server has none). */
  connectPort: number;
  bindto?: string;
  bindPort?: number;
  bindIf?: string;
  /** Seconds (default: real server's, then virtual server's, 5). */
  connectTimeout: number;
  /** SO_MARK on the check's socket. */
  fwmark?: number;
}

export interface HttpUrl {
  path: string;
  /** Lower-case hex MD5 of the body. */
  digest?: string;
  /** Accepted codes as inclusive ranges; default [[200, 299]]. */
  statusCode: [number, number][];
  virtualhost?: string;
  regex?: string;
  regexNoMatch: boolean;
  regexOptions: string[];
  regexMinOffset?: number;
  regexMaxOffset?: number;
  loc: SourceLoc;
}

export type Checker =
  | (CheckerCommon & CheckerConnection & { type: 'TCP_CHECK' })
  | (CheckerCommon &
      CheckerConnection & {
        type: 'HTTP_GET' | 'SSL_GET';
        urls: HttpUrl[];
        virtualhost?: string;
        httpProtocol: '1.0' | '1.0C' | '1.1';
        enableSni: boolean;
        fastRecovery: boolean;
      })
  | (CheckerCommon & CheckerConnection & { type: 'PING_CHECK' })
  | (CheckerCommon &
      CheckerConnection & {
        type: 'UDP_CHECK';
        /** Hex bytes sent (none: an empty datagram). */
        payload?: string;
        requireReply: boolean;
        /** Hex bytes expected, `?` nibbles are wildcards. */
        replyData?: string;
        minReplyLength: number;
        maxReplyLength: number;
      })
  | (CheckerCommon &
      CheckerConnection & {
        type: 'DNS_CHECK';
        /** Default SOA. */
        queryType: 'A' | 'NS' | 'CNAME' | 'SOA' | 'MX' | 'TXT' | 'AAAA';
        /** Default "." */
        name: string;
      })
  | (CheckerCommon & CheckerConnection & { type: 'SMTP_CHECK'; heloName: string })
  | (CheckerCommon & {
      type: 'MISC_CHECK';
      script: ScriptSpec;
      /** Seconds before the script is killed (default: delay_loop). */
      timeout?: number;
      dynamic: boolean;
    })
  | (CheckerCommon & {
      type: 'FILE_CHECK';
      trackFile: string;
      /** Default: the track file's own weight. */
      weight: number;
      weightReverse: boolean;
    });

export type CheckerType = Checker['type'];
