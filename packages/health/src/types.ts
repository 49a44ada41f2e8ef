// Plain-data checker options, named after keepalived.conf keywords so the
// Director can map a parsed keepalived.conf onto them one to one. Times are in
// seconds, as in keepalived (fractions allowed).

export type CheckerType =
  | 'TCP_CHECK'
  | 'HTTP_GET'
  | 'SSL_GET'
  | 'PING_CHECK'
  | 'UDP_CHECK'
  | 'DNS_CHECK'
  | 'SMTP_CHECK'
  | 'MISC_CHECK'
  | 'FILE_CHECK';

/** Options a virtual server and a real server pass down to their checkers. */
export interface InheritableOptions {
  /** Start with the checkers failed: a server is down until a check succeeds. */
  alpha?: boolean;
  connect_timeout?: number;
  retry?: number;
  /** Old name of `retry`. */
  nb_get_retry?: number;
  delay_before_retry?: number;
  /** Random delay, up to this many seconds, before a checker's first run. 0 disables. */
  warmup?: number;
  delay_loop?: number;
  /** Weight 0 instead of removal on failure (used by the quorum function). */
  inhibit_on_failure?: boolean;
  /** Default Host header (and SNI) for HTTP_GET / SSL_GET. */
  virtualhost?: string;
}

export interface VirtualServerOptions extends InheritableOptions {
  /** On stop, report every live server down (keepalived runs the down notifiers). */
  omega?: boolean;
}

/** Options every checker but MISC_CHECK / FILE_CHECK accepts. */
export interface ConnectionOptions {
  /** Address to check; default: the real server's. */
  connect_ip?: string;
  /** Port to check; default: the real server's. */
  connect_port?: number;
  /** Source address of the check. */
  bindto?: string;
  /** Interface for a link-local `bindto`/`connect_ip` (scope id). */
  bind_if?: string;
  /** Source port of the check. */
  bind_port?: number;
  /** SO_MARK on the check's socket (needs CAP_NET_ADMIN). */
  fwmark?: number;
  /**
   * lvsd extension: network namespace (a path such as /run/netns/blue) to create
   * the check's socket in. Not for MISC_CHECK / FILE_CHECK.
   */
  netns?: string;
}

export interface CommonCheckerOptions extends ConnectionOptions {
  alpha?: boolean;
  connect_timeout?: number;
  retry?: number;
  nb_get_retry?: number;
  delay_before_retry?: number;
  warmup?: number;
  delay_loop?: number;
  /**
   * lvsd extension (keepalived has none): consecutive successes a failed checker
   * needs before it is up again. Default 1, keepalived's behaviour.
   */
  rise?: number;
}

/** `status_code` entry: a code, a [low, high] range, or keepalived's text "200-299". */
export type StatusCodeSpec = number | [number, number] | string;

export interface UrlOptions {
  path: string;
  /** MD5 of the body in hex, as keepalived's genhash prints it. */
  digest?: string;
  /** Accepted codes; default 200-299. */
  status_code?: StatusCodeSpec[] | StatusCodeSpec;
  virtualhost?: string;
  /** JavaScript regular expression source searched in the body. */
  regex?: string;
  /** Fail when the regex matches instead of when it does not. */
  regex_no_match?: boolean;
  /** keepalived's pcre2 options that have a JS equivalent: caseless, multiline, dotall, ucp/utf. */
  regex_options?: string[] | string;
  regex_min_offset?: number;
  regex_max_offset?: number;
}

export interface SslOptions {
  /** PEM file of the CA that signs the server certificate. */
  ca?: string;
  /** Client certificate and key (PEM files), with the key's passphrase. */
  certificate?: string;
  key?: string;
  password?: string;
  /**
   * lvsd extension: verify the server certificate (chain and name). keepalived
   * never does; off by default here too.
   */
  verify?: boolean;
}

export interface HttpCheckOptions extends CommonCheckerOptions {
  checker: 'HTTP_GET' | 'SSL_GET';
  url: UrlOptions[];
  http_protocol?: '1.0' | '1.0C' | '1.1';
  virtualhost?: string;
  /** SSL_GET: send SNI (the virtualhost). Default: sent whenever a virtualhost is set; false disables. */
  enable_sni?: boolean;
  /** Accepted for compatibility: lvsd always checks all URLs of an attempt back to back. */
  fast_recovery?: boolean;
  ssl?: SslOptions;
}

export interface TcpCheckOptions extends CommonCheckerOptions {
  checker: 'TCP_CHECK';
}

export interface PingCheckOptions extends CommonCheckerOptions {
  checker: 'PING_CHECK';
}

export interface UdpCheckOptions extends CommonCheckerOptions {
  checker: 'UDP_CHECK';
  /** Hex string sent as the datagram (keepalived's free format). Default: 8 random bytes. */
  payload?: string;
  /** true: a reply is required; a hex string: the reply must match it (x/X nibble = any). */
  require_reply?: boolean | string;
  min_reply_length?: number;
  max_reply_length?: number;
}

export type DnsType = 'A' | 'NS' | 'CNAME' | 'SOA' | 'MX' | 'TXT' | 'AAAA';

export interface DnsCheckOptions extends CommonCheckerOptions {
  checker: 'DNS_CHECK';
  /** Query type; default SOA. */
  type?: DnsType;
  /** Query name; default "." (the root). */
  name?: string;
}

export interface SmtpCheckOptions extends CommonCheckerOptions {
  checker: 'SMTP_CHECK';
  /** Default "smtpchecker.keepalived.org", as keepalived. */
  helo_name?: string;
}

export interface MiscCheckOptions {
  checker: 'MISC_CHECK';
  /** The program: argv, or one string split like a shell would (quotes honoured, no expansion). */
  misc_path: string | string[];
  /** Seconds before the whole process group is killed; default: delay_loop. */
  misc_timeout?: number;
  /** Exit 2-255 sets the weight (code - 2); exit 1 fails; 0 succeeds. */
  misc_dynamic?: boolean;
  /** Run as this user (name or uid), optionally this group. */
  user?: string | number | { user: string | number; group?: string | number };
  alpha?: boolean;
  retry?: number;
  nb_get_retry?: number;
  delay_before_retry?: number;
  warmup?: number;
  delay_loop?: number;
  rise?: number;
}

export interface FileCheckOptions {
  checker: 'FILE_CHECK';
  /** Name of the track_file (for events and status only). */
  track_file?: string;
  /** Path of the tracked file. */
  file: string;
  /** Multiplier for the value in the file; 0 means non-zero = failed. Default 1. */
  weight?: number;
  /** Negate the multiplier (and with weight 0: zero = failed). */
  reverse?: boolean;
}

export type CheckerOptions =
  | TcpCheckOptions
  | HttpCheckOptions
  | PingCheckOptions
  | UdpCheckOptions
  | DnsCheckOptions
  | SmtpCheckOptions
  | MiscCheckOptions
  | FileCheckOptions;

/** One real server to health-check, with the options inherited from its virtual server. */
export interface HealthTarget {
  /** Stable key chosen by the caller (e.g. "vs 10.0.0.1:80 / rs 192.168.1.2:80"). */
  id: string;
  address: string;
  port?: number;
  /** Configured weight (keepalived `weight`, default 1). */
  weight?: number;
  virtualServer?: VirtualServerOptions;
  realServer?: InheritableOptions;
  checkers: CheckerOptions[];
}

/** Why a check failed: a stable code and a short human reason. */
export type FailureCode =
  | 'timeout'
  | 'refused'
  | 'reset'
  | 'unreachable'
  | 'status'
  | 'digest'
  | 'regex'
  | 'tls'
  | 'protocol'
  | 'reply'
  | 'rcode'
  | 'exit'
  | 'signal'
  | 'file'
  | 'error'
  | 'shutdown';

export type CheckResult =
  | { ok: true; /** Dynamic weight (misc_dynamic, FILE_CHECK): the checker's weight delta is set to weight - configured weight. */ weight?: number; detail?: string }
  | { ok: false; code: FailureCode; reason: string };

export interface CheckerRef {
  /** Index of the checker in the target's `checkers`. */
  index: number;
  type: CheckerType;
}

interface EventBase {
  /** Global order of events from one scheduler. */
  seq: number;
  /** Scheduler clock time (ms). */
  time: number;
  id: string;
}

export interface UpEvent extends EventBase {
  type: 'up';
  weight: number;
  /** The checker whose success completed the set. */
  checker: CheckerRef;
}

export interface DownEvent extends EventBase {
  type: 'down';
  weight: number;
  checker: CheckerRef;
  code: FailureCode;
  /** e.g. "timeout", "refused", "status 503", "digest mismatch", "regex miss", "script exit 1". */
  reason: string;
}

export interface WeightEvent extends EventBase {
  type: 'weight';
  weight: number;
  previous: number;
  checker: CheckerRef;
  reason: string;
}

/** Every attempt's outcome; only built when someone listens. */
export interface CheckEvent extends EventBase {
  type: 'check';
  checker: CheckerRef;
  result: CheckResult;
  /** Attempt duration, ms. */
  duration: number;
}

export type HealthEvent = UpEvent | DownEvent | WeightEvent;

export interface HealthEvents {
  up: [UpEvent];
  down: [DownEvent];
  weight: [WeightEvent];
  /** up, down and weight in one ordered stream. */
  change: [HealthEvent];
  check: [CheckEvent];
}

export interface CheckerStatus {
  index: number;
  type: CheckerType;
  up: boolean;
  hasRun: boolean;
  retryIt: number;
  weightDelta: number;
  lastResult?: CheckResult;
  lastCheck?: number;
  nextCheck?: number;
  running: boolean;
}

export interface TargetStatus {
  id: string;
  alive: boolean;
  /** Configured weight plus every dynamic checker's delta, clamped to >= 0. */
  weight: number;
  configuredWeight: number;
  /** Checks suspended (ha_suspend): the state is the one it had when suspended. */
  suspended: boolean;
  checkers: CheckerStatus[];
}
