// Syntax tree -> typed model, with keepalived 2.2's defaults and its validation rules
// (check_data.c validate_check_config, vrrp.c vrrp_complete_instance) applied, so that
// the model says what keepalived would do with the same file.
import type { DiagnosticSink, SourceLoc } from './diagnostics.js';
import type {
  Checker,
  CheckerCommon,
  CheckerConnection,
  Family,
  GlobalDefs,
  HttpUrl,
  KeepalivedConfig,
  LbKind,
  NotifyFifo,
  RealServer,
  Scheduler,
  SorryServer,
  TrackFileDef,
  TrackRef,
  Tunnel,
  VirtualIp,
  VirtualRoute,
  VirtualServer,
  VirtualServerGroup,
  VirtualServerGroupEntry,
  VrrpInstance,
  VrrpNotify,
  VrrpScript,
  VrrpSyncGroup,
} from './model.js';
import type { ConfigFs } from './fs.js';
import type { ConfigNode } from './parser.js';
import type { Token } from './reader.js';
import { Values, afterLast, familyOf, locOf } from './values.js';

export interface BuildOptions {
  /** Host name for the default router_id (keepalived: the node name up to its first dot). */
  hostname?: string;
  /** Where routing table names (`table NAME` of virtual_routes) are looked up: rt_tables files. */
  fs?: ConfigFs;
}

export type KeywordStatus = 'supported' | 'differs' | 'ignored' | 'deprecated' | 'not-yet';

interface Spec<C> {
  /** Whether the keyword takes a `{ }` block. */
  block?: 'required' | 'none' | 'optional';
  status?: KeywordStatus;
  note?: string;
  fn: (node: ConfigNode, ctx: C, b: Builder) => void;
}
type Table<C> = Record<string, Spec<C>>;

/**
 * A table as a Map, made once: a keyword read from a file is a fresh string, which a Map
 * finds faster than a property lookup does; and a keyword such as `toString` or
 * `constructor` is then unknown rather than an Object.prototype member.
 */
function specMap<C>(table: Table<C>): Map<string, Spec<C>> {
  let map = tableMaps.get(table) as Map<string, Spec<C>> | undefined;
  if (!map) {
    map = new Map(Object.entries(table));
    tableMaps.set(table, map as Map<string, Spec<unknown>>);
  }
  return map;
}
const tableMaps = new WeakMap<object, Map<string, Spec<unknown>>>();

/** keepalived keywords lvsd knows but does not implement: name -> note. Keyed by block. */
export const NOT_YET: Record<string, Record<string, string>> = {
  top: {
    static_ipaddress: 'addresses kept up independently of VRRP',
    static_routes: '',
    static_rules: '',
    track_group: '',
    garp_group: '',
    linkbeat_interfaces: '',
    vrrp_track_process: 'process tracking (netlink proc connector)',
    interface_up_down_delays: '',
    SSL: 'client certificate for SSL_GET',
    bfd_instance: 'BFD',
    net_namespace: 'run lvsd itself inside the namespace instead',
    net_namespace_ipvs: '',
    namespace_with_ipsets: '',
    use_pid_dir: '',
    instance: '',
    child_wait_time: 'lvsd is one process',
    virtual_rules: '',
  },
  global_defs: {
    process_names: 'lvsd is one process',
    process_name: 'lvsd is one process',
    vrrp_process_name: 'lvsd is one process',
    checker_process_name: 'lvsd is one process',
    lvs_process_name: 'lvsd is one process',
    bfd_process_name: 'lvsd is one process',
    startup_script: '',
    startup_script_timeout: '',
    shutdown_script: '',
    shutdown_script_timeout: '',
    max_auto_priority: 'real-time scheduling of the process',
    min_auto_priority_delay: '',
    dynamic_interfaces: '',
    default_interface: '',
    disable_local_igmp: '',
    vrrp_garp_extra_if: 'VMAC only',
    vrrp_vmac_garp_intvl: 'VMAC only',
    vrrp_iptables: 'no firewall rules are installed (accept mode needs none)',
    vrrp_ipsets: '',
    nftables: '',
    nftables_priority: '',
    nftables_ifindex: '',
    nftables_ipvs: '',
    nftables_ipvs_priority: '',
    nftables_ipvs_start_fwmark: '',
    nftables_counters: '',
    vrrp_priority: 'process scheduling priority',
    vrrp_no_swap: '',
    vrrp_cpu_affinity: '',
    vrrp_rlimit_rttime: '',
    vrrp_rlimit_rtime: '',
    checker_priority: '',
    checker_no_swap: '',
    checker_rt_priority: '',
    checker_cpu_affinity: '',
    checker_rlimit_rttime: '',
    checker_rlimit_rtime: '',
    bfd_priority: '',
    bfd_no_swap: '',
    bfd_rt_priority: '',
    bfd_cpu_affinity: '',
    bfd_rlimit_rttime: '',
    bfd_rlimit_rtime: '',
    snmp_socket: 'SNMP',
    enable_traps: 'SNMP',
    enable_snmp_vrrp: 'SNMP',
    enable_snmp_keepalived: 'SNMP',
    enable_snmp_rfc: 'SNMP',
    enable_snmp_rfcv2: 'SNMP',
    enable_snmp_rfcv3: 'SNMP',
    enable_snmp_checker: 'SNMP',
    enable_dbus: 'D-Bus',
    dbus_service_name: 'D-Bus',
    vrrp_netlink_cmd_rcv_bufs: 'lvsd sizes its netlink buffers itself',
    vrrp_netlink_cmd_rcv_bufs_force: '',
    vrrp_netlink_monitor_rcv_bufs: '',
    vrrp_netlink_monitor_rcv_bufs_force: '',
    process_monitor_rcv_bufs: '',
    process_monitor_rcv_bufs_force: '',
    lvs_netlink_cmd_rcv_bufs: '',
    lvs_netlink_cmd_rcv_bufs_force: '',
    lvs_netlink_monitor_rcv_bufs: '',
    lvs_netlink_monitor_rcv_bufs_force: '',
    no_checker_emails: '',
    vrrp_rx_bufs_policy: '',
    vrrp_rx_bufs_multiplier: '',
    log_unknown_vrids: '',
    vmac_prefix: 'VMAC',
    vmac_addr_prefix: 'VMAC',
    umask: '',
    random_seed: '',
    reload_check_config: '',
    reload_time_file: '',
    reload_repeat: '',
    reload_file: '',
    include_check: '',
    config_save_dir: '',
    tmp_config_directory: '',
    data_use_instance: '',
    fifo_write_vrrp_states_on_reload: '',
    linkbeat_use_polling: '',
    net_namespace: '',
    net_namespace_ipvs: '',
    namespace_with_ipsets: '',
    use_pid_dir: '',
    instance: '',
    child_wait_time: '',
  },
  vrrp_instance: {
    use_vmac: 'VMAC interfaces',
    use_vmac_addr: 'VMAC interfaces',
    vmac_xmit_base: 'VMAC interfaces',
    use_ipvlan: 'ipvlan interfaces',
    unicast_fault_no_peer: '',
    old_unicast_checksum: '',
    vrf: '',
    track_process: 'process tracking',
    track_bfd: 'BFD',
    track_src_ip: '',
    virtual_rules: 'policy routing rules',
    linkbeat_use_polling: '',
    no_accept: 'lvsd installs no firewall rules: use accept or leave it unset',
    debug: '',
    garp_extra_if: 'VMAC only',
    vmac_garp_intvl: 'VMAC only',
    kernel_rx_buf_size: 'lvsd sizes its socket buffers itself',
  },
  vrrp_sync_group: {
    track_process: 'process tracking',
    track_bfd: 'BFD',
  },
  real_server: {
    BFD_CHECK: 'BFD',
    snmp_name: 'SNMP',
  },
  virtual_server: {
    snmp_name: 'SNMP',
  },
  HTTP_GET: {},
  url: { regex_stack: 'PCRE2 JIT stack size; JavaScript regular expressions need none' },
  SMTP_CHECK: { host: 'deprecated in keepalived; define one SMTP_CHECK per host' },
};

/** Keywords accepted and deliberately ignored: name -> why. */
const IGNORED_NOTE = {
  email: 'lvsd sends no e-mail: accepted and ignored',
};

interface GlobalCtx {
  g: GlobalDefs;
}

export class Builder {
  readonly v: Values;
  readonly config: KeepalivedConfig;
  private readonly vrrpScriptUse = new Set<string>();
  /** Names in the model's named lists, so a duplicate check does not scan the list (it may be long). */
  readonly names = {
    vrrpScripts: new Set<string>(),
    trackFiles: new Set<string>(),
    vrrpInstances: new Set<string>(),
    virtualServerGroups: new Set<string>(),
  };
  private readonly suggestions = new Map<string, string | undefined>();
  /** FILE_CHECKs of the model's real servers, in model order: `finish` resolves their track_file (no walk over every real server). */
  readonly fileChecks: Extract<Checker, { type: 'FILE_CHECK' }>[] = [];

  constructor(
    readonly sink: DiagnosticSink,
    readonly opts: BuildOptions,
  ) {
    this.v = new Values(sink);
    this.config = {
      global: defaultGlobal(opts.hostname ?? 'localhost'),
      vrrpScripts: [],
      trackFiles: [],
      vrrpInstances: [],
      vrrpSyncGroups: [],
      virtualServerGroups: [],
      virtualServers: [],
      files: [],
    };
  }

  /** Runs each child through a keyword table; unknown and unsupported keywords get warnings. */
  walk<C>(nodes: readonly ConfigNode[] | undefined, table: Table<C>, ctx: C, block: string, where: string): void {
    if (!nodes) return;
    const specs = specMap(table);
    for (const node of nodes) {
      const spec = specs.get(node.keyword);
      if (!spec) {
        this.unhandled(node, block, where);
        continue;
      }
      const blockMode = spec.block ?? 'none';
      if (blockMode === 'required' && !node.children) {
        this.sink.error('syntax', afterLast(node), `${node.keyword}: expected '{' to open its block`, node.keyword);
        continue;
      }
      if (blockMode === 'none' && node.children) {
        this.sink.error('syntax', node.open ?? node, `${node.keyword} does not take a '{ }' block`, node.keyword);
        continue;
      }
      spec.fn(node, ctx, this);
    }
  }

  unhandled(node: ConfigNode, block: string, where: string): void {
    if (node.keyword === 'nb_get_retry' && block !== 'HTTP_GET') {
      this.sink.warn(
        'compat',
        node,
        `nb_get_retry is not a ${block} keyword in keepalived 2 (only HTTP_GET and SSL_GET keep it, as the old name of retry): ` +
          `keepalived ignores this line and so does lvsd, so the default retry applies. Write 'retry ${node.args[0]?.text ?? 'N'}' to get retries`,
        node.keyword,
      );
      return;
    }
    const notYet = Object.hasOwn(NOT_YET, block) && Object.hasOwn(NOT_YET[block]!, node.keyword) ? NOT_YET[block]![node.keyword] : undefined;
    if (notYet !== undefined) {
      this.sink.warn(
        'unsupported',
        node,
        `'${node.keyword}' in ${where} is a keepalived keyword lvsd does not support yet${notYet ? ` (${notYet})` : ''} - ignored`,
        node.keyword,
      );
      return;
    }
    const hint = this.suggestion(node.keyword, block);
    this.sink.warn(
      'unknown-keyword',
      node,
      `unknown keyword '${node.keyword}' in ${where}${hint ? ` (did you mean '${hint}'?)` : ''} - ignored`,
      node.keyword,
    );
  }

  /** suggest(), once per block and word: a config may repeat the same unknown word in every block. */
  private suggestion(word: string, block: string): string | undefined {
    const key = `${block} ${word}`;
    if (!this.suggestions.has(key)) this.suggestions.set(key, suggest(word, block));
    return this.suggestions.get(key);
  }

  noteIgnored(node: ConfigNode, why: string): void {
    this.sink.note('ignored', node, `${node.keyword}: ${why}`, node.keyword);
  }

  deprecated(node: ConfigNode, use: string): void {
    this.sink.note('deprecated', node, `${node.keyword} is deprecated in keepalived: use '${use}' (read the same)`, node.keyword);
  }

  /**
   * One top-level node with its block. Nodes come one at a time while the file is still
   * being read (see parseConfig: the whole tree of a big config is never in memory).
   */
  add(node: ConfigNode): void {
    this.walk([node], TOP, undefined, 'top', 'the top level');
  }

  /** After the last node: cross references and keepalived's completion rules. */
  end(files: string[]): KeepalivedConfig {
    this.config.files = files;
    this.finish();
    return this.config;
  }

  markScriptUsed(name: string): void {
    this.vrrpScriptUse.add(name);
  }

  // ---- cross references and keepalived's completion rules ------------------------------

  private finish(): void {
    const c = this.config;
    const g = c.global;
    if (Number.isNaN(g.vrrpGarpLowerPrioDelay)) g.vrrpGarpLowerPrioDelay = g.vrrpGarpMasterDelay;
    if (Number.isNaN(g.vrrpGarpLowerPrioRepeat)) g.vrrpGarpLowerPrioRepeat = g.vrrpGarpMasterRepeat;
    for (const i of c.vrrpInstances) {
      if (Number.isNaN(i.garpLowerPrioDelay)) i.garpLowerPrioDelay = g.vrrpGarpLowerPrioDelay;
      if (Number.isNaN(i.garpLowerPrioRepeat)) i.garpLowerPrioRepeat = g.vrrpGarpLowerPrioRepeat;
    }
    const scripts = new Map(c.vrrpScripts.map((s) => [s.name, s]));
    const files = new Map(c.trackFiles.map((f) => [f.name, f]));
    const instances = new Map(c.vrrpInstances.map((i) => [i.name, i]));

    const checkTracks = (owner: string, refs: { trackScripts: TrackRef[]; trackFiles: TrackRef[] }): void => {
      refs.trackScripts = refs.trackScripts.filter((t) => {
        if (scripts.has(t.name)) return true;
        this.sink.error('reference', t.loc, `${owner}: track_script '${t.name}' is not defined by any vrrp_script`, 'track_script');
        return false;
      });
      refs.trackFiles = refs.trackFiles.filter((t) => {
        if (files.has(t.name)) return true;
        this.sink.error('reference', t.loc, `${owner}: track_file '${t.name}' is not defined by any track_file block`, 'track_file');
        return false;
      });
    };
    for (const i of c.vrrpInstances) checkTracks(`vrrp_instance ${i.name}`, i);
    for (const g of c.vrrpSyncGroups) {
      checkTracks(`vrrp_sync_group ${g.name}`, g);
      for (const name of g.group) {
        const inst = instances.get(name);
        if (!inst) {
          this.sink.error('reference', g.loc, `vrrp_sync_group ${g.name}: vrrp_instance '${name}' is not defined`, 'group');
          continue;
        }
        if (inst.syncGroup) {
          this.sink.error(
            'duplicate',
            g.loc,
            `vrrp_sync_group ${g.name}: vrrp_instance '${name}' is already in sync group '${inst.syncGroup}'`,
            'group',
          );
          continue;
        }
        inst.syncGroup = g.name;
      }
    }
    for (const s of c.vrrpScripts) {
      if (!this.vrrpScriptUse.has(s.name)) this.sink.note('reference', s.loc, `vrrp_script '${s.name}' is not used by any track_script`);
    }
    const sd = c.global.lvsSyncDaemon;
    if (sd) {
      const inst = instances.get(sd.vrrpInstance);
      if (!inst) {
        this.sink.error('reference', sd.loc, `lvs_sync_daemon: vrrp_instance '${sd.vrrpInstance}' is not defined`, 'lvs_sync_daemon');
      } else if (sd.syncId < 0) {
        sd.syncId = inst.virtualRouterId;
      }
    }
    for (const chk of this.fileChecks) {
      const f = files.get(chk.trackFile);
      if (!f) {
        this.sink.error('reference', chk.loc, `FILE_CHECK: track_file '${chk.trackFile}' is not defined by any track_file block`, 'track_file');
      } else if (Number.isNaN(chk.weight)) {
        chk.weight = f.weight;
        chk.weightReverse = f.weightReverse;
      }
    }
    const groups = new Map(c.virtualServerGroups.map((g) => [g.name, g]));
    c.virtualServers = c.virtualServers.filter((vs) => {
      if (vs.kind !== 'group') return true;
      const g = groups.get(vs.group!);
      if (!g) {
        this.sink.error('reference', vs.loc, `virtual_server group '${vs.group}' is not defined by any virtual_server_group`, 'virtual_server');
        return false;
      }
      const fams = new Set(g.entries.map((e) => e.family).filter((f): f is Family => f !== undefined));
      if (fams.size === 1) vs.family = [...fams][0]!;
      return true;
    });
    const seen = new Map<string, SourceLoc>();
    for (const vs of c.virtualServers) {
      const key = virtualServerKey(vs);
      const prev = seen.get(key);
      if (prev) {
        this.sink.error(
          'duplicate',
          vs.loc,
          `virtual_server ${key.trim()} is already defined at ${prev.file}:${prev.line}:${prev.col}`,
          'virtual_server',
        );
      } else seen.set(key, vs.loc);
    }
  }
}

function suggest(word: string, block: string): string | undefined {
  const tables: Record<string, Table<never>> = {
    top: TOP as Table<never>,
    global_defs: GLOBAL as Table<never>,
    vrrp_instance: INSTANCE as Table<never>,
    vrrp_script: VSCRIPT as Table<never>,
    virtual_server: VS as Table<never>,
    real_server: RS as Table<never>,
  };
  const t = tables[block];
  if (!t) return undefined;
  let best: string | undefined;
  let bestD = 3;
  for (const k of Object.keys(t)) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

export function defaultGlobal(hostname: string): GlobalDefs {
  return {
    routerId: hostname.split('.')[0] || hostname,
    vrrpMcastGroup4: '224.0.0.18',
    vrrpMcastGroup6: 'ff02::12',
    enableScriptSecurity: false,
    vrrpVersion: 2,
    vrrpStrict: false,
    vrrpGarpMasterDelay: 5,
    vrrpGarpMasterRepeat: 5,
    vrrpGarpMasterRefresh: 0,
    vrrpGarpMasterRefreshRepeat: 1,
    vrrpGarpLowerPrioDelay: NaN,
    vrrpGarpLowerPrioRepeat: NaN,
    vrrpGarpInterval: 0,
    vrrpGnaInterval: 0,
    vrrpRtPriority: 1,
    vrrpMinGarp: false,
    vrrpLowerPrioNoAdvert: false,
    vrrpHigherPrioSendAdvert: false,
    vrrpCheckUnicastSrc: false,
    vrrpSkipCheckAdvAddr: false,
    vrrpDownTimerAdverts: 3,
    vrrpStartupDelay: 0,
    vrrpNotifyPriorityChanges: false,
    lvsFlush: false,
    lvsFlushOnStop: 'none',
    checkerLogAllFailures: false,
    rsInitNotifies: false,
    email: { notificationEmail: [] },
  };
}

// =========================================================================================
// top level

const TOP: Table<undefined> = {
  global_defs: {
    block: 'required',
    fn: (n, _c, b) => {
      b.v.maxArgs(n, 0);
      b.walk(n.children, GLOBAL, { g: b.config.global }, 'global_defs', 'global_defs');
      const g = b.config.global;
      if (Number.isNaN(g.vrrpGarpLowerPrioDelay)) g.vrrpGarpLowerPrioDelay = g.vrrpGarpMasterDelay;
      if (Number.isNaN(g.vrrpGarpLowerPrioRepeat)) g.vrrpGarpLowerPrioRepeat = g.vrrpGarpMasterRepeat;
    },
  },
  vrrp_script: { block: 'required', fn: (n, _c, b) => buildVrrpScript(n, b) },
  track_file: { block: 'required', fn: (n, _c, b) => buildTrackFile(n, b) },
  vrrp_track_file: {
    block: 'required',
    status: 'deprecated',
    note: 'old name of track_file',
    fn: (n, _c, b) => {
      b.deprecated(n, 'track_file');
      buildTrackFile(n, b);
    },
  },
  vrrp_instance: { block: 'required', fn: (n, _c, b) => buildInstance(n, b) },
  vrrp_sync_group: { block: 'required', fn: (n, _c, b) => buildSyncGroup(n, b) },
  virtual_server_group: { block: 'required', fn: (n, _c, b) => buildVsGroup(n, b) },
  virtual_server: { block: 'required', fn: (n, _c, b) => buildVirtualServer(n, b) },
};
// Placeholder so the lint of unused IGNORED_NOTE stays quiet when tables change.
void IGNORED_NOTE;

// =========================================================================================
// global_defs

function gSet<K extends keyof GlobalDefs>(key: K, read: (n: ConfigNode, b: Builder) => GlobalDefs[K] | undefined, nargs = 1): Spec<GlobalCtx> {
  return {
    fn: (n, c, b) => {
      const v = read(n, b);
      if (v !== undefined) c.g[key] = v;
      b.v.maxArgs(n, nargs);
    },
  };
}
const gFlag = (key: 'enableScriptSecurity' | 'vrrpStrict' | 'vrrpMinGarp' | 'lvsFlush' | 'checkerLogAllFailures' | 'rsInitNotifies' | 'vrrpCheckUnicastSrc' | 'vrrpSkipCheckAdvAddr'): Spec<GlobalCtx> =>
  gSet(key, () => true, 0);
const gBool = (key: 'vrrpLowerPrioNoAdvert' | 'vrrpHigherPrioSendAdvert' | 'vrrpNotifyPriorityChanges'): Spec<GlobalCtx> =>
  gSet(key, (n, b) => b.v.bool(n));
const ignoredEmail = (read?: (n: ConfigNode, c: GlobalCtx, b: Builder) => void, block: Spec<GlobalCtx>['block'] = 'none'): Spec<GlobalCtx> => ({
  block,
  status: 'ignored',
  note: IGNORED_NOTE.email,
  fn: (n, c, b) => {
    read?.(n, c, b);
    b.noteIgnored(n, IGNORED_NOTE.email);
  },
});

function fifo(n: ConfigNode, b: Builder): NotifyFifo | undefined {
  const path = b.v.str(n, 'a FIFO path');
  if (path === undefined) return undefined;
  b.v.maxArgs(n, 3);
  return { path };
}

const GLOBAL: Table<GlobalCtx> = {
  router_id: gSet('routerId', (n, b) => b.v.str(n, 'a router id')),
  vrrp_mcast_group4: gSet('vrrpMcastGroup4', (n, b) => {
    const ip = b.v.ip(n, b.v.word(n, 0, 'an IPv4 multicast address'), 'an IPv4 multicast address');
    if (!ip) return undefined;
    const first = Number(ip.address.split('.')[0]);
    if (ip.family !== 'inet' || first < 224 || first > 239) {
      b.sink.error('invalid-value', n.args[0]!, `vrrp_mcast_group4: '${ip.address}' is not an IPv4 multicast address`, n.keyword);
      return undefined;
    }
    return ip.address;
  }),
  vrrp_mcast_group6: gSet('vrrpMcastGroup6', (n, b) => {
    const ip = b.v.ip(n, b.v.word(n, 0, 'an IPv6 multicast address'), 'an IPv6 multicast address');
    if (!ip) return undefined;
    if (ip.family !== 'inet6' || !ip.address.toLowerCase().startsWith('ff')) {
      b.sink.error('invalid-value', n.args[0]!, `vrrp_mcast_group6: '${ip.address}' is not an IPv6 multicast address`, n.keyword);
      return undefined;
    }
    return ip.address;
  }),
  script_user: {
    fn: (n, c, b) => {
      const user = b.v.str(n, 'a user name');
      if (user === undefined) return;
      c.g.scriptUser = n.args[1] ? { user, group: n.args[1].text } : { user };
      b.v.maxArgs(n, 2);
    },
  },
  enable_script_security: gFlag('enableScriptSecurity'),
  vrrp_version: gSet('vrrpVersion', (n, b) => b.v.int(n, 0, 2, 3, 'a VRRP version') as 2 | 3 | undefined),
  vrrp_strict: gFlag('vrrpStrict'),
  vrrp_garp_master_delay: gSet('vrrpGarpMasterDelay', (n, b) => b.v.int(n, 0, 0, 4294, 'seconds')),
  vrrp_garp_master_repeat: gSet('vrrpGarpMasterRepeat', (n, b) => b.v.int(n, 0, 0, 2 ** 31, 'a count')),
  vrrp_garp_master_refresh: gSet('vrrpGarpMasterRefresh', (n, b) => b.v.int(n, 0, 0, 2 ** 31, 'seconds')),
  vrrp_garp_master_refresh_repeat: gSet('vrrpGarpMasterRefreshRepeat', (n, b) => b.v.int(n, 0, 1, 2 ** 31, 'a count')),
  vrrp_garp_lower_prio_delay: gSet('vrrpGarpLowerPrioDelay', (n, b) => b.v.int(n, 0, 0, 4294, 'seconds')),
  vrrp_garp_lower_prio_repeat: gSet('vrrpGarpLowerPrioRepeat', (n, b) => b.v.int(n, 0, 0, 2 ** 31, 'a count')),
  vrrp_garp_interval: gSet('vrrpGarpInterval', (n, b) => b.v.seconds(n, 0, 0, 1)),
  vrrp_gna_interval: gSet('vrrpGnaInterval', (n, b) => b.v.seconds(n, 0, 0, 1)),
  vrrp_rt_priority: {
    ...gSet('vrrpRtPriority', (n, b) => b.v.int(n, 0, 0, 99, 'a real-time priority (0: none)')),
    status: 'differs',
    note: 'applies to the thread sending adverts, not the whole process; lvsd uses 1 when unset',
  },
  vrrp_min_garp: gSet('vrrpMinGarp', (n, b) => b.v.bool(n)),
  vrrp_lower_prio_no_advert: gBool('vrrpLowerPrioNoAdvert'),
  vrrp_higher_prio_send_advert: gBool('vrrpHigherPrioSendAdvert'),
  vrrp_check_unicast_src: gFlag('vrrpCheckUnicastSrc'),
  vrrp_skip_check_adv_addr: gFlag('vrrpSkipCheckAdvAddr'),
  vrrp_down_timer_adverts: gSet('vrrpDownTimerAdverts', (n, b) => b.v.int(n, 0, 1, 100, 'a count')),
  vrrp_startup_delay: gSet('vrrpStartupDelay', (n, b) => b.v.seconds(n, 0, 0, 3600)),
  vrrp_notify_priority_changes: gBool('vrrpNotifyPriorityChanges'),
  lvs_sync_daemon: { fn: (n, c, b) => lvsSyncDaemon(n, c, b) },
  lvs_timeouts: {
    fn: (n, c, b) => {
      const t: NonNullable<GlobalDefs['lvsTimeouts']> = {};
      if (n.args.length === 0) b.sink.error('missing-argument', afterLast(n), 'lvs_timeouts: expected tcp, tcpfin or udp followed by seconds', n.keyword);
      for (let i = 0; i < n.args.length; i += 2) {
        const k = n.args[i]!;
        if (k.text !== 'tcp' && k.text !== 'tcpfin' && k.text !== 'udp') {
          b.sink.error('invalid-value', k, `lvs_timeouts: expected tcp, tcpfin or udp, got '${k.text}'`, n.keyword);
          continue;
        }
        const v = b.v.int(n, i + 1, 0, 86400 * 31, `seconds for ${k.text}`);
        if (v !== undefined) t[k.text] = v;
      }
      c.g.lvsTimeouts = t;
    },
  },
  lvs_flush: gFlag('lvsFlush'),
  lvs_flush_on_stop: {
    fn: (n, c, b) => {
      if (n.args.length === 0) c.g.lvsFlushOnStop = 'all';
      else if (b.v.oneOf(n, 0, ['VS'], 'a flush type')) c.g.lvsFlushOnStop = 'vs';
      b.v.maxArgs(n, 1);
    },
  },
  lvs_flush_onstop: {
    status: 'deprecated',
    note: 'old name of lvs_flush_on_stop',
    fn: (n, c, b) => {
      b.deprecated(n, 'lvs_flush_on_stop');
      GLOBAL.lvs_flush_on_stop!.fn(n, c, b);
    },
  },
  notify_fifo: gSet('notifyFifo', (n, b) => fifo(n, b), 3),
  notify_fifo_script: { fn: (n, c, b) => fifoScript(n, c, b, 'notifyFifo') },
  vrrp_notify_fifo: gSet('vrrpNotifyFifo', (n, b) => fifo(n, b), 3),
  vrrp_notify_fifo_script: { fn: (n, c, b) => fifoScript(n, c, b, 'vrrpNotifyFifo') },
  lvs_notify_fifo: gSet('lvsNotifyFifo', (n, b) => fifo(n, b), 3),
  lvs_notify_fifo_script: { fn: (n, c, b) => fifoScript(n, c, b, 'lvsNotifyFifo') },
  checker_log_all_failures: gSet('checkerLogAllFailures', (n, b) => b.v.bool(n)),
  rs_init_notifies: gFlag('rsInitNotifies'),
  notification_email: ignoredEmail((n, c) => {
    for (const e of n.children ?? []) c.g.email.notificationEmail.push(e.keyword, ...e.args.map((a) => a.text));
  }, 'optional'),
  notification_email_from: ignoredEmail((n, c) => {
    if (n.args[0]) c.g.email.notificationEmailFrom = n.args[0].text;
  }),
  smtp_server: ignoredEmail((n, c) => {
    if (n.args[0]) c.g.email.smtpServer = n.args.map((a) => a.text).join(' ');
  }),
  smtp_helo_name: ignoredEmail((n, c) => {
    if (n.args[0]) c.g.email.smtpHeloName = n.args[0].text;
  }),
  smtp_connect_timeout: ignoredEmail((n, c, b) => {
    const v = b.v.int(n, 0, 1, 2 ** 31, 'seconds');
    if (v !== undefined) c.g.email.smtpConnectTimeout = v;
  }),
  smtp_alert: ignoredEmail(),
  smtp_alert_vrrp: ignoredEmail(),
  smtp_alert_checker: ignoredEmail(),
  no_email_faults: ignoredEmail(),
};

function fifoScript(n: ConfigNode, c: GlobalCtx, b: Builder, key: 'notifyFifo' | 'vrrpNotifyFifo' | 'lvsNotifyFifo'): void {
  const s = b.v.script(n);
  if (!s) return;
  const f = c.g[key];
  if (!f) {
    b.sink.error('reference', n, `${n.keyword} needs ${n.keyword.replace(/_script$/, '')} set before it`, n.keyword);
    return;
  }
  f.script = s;
}

function lvsSyncDaemon(n: ConfigNode, c: GlobalCtx, b: Builder): void {
  const ifname = b.v.str(n, 'an interface name');
  if (ifname === undefined) return;
  const sd = { interface: ifname, vrrpInstance: '', syncId: -1, loc: locOf(n) } as NonNullable<GlobalDefs['lvsSyncDaemon']>;
  const kw = new Set(['inst', 'id', 'maxlen', 'port', 'ttl', 'group']);
  let positional = 0;
  for (let i = 1; i < n.args.length; i++) {
    const t = n.args[i]!;
    if (!kw.has(t.text)) {
      // The old positional form: INTERFACE INSTANCE [SYNCID].
      if (positional === 0) sd.vrrpInstance = t.text;
      else if (positional === 1) {
        const v = b.v.intOf(n, t, 0, 255, 'a sync id');
        if (v !== undefined) sd.syncId = v;
      } else b.sink.error('invalid-value', t, `lvs_sync_daemon: unexpected '${t.text}'`, n.keyword);
      positional++;
      continue;
    }
    const val = n.args[i + 1];
    if (!val) {
      b.sink.error('missing-argument', afterLast(n), `lvs_sync_daemon: expected a value after '${t.text}'`, n.keyword);
      break;
    }
    i++;
    if (t.text === 'inst') sd.vrrpInstance = val.text;
    else if (t.text === 'id') {
      const v = b.v.intOf(n, val, 0, 255, 'a sync id');
      if (v !== undefined) sd.syncId = v;
    } else if (t.text === 'maxlen') {
      const v = b.v.intOf(n, val, 1, 65535 - 28, 'a length');
      if (v !== undefined) sd.maxlen = v;
    } else if (t.text === 'port') {
      const v = b.v.intOf(n, val, 1, 65535, 'a port');
      if (v !== undefined) sd.port = v;
    } else if (t.text === 'ttl') {
      const v = b.v.intOf(n, val, 1, 255, 'a TTL');
      if (v !== undefined) sd.ttl = v;
    } else if (t.text === 'group') {
      const ip = b.v.ip(n, val, 'a multicast group address');
      if (ip) sd.group = ip.address;
    }
  }
  if (!sd.vrrpInstance) {
    b.sink.error('missing-argument', afterLast(n), 'lvs_sync_daemon: expected the name of the vrrp_instance it follows', n.keyword);
    return;
  }
  if (c.g.lvsSyncDaemon) {
    b.sink.error('duplicate', n, 'lvs_sync_daemon is already set', n.keyword);
    return;
  }
  c.g.lvsSyncDaemon = sd;
}

// =========================================================================================
// vrrp_script, track_file

function blockName(n: ConfigNode, b: Builder, what: string): string | undefined {
  const name = b.v.str(n, `${what} name`);
  b.v.maxArgs(n, 1);
  return name;
}

const VSCRIPT: Table<VrrpScript> = {
  script: {
    fn: (n, s, b) => {
      const spec = b.v.script(n);
      if (spec) s.script = spec;
    },
  },
  interval: {
    fn: (n, s, b) => {
      const v = b.v.int(n, 0, 0, 4294967, 'seconds');
      if (v === 0) b.sink.warn('semantic', n.args[0]!, `vrrp_script ${s.name}: interval must be greater than 0 - using 1`, n.keyword);
      if (v !== undefined) s.interval = Math.max(1, v);
    },
  },
  timeout: {
    fn: (n, s, b) => {
      const v = b.v.int(n, 0, 0, 4294967, 'seconds');
      if (v === 0) b.sink.warn('semantic', n.args[0]!, `vrrp_script ${s.name}: timeout must be greater than 0 - using 1`, n.keyword);
      if (v !== undefined) s.timeout = Math.max(1, v);
    },
  },
  weight: {
    fn: (n, s, b) => {
      const v = b.v.int(n, 0, -253, 253, 'a weight');
      if (v !== undefined) s.weight = v;
      const opt = n.args[1];
      if (opt) {
        if (opt.text === 'reverse') s.weightReverse = true;
        else b.sink.error('invalid-value', opt, `vrrp_script ${s.name}: unknown weight option '${opt.text}' (expected reverse)`, n.keyword);
      }
      b.v.maxArgs(n, 2);
    },
  },
  rise: { fn: (n, s, b) => void ((s.rise = b.v.int(n, 0, 1, 2 ** 31 - 1, 'a count') ?? s.rise), b.v.maxArgs(n, 1)) },
  fall: { fn: (n, s, b) => void ((s.fall = b.v.int(n, 0, 1, 2 ** 31 - 1, 'a count') ?? s.fall), b.v.maxArgs(n, 1)) },
  user: {
    fn: (n, s, b) => {
      const u = b.v.str(n, 'a user name');
      if (u === undefined) return;
      s.script.user = u;
      if (n.args[1]) s.script.group = n.args[1].text;
      b.v.maxArgs(n, 2);
    },
  },
  init_fail: { fn: (n, s, b) => void ((s.initFail = true), b.v.maxArgs(n, 0)) },
};

function buildVrrpScript(n: ConfigNode, b: Builder): void {
  const name = blockName(n, b, 'a vrrp_script');
  if (name === undefined) return;
  const s: VrrpScript = {
    name,
    script: { argv: [], text: '' },
    interval: 1,
    timeout: 0,
    weight: 0,
    weightReverse: false,
    rise: 1,
    fall: 1,
    initFail: false,
    loc: locOf(n),
  };
  b.walk(n.children, VSCRIPT, s, 'vrrp_script', `vrrp_script ${name}`);
  if (s.script.argv.length === 0) {
    b.sink.error('missing-argument', n.close ?? n, `vrrp_script ${name}: expected a 'script' line`, 'script');
    return;
  }
  if (s.timeout === 0) s.timeout = s.interval;
  if (b.names.vrrpScripts.has(name)) {
    b.sink.error('duplicate', n, `vrrp_script ${name} is already defined`, n.keyword);
    return;
  }
  b.config.vrrpScripts.push(s);
  b.names.vrrpScripts.add(s.name);
}

const TRACKFILE: Table<TrackFileDef> = {
  file: { fn: (n, f, b) => void ((f.file = b.v.str(n, 'a file path') ?? f.file), b.v.maxArgs(n, 1)) },
  weight: {
    fn: (n, f, b) => {
      const v = b.v.int(n, 0, -254, 254, 'a weight');
      if (v !== undefined) f.weight = v;
      const opt = n.args[1];
      if (opt) {
        if (opt.text === 'reverse') f.weightReverse = true;
        else b.sink.error('invalid-value', opt, `track_file ${f.name}: unknown weight option '${opt.text}' (expected reverse)`, n.keyword);
      }
      b.v.maxArgs(n, 2);
    },
  },
  init_file: {
    fn: (n, f, b) => {
      const init = { value: 0, overwrite: false };
      for (const a of n.args) {
        if (a.text === 'overwrite') init.overwrite = true;
        else {
          const v = b.v.intOf(n, a, -(2 ** 31), 2 ** 31 - 1, 'an initial value');
          if (v !== undefined) init.value = v;
        }
      }
      f.init = init;
    },
  },
};

function buildTrackFile(n: ConfigNode, b: Builder): void {
  const name = blockName(n, b, 'a track_file');
  if (name === undefined) return;
  const f: TrackFileDef = { name, file: '', weight: 1, weightReverse: false, loc: locOf(n) };
  b.walk(n.children, TRACKFILE, f, 'track_file', `track_file ${name}`);
  if (!f.file) {
    b.sink.error('missing-argument', n.close ?? n, `track_file ${name}: expected a 'file' line`, 'file');
    return;
  }
  if (b.names.trackFiles.has(name)) {
    b.sink.error('duplicate', n, `track_file ${name} is already defined`, n.keyword);
    return;
  }
  b.config.trackFiles.push(f);
  b.names.trackFiles.add(f.name);
}

// =========================================================================================
// vrrp_instance

interface InstCtx {
  i: VrrpInstance;
  /** Raw settings whose defaults depend on others. */
  priority?: number;
  state?: 'MASTER' | 'BACKUP';
  version?: 2 | 3;
  advertInt?: { value: number; at: Token };
  accept?: boolean;
  strict?: boolean;
  garpLowerPrioDelay?: number;
  garpLowerPrioRepeat?: number;
  lowerPrioNoAdvert?: boolean;
  higherPrioSendAdvert?: boolean;
  preempt?: ConfigNode;
  nativeIpv6?: boolean;
  authType?: { type: 'PASS' | 'AH'; at: Token };
  authPass?: string;
  /** auth_type was rejected (AH): do not complain about its auth_pass too. */
  authRejected?: boolean;
}

/** `NAME [weight N [reverse]]` entries of track_script / track_interface / track_file blocks. */
function trackEntries(n: ConfigNode, b: Builder, min: number, max: number): TrackRef[] {
  const out: TrackRef[] = [];
  const entries = n.children ?? [];
  if (!n.children) b.sink.error('syntax', afterLast(n), `${n.keyword}: expected '{' and a list of names`, n.keyword);
  for (const e of entries) {
    const ref: TrackRef = { name: e.keyword, reverse: false, loc: locOf(e) };
    for (let i = 0; i < e.args.length; i++) {
      const a = e.args[i]!;
      if (a.text === 'weight') {
        const w = e.args[i + 1];
        if (!w) {
          b.sink.error('missing-argument', afterLast(e), `${n.keyword} ${e.keyword}: expected a weight after 'weight'`, n.keyword);
          break;
        }
        const v = b.v.intOf({ ...e, keyword: `${n.keyword} ${e.keyword} weight` }, w, min, max, 'a weight');
        if (v !== undefined) ref.weight = v;
        i++;
      } else if (a.text === 'reverse') {
        ref.reverse = true;
      } else {
        b.sink.error('invalid-value', a, `${n.keyword} ${e.keyword}: unexpected '${a.text}' (expected 'weight N' or 'reverse')`, n.keyword);
      }
    }
    out.push(ref);
  }
  return out;
}

const SCOPES = ['global', 'site', 'link', 'host', 'nowhere'];

function parseVip(e: ConfigNode, b: Builder, owner: string): VirtualIp | undefined {
  const words = [{ text: e.keyword, quoted: false, file: e.file, line: e.line, col: e.col }, ...e.args];
  const first = words[0]!;
  const [addr, prefixText] = first.text.split('/', 2) as [string, string | undefined];
  const family = familyOf(addr);
  if (!family) {
    b.sink.error('invalid-value', first, `${owner}: expected an IP address[/prefix], got '${first.text}'`, 'virtual_ipaddress');
    return undefined;
  }
  const maxPrefix = family === 'inet' ? 32 : 128;
  let prefix = maxPrefix;
  if (prefixText !== undefined) {
    if (!/^\d+$/.test(prefixText) || Number(prefixText) > maxPrefix) {
      b.sink.error('invalid-value', first, `${owner}: prefix length '${prefixText}' is not in 0-${maxPrefix}`, 'virtual_ipaddress');
      return undefined;
    }
    prefix = Number(prefixText);
  }
  const vip: VirtualIp = { address: addr, family, prefix, loc: locOf(first) };
  const valueOpts = new Set(['dev', 'scope', 'brd', 'broadcast', 'label', 'peer', 'preferred_lft']);
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    const val = words[i + 1];
    if (valueOpts.has(w.text) && !val) {
      b.sink.error('missing-argument', { ...w, col: w.col + w.text.length + 1 }, `${owner}: expected a value after '${w.text}'`, 'virtual_ipaddress');
      return undefined;
    }
    switch (w.text) {
      case 'dev':
        vip.dev = val!.text;
        i++;
        break;
      case 'scope':
        if (!SCOPES.includes(val!.text) && !/^\d+$/.test(val!.text)) {
          b.sink.error('invalid-value', val!, `${owner}: scope '${val!.text}' is not one of ${SCOPES.join(', ')} or a number`, 'virtual_ipaddress');
          return undefined;
        }
        vip.scope = val!.text;
        i++;
        break;
      case 'brd':
      case 'broadcast':
        if (family === 'inet6') {
          b.sink.error('invalid-value', w, `${owner}: an IPv6 address has no broadcast address`, 'virtual_ipaddress');
          return undefined;
        }
        if (val!.text !== '+' && val!.text !== '-' && familyOf(val!.text) !== 'inet') {
          b.sink.error('invalid-value', val!, `${owner}: expected an IPv4 broadcast address, '+' or '-', got '${val!.text}'`, 'virtual_ipaddress');
          return undefined;
        }
        vip.brd = val!.text;
        i++;
        break;
      case 'label':
        vip.label = val!.text;
        i++;
        break;
      case 'peer':
        vip.peer = val!.text;
        i++;
        break;
      case 'home':
        vip.home = true;
        break;
      case '-nodad':
        vip.nodad = true;
        break;
      case 'noprefixroute':
        vip.noprefixroute = true;
        break;
      case 'no_track':
        vip.noTrack = true;
        break;
      case 'preferred_lft':
        if (val!.text === 'forever') vip.preferredLft = 'forever';
        else {
          const v = b.v.intOf({ ...e, keyword: 'preferred_lft' }, val!, 0, 2 ** 32 - 1, 'seconds');
          if (v === undefined) return undefined;
          vip.preferredLft = v;
        }
        i++;
        break;
      case 'mngtmpaddr':
      case 'autojoin':
      case 'use_vmac':
      case 'track_group':
        b.sink.warn('unsupported', w, `${owner}: address option '${w.text}' is not supported by lvsd yet - ignored`, 'virtual_ipaddress');
        if (w.text === 'use_vmac' || w.text === 'track_group') i++;
        break;
      default:
        b.sink.error('invalid-value', w, `${owner}: unknown address option '${w.text}' (expected dev, scope, brd, label, peer, home, -nodad, noprefixroute, no_track or preferred_lft)`, 'virtual_ipaddress');
        return undefined;
    }
  }
  return vip;
}

function parseRoute(e: ConfigNode, b: Builder, owner: string): VirtualRoute | undefined {
  const words = [{ text: e.keyword, quoted: false, file: e.file, line: e.line, col: e.col }, ...e.args];
  const route: Partial<VirtualRoute> & { options: string[] } = { options: [], loc: locOf(e) };
  const types = ['blackhole', 'unreachable', 'prohibit', 'throw', 'unicast', 'local', 'broadcast', 'anycast', 'multicast', 'nat'];
  let i = 0;
  if (types.includes(words[0]!.text)) route.type = words[i++]!.text;
  for (; i < words.length; i++) {
    const w = words[i]!;
    const val = words[i + 1];
    const need = (): boolean => {
      if (val) return true;
      b.sink.error('missing-argument', { ...w, col: w.col + w.text.length + 1 }, `${owner}: expected a value after '${w.text}'`, 'virtual_routes');
      return false;
    };
    switch (w.text) {
      case 'src':
        if (!need()) return undefined;
        route.src = val!.text;
        i++;
        break;
      case 'to':
        if (!need()) return undefined;
        route.to = val!.text;
        i++;
        break;
      case 'via':
      case 'gw':
        if (!need()) return undefined;
        route.via = val!.text;
        i++;
        break;
      case 'dev':
      case 'oif':
        if (!need()) return undefined;
        route.dev = val!.text;
        i++;
        break;
      case 'scope':
        if (!need()) return undefined;
        route.scope = val!.text;
        i++;
        break;
      case 'table': {
        if (!need()) return undefined;
        const id = routeTableId(val!.text, b.opts.fs);
        if (id === undefined) {
          b.sink.error('invalid-value', val!, `${owner}: unknown routing table '${val!.text}' (a number, local, main, default, or a name from ${RT_TABLES[0]})`, 'virtual_routes');
          return undefined;
        }
        route.table = val!.text;
        route.tableId = id;
        i++;
        break;
      }
      case 'metric':
      case 'preference':
      case 'priority': {
        if (!need()) return undefined;
        const v = b.v.intOf({ ...e, keyword: w.text }, val!, 0, 2 ** 32 - 1, 'a metric');
        if (v === undefined) return undefined;
        route.metric = v;
        i++;
        break;
      }
      case 'no_track':
        route.noTrack = true;
        break;
      default:
        if (route.to === undefined && (w.text === 'default' || w.text === 'default6' || w.text.includes('.') || w.text.includes(':'))) {
          route.to = w.text;
        } else {
          route.options.push(w.text);
        }
    }
  }
  if (route.to === undefined) {
    b.sink.error('missing-argument', e, `${owner}: expected a destination ([to] ADDRESS[/PREFIX] or default)`, 'virtual_routes');
    return undefined;
  }
  const bare = route.to.split('/')[0]!;
  route.family = route.to === 'default6' || bare.includes(':') ? 'inet6' : 'inet';
  if (route.to !== 'default' && route.to !== 'default6' && !familyOf(bare)) {
    b.sink.error('invalid-value', e, `${owner}: '${route.to}' is not an address or prefix`, 'virtual_routes');
    return undefined;
  }
  if (route.options.length > 0) {
    b.sink.warn(
      'unsupported',
      e,
      `${owner}: route options ${route.options.map((o) => `'${o}'`).join(' ')} are not supported by lvsd yet - kept but not applied`,
      'virtual_routes',
    );
  }
  return route as VirtualRoute;
}

function notifySpec(key: keyof VrrpNotify): Spec<{ notify: VrrpNotify }> {
  return {
    fn: (n, c, b) => {
      if (c.notify[key]) {
        b.sink.error('duplicate', n, `${n.keyword} is already set`, n.keyword);
        return;
      }
      const s = b.v.script(n);
      if (s) c.notify[key] = s;
    },
  };
}

const iFlag = (key: 'nopreempt' | 'dontTrackPrimary' | 'promoteSecondaries'): Spec<InstCtx> => ({
  fn: (n, c, b) => {
    c.i[key] = true;
    b.v.maxArgs(n, 0);
  },
});
const iInt = (
  key: 'garpMasterDelay' | 'garpMasterRepeat' | 'garpMasterRefresh' | 'garpMasterRefreshRepeat' | 'downTimerAdverts' | 'unicastTtl',
  min: number,
  max: number,
  what: string,
): Spec<InstCtx> => ({
  fn: (n, c, b) => {
    const v = b.v.int(n, 0, min, max, what);
    if (v !== undefined) c.i[key] = v;
    b.v.maxArgs(n, 1);
  },
});
const asNotify = (key: keyof VrrpNotify): Spec<InstCtx> => {
  const s = notifySpec(key);
  return { fn: (n, c, b) => s.fn(n, { notify: c.i.notify }, b) };
};

const AUTH: Table<InstCtx> = {
  auth_type: {
    fn: (n, c, b) => {
      const t = b.v.oneOf(n, 0, ['PASS', 'AH'] as const, 'an authentication type');
      if (t === 'AH') {
        b.sink.error(
          'unsupported',
          n.args[0]!,
          'auth_type AH (IPsec authentication header) is not supported by lvsd: use PASS, or no authentication',
          n.keyword,
        );
        c.authRejected = true;
        return;
      }
      if (t) c.authType = { type: t, at: n.args[0]! };
      b.v.maxArgs(n, 1);
    },
  },
  auth_pass: {
    fn: (n, c, b) => {
      const p = b.v.str(n, 'a password');
      if (p === undefined) return;
      if (p.length > 8) {
        b.sink.warn('semantic', n.args[0]!, `auth_pass: only the first 8 characters of a VRRP password are used ('${p.slice(0, 8)}')`, n.keyword);
      }
      c.authPass = p.slice(0, 8);
      b.v.maxArgs(n, 1);
    },
  },
};

const INSTANCE: Table<InstCtx> = {
  state: {
    fn: (n, c, b) => {
      const s = b.v.oneOf(n, 0, ['MASTER', 'BACKUP'] as const, 'a state');
      if (s === 'BACKUP' && c.state === 'MASTER') {
        b.sink.warn('semantic', n, 'state was already set to MASTER - BACKUP ignored (as keepalived)', n.keyword);
      } else if (s) c.state = s;
      b.v.maxArgs(n, 1);
    },
  },
  interface: {
    fn: (n, c, b) => {
      const name = b.v.str(n, 'an interface name');
      if (name === undefined) return;
      if (name.length > 15) {
        b.sink.error('invalid-value', n.args[0]!, `interface: '${name}' is longer than 15 characters`, n.keyword);
        return;
      }
      if (name === 'lo') {
        b.sink.error('invalid-value', n.args[0]!, `interface: a loopback interface cannot carry VRRP`, n.keyword);
        return;
      }
      c.i.interface = name;
      b.v.maxArgs(n, 1);
    },
  },
  virtual_router_id: {
    fn: (n, c, b) => {
      const v = b.v.int(n, 0, 1, 255, 'a VRID');
      if (v !== undefined) c.i.virtualRouterId = v;
      b.v.maxArgs(n, 1);
    },
  },
  priority: {
    fn: (n, c, b) => {
      const v = b.v.int(n, 0, 1, 255, 'a priority');
      if (v !== undefined) c.priority = v;
      b.v.maxArgs(n, 1);
    },
  },
  advert_int: {
    fn: (n, c, b) => {
      const v = b.v.seconds(n, 0, 0.01, 255, 'an interval in seconds');
      if (v !== undefined) c.advertInt = { value: v, at: n.args[0]! };
      b.v.maxArgs(n, 1);
    },
  },
  version: {
    fn: (n, c, b) => {
      const v = b.v.int(n, 0, 2, 3, 'a VRRP version');
      if (v !== undefined) c.version = v as 2 | 3;
      b.v.maxArgs(n, 1);
    },
  },
  native_ipv6: {
    fn: (n, c, b) => {
      c.nativeIpv6 = true;
      b.v.maxArgs(n, 0);
    },
  },
  authentication: { block: 'required', fn: (n, c, b) => b.walk(n.children, AUTH, c, 'authentication', `vrrp_instance ${c.i.name} authentication`) },
  virtual_ipaddress: {
    block: 'required',
    fn: (n, c, b) => {
      for (const e of n.children ?? []) {
        const v = parseVip(e, b, `vrrp_instance ${c.i.name} virtual_ipaddress`);
        if (v) c.i.virtualIpaddresses.push(v);
      }
    },
  },
  virtual_ipaddress_excluded: {
    block: 'required',
    fn: (n, c, b) => {
      for (const e of n.children ?? []) {
        const v = parseVip(e, b, `vrrp_instance ${c.i.name} virtual_ipaddress_excluded`);
        if (v) c.i.virtualIpaddressesExcluded.push(v);
      }
    },
  },
  virtual_routes: {
    block: 'required',
    fn: (n, c, b) => {
      for (const e of n.children ?? []) {
        const r = parseRoute(e, b, `vrrp_instance ${c.i.name} virtual_routes`);
        if (r) c.i.virtualRoutes.push(r);
      }
    },
  },
  mcast_src_ip: {
    fn: (n, c, b) => {
      const ip = b.v.ip(n, b.v.word(n, 0, 'an IP address'));
      if (ip) c.i.srcIp = ip.address;
      b.v.maxArgs(n, 1);
    },
  },
  unicast_src_ip: {
    fn: (n, c, b) => {
      const ip = b.v.ip(n, b.v.word(n, 0, 'an IP address'));
      if (ip) c.i.srcIp = ip.address;
      b.v.maxArgs(n, 1);
    },
  },
  mcast_dst_ip: {
    fn: (n, c, b) => {
      const ip = b.v.ip(n, b.v.word(n, 0, 'a multicast address'));
      if (ip) c.i.mcastDstIp = ip.address;
      b.v.maxArgs(n, 1);
    },
  },
  unicast_peer: {
    block: 'required',
    fn: (n, c, b) => {
      for (const e of n.children ?? []) {
        const t = { text: e.keyword, quoted: false, file: e.file, line: e.line, col: e.col };
        const ip = b.v.ip({ ...e, keyword: 'unicast_peer' }, t);
        if (!ip) continue;
        const peer: VrrpInstance['unicastPeers'][number] = { address: ip.address };
        for (let i = 0; i < e.args.length; i += 2) {
          const k = e.args[i]!;
          if (k.text !== 'min_ttl' && k.text !== 'max_ttl') {
            b.sink.error('invalid-value', k, `unicast_peer ${ip.address}: unexpected '${k.text}' (expected min_ttl or max_ttl)`, 'unicast_peer');
            continue;
          }
          const v = b.v.int({ ...e, keyword: `unicast_peer ${ip.address} ${k.text}` }, i + 1, 0, 255, 'a TTL');
          if (v !== undefined) peer[k.text === 'min_ttl' ? 'minTtl' : 'maxTtl'] = v;
        }
        c.i.unicastPeers.push(peer);
      }
    },
  },
  unicast_ttl: iInt('unicastTtl', 1, 255, 'a TTL'),
  check_unicast_src: {
    fn: (n, c, b) => {
      c.i.checkUnicastSrc = true;
      b.v.maxArgs(n, 0);
    },
  },
  nopreempt: iFlag('nopreempt'),
  preempt: {
    fn: (n, c, b) => {
      c.i.nopreempt = false;
      b.v.maxArgs(n, 0);
    },
  },
  preempt_delay: {
    fn: (n, c, b) => {
      const v = b.v.seconds(n, 0, 0, 1000);
      if (v !== undefined) c.i.preemptDelay = v;
      b.v.maxArgs(n, 1);
    },
  },
  accept: {
    fn: (n, c, b) => {
      c.accept = true;
      b.v.maxArgs(n, 0);
    },
  },
  strict_mode: {
    fn: (n, c, b) => {
      const v = b.v.bool(n);
      if (v !== undefined) c.strict = v;
    },
  },
  skip_check_adv_addr: {
    fn: (n, c, b) => {
      const v = b.v.bool(n);
      if (v !== undefined) c.i.skipCheckAdvAddr = v;
    },
  },
  dont_track_primary: iFlag('dontTrackPrimary'),
  track_script: {
    block: 'required',
    fn: (n, c, b) => {
      const refs = trackEntries(n, b, -253, 253);
      for (const r of refs) b.markScriptUsed(r.name);
      c.i.trackScripts.push(...refs);
    },
  },
  track_interface: { block: 'required', fn: (n, c, b) => void c.i.trackInterfaces.push(...trackEntries(n, b, -254, 254)) },
  track_file: { block: 'required', fn: (n, c, b) => void c.i.trackFiles.push(...trackEntries(n, b, -254, 254)) },
  notify_master: asNotify('master'),
  notify_backup: asNotify('backup'),
  notify_fault: asNotify('fault'),
  notify_stop: asNotify('stop'),
  notify_deleted: asNotify('deleted'),
  notify: asNotify('any'),
  notify_master_rx_lower_pri: asNotify('masterRxLowerPri'),
  notify_priority_changes: {
    fn: (n, c, b) => {
      const v = b.v.bool(n);
      if (v !== undefined) c.i.notifyPriorityChanges = v;
    },
  },
  smtp_alert: { status: 'ignored', note: IGNORED_NOTE.email, fn: (n, _c, b) => b.noteIgnored(n, IGNORED_NOTE.email) },
  garp_master_delay: iInt('garpMasterDelay', 0, 4294, 'seconds'),
  garp_master_repeat: iInt('garpMasterRepeat', 1, 2 ** 31, 'a count'),
  garp_master_refresh: iInt('garpMasterRefresh', 0, 2 ** 31, 'seconds'),
  garp_master_refresh_repeat: iInt('garpMasterRefreshRepeat', 1, 2 ** 31, 'a count'),
  garp_lower_prio_delay: {
    fn: (n, c, b) => {
      const v = b.v.int(n, 0, 0, 4294, 'seconds');
      if (v !== undefined) c.garpLowerPrioDelay = v;
    },
  },
  garp_lower_prio_repeat: {
    fn: (n, c, b) => {
      const v = b.v.int(n, 0, 0, 2 ** 31 - 1, 'a count');
      if (v !== undefined) c.garpLowerPrioRepeat = v;
    },
  },
  lower_prio_no_advert: {
    fn: (n, c, b) => {
      const v = b.v.bool(n);
      if (v !== undefined) c.lowerPrioNoAdvert = v;
    },
  },
  higher_prio_send_advert: {
    fn: (n, c, b) => {
      const v = b.v.bool(n);
      if (v !== undefined) c.higherPrioSendAdvert = v;
    },
  },
  down_timer_adverts: iInt('downTimerAdverts', 1, 100, 'a count'),
  promote_secondaries: iFlag('promoteSecondaries'),
  lvs_sync_daemon_interface: {
    status: 'deprecated',
    note: 'use global_defs lvs_sync_daemon INTERFACE INSTANCE',
    fn: (n, c, b) => {
      b.sink.note('deprecated', n, `lvs_sync_daemon_interface in a vrrp_instance is deprecated: use global_defs 'lvs_sync_daemon ${n.args[0]?.text ?? 'IF'} ${c.i.name}' (read the same)`, n.keyword);
      const ifname = b.v.str(n, 'an interface name');
      if (ifname === undefined) return;
      if (b.config.global.lvsSyncDaemon) {
        b.sink.error('duplicate', n, 'lvs_sync_daemon is already set', n.keyword);
        return;
      }
      b.config.global.lvsSyncDaemon = { interface: ifname, vrrpInstance: c.i.name, syncId: -1, loc: locOf(n) };
    },
  },
};

function buildInstance(n: ConfigNode, b: Builder): void {
  const name = blockName(n, b, 'a vrrp_instance');
  if (name === undefined) return;
  const g = b.config.global;
  const i: VrrpInstance = {
    name,
    state: 'BACKUP',
    virtualRouterId: 0,
    priority: 100,
    advertInt: 1,
    version: 2,
    family: 'inet',
    virtualIpaddresses: [],
    virtualIpaddressesExcluded: [],
    virtualRoutes: [],
    unicastPeers: [],
    nopreempt: false,
    preemptDelay: 0,
    accept: true,
    strictMode: false,
    dontTrackPrimary: false,
    trackScripts: [],
    trackInterfaces: [],
    trackFiles: [],
    garpMasterDelay: g.vrrpGarpMasterDelay,
    garpMasterRepeat: g.vrrpGarpMasterRepeat,
    garpMasterRefresh: g.vrrpGarpMasterRefresh,
    garpMasterRefreshRepeat: g.vrrpGarpMasterRefreshRepeat,
    garpLowerPrioDelay: 0,
    garpLowerPrioRepeat: 0,
    lowerPrioNoAdvert: false,
    higherPrioSendAdvert: false,
    downTimerAdverts: g.vrrpDownTimerAdverts,
    skipCheckAdvAddr: g.vrrpSkipCheckAdvAddr,
    checkUnicastSrc: g.vrrpCheckUnicastSrc,
    promoteSecondaries: false,
    notify: {},
    notifyPriorityChanges: g.vrrpNotifyPriorityChanges,
    loc: locOf(n),
  };
  const c: InstCtx = { i };
  b.walk(n.children, INSTANCE, c, 'vrrp_instance', `vrrp_instance ${name}`);
  const where = n.close ?? n;
  const sink = b.sink;

  if (b.names.vrrpInstances.has(name)) {
    sink.error('duplicate', n, `vrrp_instance ${name} is already defined`, n.keyword);
    return;
  }
  if (i.virtualRouterId === 0) {
    sink.error('missing-argument', where, `vrrp_instance ${name}: expected 'virtual_router_id' (1-255)`, 'virtual_router_id');
  }
  // Family: from the VIPs (all of virtual_ipaddress must be one family).
  const fams = new Set(i.virtualIpaddresses.map((v) => v.family));
  if (fams.size > 1) {
    sink.error(
      'invalid-value',
      i.virtualIpaddresses.find((v) => v.family !== i.virtualIpaddresses[0]!.family)!.loc,
      `vrrp_instance ${name}: virtual_ipaddress mixes IPv4 and IPv6 (put the other family in virtual_ipaddress_excluded)`,
      'virtual_ipaddress',
    );
  }
  if (c.nativeIpv6 || i.virtualIpaddresses[0]?.family === 'inet6') i.family = 'inet6';
  i.strictMode = c.strict ?? g.vrrpStrict;
  if (c.version !== undefined) i.version = c.version;
  else if (c.nativeIpv6 || i.family === 'inet6') i.version = 3;
  else i.version = g.vrrpVersion;
  if (i.family === 'inet6' && i.version === 2) {
    if (i.strictMode) {
      sink.warn('semantic', where, `vrrp_instance ${name}: IPv6 cannot use VRRP version 2 in strict mode - using version 3 (as keepalived)`);
      i.version = 3;
    } else {
      sink.warn('compat', where, `vrrp_instance ${name}: VRRP version 2 with IPv6 is not standard (RFC 3768 is IPv4 only)`);
    }
  }
  if (i.virtualIpaddresses.length === 0) {
    if (i.version === 3 || i.strictMode) sink.error('missing-argument', where, `vrrp_instance ${name}: at least one virtual_ipaddress is required`, 'virtual_ipaddress');
    else sink.warn('semantic', where, `vrrp_instance ${name}: no virtual_ipaddress (the instance protects nothing)`, 'virtual_ipaddress');
  }
  if (!i.interface && !i.srcIp) {
    sink.error('missing-argument', where, `vrrp_instance ${name}: expected 'interface' (or unicast_src_ip with unicast_peer)`, 'interface');
  }
  if (i.unicastPeers.length === 0 && i.unicastTtl !== undefined) {
    sink.warn('semantic', where, `vrrp_instance ${name}: unicast_ttl without unicast_peer - ignored (as keepalived)`, 'unicast_ttl');
    delete i.unicastTtl;
  }
  // Priority and state derive from each other.
  if (c.priority !== undefined) i.priority = c.priority;
  else i.priority = c.state === 'MASTER' ? 255 : 100;
  i.state = c.state ?? (i.priority === 255 ? 'MASTER' : 'BACKUP');
  if (c.state === 'MASTER' && c.priority === undefined) {
    sink.note('semantic', where, `vrrp_instance ${name}: state MASTER without priority means priority 255 (address owner), as in keepalived`, 'priority');
  }
  if (i.strictMode && (i.state === 'MASTER') !== (i.priority === 255)) {
    sink.warn('semantic', where, `vrrp_instance ${name}: strict mode: state MASTER must match priority 255 - state set from priority (as keepalived)`, 'state');
    i.state = i.priority === 255 ? 'MASTER' : 'BACKUP';
  }
  // Authentication.
  if (c.authType) {
    if (i.strictMode) sink.warn('semantic', c.authType.at, `vrrp_instance ${name}: strict mode does not allow authentication - ignored (as keepalived)`, 'auth_type');
    else if (i.version === 3) sink.warn('semantic', c.authType.at, `vrrp_instance ${name}: VRRP version 3 has no authentication - ignored (as keepalived)`, 'auth_type');
    else if (!c.authPass) sink.error('missing-argument', c.authType.at, `vrrp_instance ${name}: auth_type ${c.authType.type} needs auth_pass`, 'auth_pass');
    else i.authentication = { type: c.authType.type, pass: c.authPass };
  } else if (c.authPass !== undefined && !c.authRejected) {
    sink.warn('semantic', where, `vrrp_instance ${name}: auth_pass without auth_type - ignored`, 'auth_pass');
  }
  // Advert interval: whole seconds for v2, centiseconds for v3.
  if (c.advertInt) {
    let v = c.advertInt.value;
    if (i.version === 2 && v !== Math.round(v)) {
      const r = Math.max(1, Math.round(v));
      sink.warn('semantic', c.advertInt.at, `vrrp_instance ${name}: VRRPv2 advert_int ${v} is not whole seconds - using ${r} (as keepalived)`, 'advert_int');
      v = r;
    } else if (i.version === 3 && v >= 40.96) {
      sink.warn('semantic', c.advertInt.at, `vrrp_instance ${name}: VRRPv3 advert_int ${v} is above 40.95 s - using 40.95 (as keepalived)`, 'advert_int');
      v = 40.95;
    } else if (i.version === 3 && Math.abs(v * 100 - Math.round(v * 100)) > 1e-9) {
      const r = Math.max(0.01, Math.round(v * 100) / 100);
      sink.warn('semantic', c.advertInt.at, `vrrp_instance ${name}: VRRPv3 advert_int ${v} is not whole centiseconds - using ${r}`, 'advert_int');
      v = r;
    }
    i.advertInt = v;
  }
  if (i.priority === 255 && i.nopreempt) {
    sink.warn('semantic', where, `vrrp_instance ${name}: nopreempt is incompatible with priority 255 - nopreempt cleared (as keepalived)`, 'nopreempt');
    i.nopreempt = false;
  }
  if (i.state === 'MASTER' && i.nopreempt) {
    sink.warn('semantic', where, `vrrp_instance ${name}: nopreempt does not work with state MASTER - nopreempt cleared (as keepalived)`, 'nopreempt');
    i.nopreempt = false;
  }
  if (i.preemptDelay > 0 && (i.strictMode || i.nopreempt)) {
    sink.warn('semantic', where, `vrrp_instance ${name}: preempt_delay is incompatible with ${i.strictMode ? 'strict mode' : 'nopreempt'} - reset to 0 (as keepalived)`, 'preempt_delay');
    i.preemptDelay = 0;
  }
  if (i.downTimerAdverts !== 3 && i.strictMode) {
    sink.warn('semantic', where, `vrrp_instance ${name}: down_timer_adverts is incompatible with strict mode - using 3 (as keepalived)`, 'down_timer_adverts');
    i.downTimerAdverts = 3;
  }
  i.accept = c.accept ?? (i.priority === 255 ? true : !i.strictMode);
  if (i.accept && i.priority !== 255 && i.strictMode && i.version === 2) {
    sink.warn('semantic', where, `vrrp_instance ${name}: accept mode with VRRPv2 does not comply with RFC 3768 in strict mode - cleared (as keepalived)`, 'accept');
    i.accept = false;
  }
  i.garpLowerPrioRepeat = c.garpLowerPrioRepeat ?? (i.strictMode ? 0 : g.vrrpGarpLowerPrioRepeat);
  i.garpLowerPrioDelay = c.garpLowerPrioDelay ?? (i.strictMode ? 0 : g.vrrpGarpLowerPrioDelay);
  i.lowerPrioNoAdvert = c.lowerPrioNoAdvert ?? (i.strictMode ? true : g.vrrpLowerPrioNoAdvert);
  i.higherPrioSendAdvert = c.higherPrioSendAdvert ?? (i.strictMode ? false : g.vrrpHigherPrioSendAdvert);
  if (i.family === 'inet6' && i.unicastPeers.length === 0 && i.virtualIpaddresses[0] && !/^fe[89ab]/i.test(i.virtualIpaddresses[0].address)) {
    const msg = `vrrp_instance ${name}: the first IPv6 virtual_ipaddress should be link-local (fe80::/10)`;
    if (i.strictMode) sink.error('invalid-value', i.virtualIpaddresses[0].loc, msg, 'virtual_ipaddress');
    else sink.note('semantic', i.virtualIpaddresses[0].loc, msg, 'virtual_ipaddress');
  }
  b.config.vrrpInstances.push(i);
  b.names.vrrpInstances.add(i.name);
}

// =========================================================================================
// vrrp_sync_group

const SYNCGROUP: Table<VrrpSyncGroup> = {
  group: {
    block: 'required',
    fn: (n, g) => {
      for (const e of n.children ?? []) g.group.push(e.keyword, ...e.args.map((a) => a.text));
    },
  },
  track_script: {
    block: 'required',
    fn: (n, g, b) => {
      const refs = trackEntries(n, b, -253, 253);
      for (const r of refs) b.markScriptUsed(r.name);
      g.trackScripts.push(...refs);
    },
  },
  track_interface: { block: 'required', fn: (n, g, b) => void g.trackInterfaces.push(...trackEntries(n, b, -254, 254)) },
  track_file: { block: 'required', fn: (n, g, b) => void g.trackFiles.push(...trackEntries(n, b, -254, 254)) },
  notify_master: notifySpec('master'),
  notify_backup: notifySpec('backup'),
  notify_fault: notifySpec('fault'),
  notify_stop: notifySpec('stop'),
  notify: notifySpec('any'),
  smtp_alert: { status: 'ignored', note: IGNORED_NOTE.email, fn: (n, _g, b) => b.noteIgnored(n, IGNORED_NOTE.email) },
  global_tracking: {
    status: 'deprecated',
    note: 'use track_* on the sync group',
    fn: (n, g, b) => {
      b.sink.note('deprecated', n, 'global_tracking is deprecated: use track_interface/track_script/track_file on the sync group', n.keyword);
      g.syncGroupTrackingWeight = true;
    },
  },
  sync_group_tracking_weight: { fn: (n, g, b) => void ((g.syncGroupTrackingWeight = true), b.v.maxArgs(n, 0)) },
  notify_priority_changes: {
    fn: (n, g, b) => {
      const v = b.v.bool(n);
      if (v !== undefined) g.notifyPriorityChanges = v;
    },
  },
};

function buildSyncGroup(n: ConfigNode, b: Builder): void {
  const name = blockName(n, b, 'a vrrp_sync_group');
  if (name === undefined) return;
  const g: VrrpSyncGroup = {
    name,
    group: [],
    trackScripts: [],
    trackInterfaces: [],
    trackFiles: [],
    notify: {},
    notifyPriorityChanges: b.config.global.vrrpNotifyPriorityChanges,
    syncGroupTrackingWeight: false,
    loc: locOf(n),
  };
  b.walk(n.children, SYNCGROUP, g, 'vrrp_sync_group', `vrrp_sync_group ${name}`);
  if (g.group.length === 0) {
    b.sink.error('missing-argument', n.close ?? n, `vrrp_sync_group ${name}: expected a 'group { INSTANCE... }' block`, 'group');
    return;
  }
  if (g.group.length === 1) {
    b.sink.warn('semantic', n, `vrrp_sync_group ${name} has only one instance (${g.group[0]}): a sync group needs two or more to do anything`);
  }
  b.config.vrrpSyncGroups.push(g);
}

// =========================================================================================
// virtual_server_group

function parseVsgEntry(e: ConfigNode, b: Builder, gname: string): VirtualServerGroupEntry | undefined {
  const loc = locOf(e);
  const owner = `virtual_server_group ${gname}`;
  if (e.keyword === 'fwmark') {
    const v = b.v.int({ ...e, keyword: `${owner} fwmark` }, 0, 0, 2 ** 32 - 1, 'a firewall mark');
    if (v === undefined) return undefined;
    const entry: VirtualServerGroupEntry = { kind: 'fwmark', fwmark: v, loc };
    const fam = e.args[1];
    if (fam) {
      if (fam.text !== 'inet' && fam.text !== 'inet6') {
        b.sink.error('invalid-value', fam, `${owner}: fwmark family must be inet or inet6, got '${fam.text}'`, 'fwmark');
        return undefined;
      }
      entry.family = fam.text;
    }
    return entry;
  }
  const text = e.keyword;
  const port = b.v.port({ ...e, keyword: owner }, e.args[0]);
  if (port === undefined) return undefined;
  const slash = text.indexOf('/');
  let start: string;
  let end: string;
  let family: Family | undefined;
  if (slash >= 0) {
    start = text.slice(0, slash);
    family = familyOf(start);
    const bits = Number(text.slice(slash + 1));
    const max = family === 'inet6' ? 128 : 32;
    if (!family || !/^\d+$/.test(text.slice(slash + 1)) || bits < 1 || bits > max) {
      b.sink.error('invalid-value', e, `${owner}: expected ADDRESS/PREFIX, got '${text}'`, 'virtual_server_group');
      return undefined;
    }
    const r = prefixRange(start, family, bits);
    if (!r) {
      b.sink.error('invalid-value', e, `${owner}: '${text}' has host bits set`, 'virtual_server_group');
      return undefined;
    }
    end = r;
  } else {
    const dash = text.lastIndexOf('-');
    start = dash > 0 ? text.slice(0, dash) : text;
    family = familyOf(start);
    if (!family) {
      b.sink.error('invalid-value', e, `${owner}: expected an address, ADDRESS-LAST or ADDRESS/PREFIX, got '${text}'`, 'virtual_server_group');
      return undefined;
    }
    end = start;
    if (dash > 0) {
      const last = text.slice(dash + 1);
      const full = familyOf(last) === family ? last : rangeEnd(start, family, last);
      if (!full || compareAddr(full, start, family) < 0) {
        b.sink.error('invalid-value', e, `${owner}: range end '${last}' is not after ${start}`, 'virtual_server_group');
        return undefined;
      }
      end = full;
    }
  }
  return { kind: 'address', address: start, addressEnd: end, family, port, loc };
}

function v4ToInt(a: string): number {
  return a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}
function intToV4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
function v6ToBig(a: string): bigint {
  const [head, tail] = a.includes('::') ? (a.split('::') as [string, string]) : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}
function bigToV6(n: bigint): string {
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return parts.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}
function rangeEnd(start: string, family: Family, last: string): string | undefined {
  if (family === 'inet') {
    if (!/^\d+$/.test(last) || Number(last) > 255) return undefined;
    return start.replace(/\d+$/, String(Number(last)));
  }
  if (!/^[0-9a-fA-F]{1,4}$/.test(last)) return undefined;
  const base = v6ToBig(start) & ~0xffffn;
  return bigToV6(base | BigInt(parseInt(last, 16)));
}
function compareAddr(a: string, b: string, family: Family): number {
  if (family === 'inet') return v4ToInt(a) - v4ToInt(b);
  const x = v6ToBig(a);
  const y = v6ToBig(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
function prefixRange(start: string, family: Family, bits: number): string | undefined {
  if (family === 'inet') {
    const host = 2 ** (32 - bits) - 1;
    const v = v4ToInt(start);
    if (v % (host + 1) !== 0) return undefined;
    return intToV4(v + host);
  }
  const host = (1n << BigInt(128 - bits)) - 1n;
  const v = v6ToBig(start);
  if ((v & host) !== 0n) return undefined;
  return bigToV6(v | host);
}

function buildVsGroup(n: ConfigNode, b: Builder): void {
  const name = blockName(n, b, 'a virtual_server_group');
  if (name === undefined) return;
  const g: VirtualServerGroup = { name, entries: [], loc: locOf(n) };
  for (const e of n.children ?? []) {
    const entry = parseVsgEntry(e, b, name);
    if (entry) g.entries.push(entry);
  }
  if (g.entries.length === 0) {
    b.sink.warn('semantic', n, `virtual_server_group ${name} has no entries - ignored (as keepalived)`);
    return;
  }
  if (b.names.virtualServerGroups.has(name)) {
    b.sink.error('duplicate', n, `virtual_server_group ${name} is already defined`, n.keyword);
    return;
  }
  b.config.virtualServerGroups.push(g);
  b.names.virtualServerGroups.add(g.name);
}

// =========================================================================================
// virtual_server, real_server, checkers

const SCHEDULERS: readonly Scheduler[] = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'sh', 'mh', 'dh', 'fo', 'ovf', 'lblcr', 'sed', 'nq', 'twos'];
const UNSET = -1;

/** A virtual server while its block is read: unset values are -1 / undefined until `finishVs`. */
interface VsCtx {
  vs: VirtualServer;
  lbKindSet: boolean;
  tunnelSet: boolean;
  schedSet: boolean;
  protocolSet: boolean;
  /** Inheritable checker settings (-1 = unset). */
  retry: number;
  delayBeforeRetry: number;
  warmup: number;
  weight: number;
  rs: RsCtx[];
  sorryNode?: ConfigNode;
}

interface RsCtx {
  rs: RealServer;
  node: ConfigNode;
  lbKindSet: boolean;
  weightSet: boolean;
  inhibit?: boolean;
  alpha?: boolean;
  retry: number;
  delayBeforeRetry: number;
  warmup: number;
  delayLoop: number;
  connectTimeout: number;
  checkers: PendingChecker[];
}

interface PendingChecker {
  checker: Checker;
  /** Raw values (-1 = unset) resolved against the real server and virtual server at the end. */
  retry: number;
  delayBeforeRetry: number;
  warmup: number;
  delayLoop: number;
  connectTimeout: number;
  alpha?: boolean;
  /** Per-type defaults. */
  defaultRetry: number;
  /** 0 = the delay_loop (DNS_CHECK). */
  defaultDelayBeforeRetry: number;
  connectIpSet: boolean;
  connectPortSet: boolean;
}

function parseTunnel(n: ConfigNode, b: Builder, from: number): Tunnel | undefined | null {
  const t: Tunnel = { type: 'ipip', csum: 'nocsum' };
  let portSet = false;
  for (let i = from; i < n.args.length; i++) {
    const a = n.args[i]!;
    if (a.text === 'type') {
      const v = n.args[i + 1];
      if (!v || !['ipip', 'gue', 'gre'].includes(v.text)) {
        b.sink.error('invalid-value', v ?? afterLast(n), `${n.keyword}: expected a tunnel type (ipip, gue, gre)${v ? `, got '${v.text}'` : ''}`, n.keyword);
        return null;
      }
      t.type = v.text as Tunnel['type'];
      i++;
    } else if (a.text === 'port') {
      const v = n.args[i + 1];
      const p = v ? b.v.intOf(n, v, 1, 65535, 'a port') : undefined;
      if (p === undefined) {
        if (!v) b.sink.error('missing-argument', afterLast(n), `${n.keyword}: expected a port after 'port'`, n.keyword);
        return null;
      }
      t.port = p;
      portSet = true;
      i++;
    } else if (a.text === 'nocsum' || a.text === 'csum' || a.text === 'remcsum') {
      t.csum = a.text;
    } else {
      b.sink.error('invalid-value', a, `${n.keyword}: unknown tunnel option '${a.text}' (expected type, port, nocsum, csum, remcsum)`, n.keyword);
      return null;
    }
  }
  if ((t.type === 'gue') !== portSet) {
    b.sink.error('invalid-value', n, `${n.keyword}: gue tunnels need 'port N', and other tunnels cannot have one`, n.keyword);
    return null;
  }
  if (t.type === 'ipip' && t.csum !== 'nocsum') {
    b.sink.error('invalid-value', n, `${n.keyword}: ipip tunnels have no checksum option`, n.keyword);
    return null;
  }
  if (t.type === 'gre' && t.csum === 'remcsum') {
    b.sink.error('invalid-value', n, `${n.keyword}: gre tunnels have no remote checksum option`, n.keyword);
    return null;
  }
  return from < n.args.length ? t : undefined;
}

function forwarding(n: ConfigNode, b: Builder): { kind: LbKind; tunnel?: Tunnel } | undefined {
  const kind = b.v.oneOf(n, 0, ['NAT', 'DR', 'TUN'] as const, 'a forwarding method');
  if (!kind) return undefined;
  if (kind !== 'TUN') {
    b.v.maxArgs(n, 1);
    return { kind };
  }
  const t = parseTunnel(n, b, 1);
  if (t === null) return undefined;
  return t ? { kind, tunnel: t } : { kind, tunnel: { type: 'ipip', csum: 'nocsum' } };
}

const vsFlag = (key: 'ops' | 'shPort' | 'shFallback' | 'mhPort' | 'mhFallback' | 'flag1' | 'flag2' | 'flag3', needs?: Scheduler): Spec<VsCtx> => ({
  fn: (n, c, b) => {
    b.v.maxArgs(n, 0);
    if (needs && c.vs.lbAlgo !== needs) {
      b.sink.warn('semantic', n, `${n.keyword} only applies to the ${needs} scheduler (set lb_algo ${needs} before it) - ignored (as keepalived)`, n.keyword);
      return;
    }
    c.vs[key] = true;
  },
});

const VS: Table<VsCtx> = {
  ip_family: {
    fn: (n, c, b) => {
      const f = b.v.oneOf(n, 0, ['inet', 'inet6'] as const, 'an address family');
      if (!f) return;
      if (c.vs.kind === 'address' && f !== c.vs.family) {
        b.sink.error('invalid-value', n.args[0]!, `ip_family ${f} conflicts with the virtual server's address ${c.vs.address}`, n.keyword);
        return;
      }
      c.vs.family = f;
    },
  },
  delay_loop: { fn: (n, c, b) => void ((c.vs.delayLoop = b.v.seconds(n, 0, 0.000001) ?? c.vs.delayLoop), b.v.maxArgs(n, 1)) },
  lb_algo: {
    fn: (n, c, b) => {
      const s = b.v.oneOf(n, 0, SCHEDULERS, 'a scheduler');
      if (s) {
        c.vs.lbAlgo = s;
        c.schedSet = true;
      }
      b.v.maxArgs(n, 1);
    },
  },
  lvs_sched: { status: 'supported', note: 'synonym of lb_algo', fn: (n, c, b) => VS.lb_algo!.fn(n, c, b) },
  hashed: { status: 'ignored', note: 'no effect in keepalived either', fn: (n, _c, b) => b.noteIgnored(n, 'has no effect (keepalived ignores it too)') },
  ops: vsFlag('ops'),
  'flag-1': vsFlag('flag1'),
  'flag-2': vsFlag('flag2'),
  'flag-3': vsFlag('flag3'),
  'sh-port': vsFlag('shPort', 'sh'),
  'sh-fallback': vsFlag('shFallback', 'sh'),
  'mh-port': vsFlag('mhPort', 'mh'),
  'mh-fallback': vsFlag('mhFallback', 'mh'),
  lb_kind: {
    fn: (n, c, b) => {
      const f = forwarding(n, b);
      if (!f) return;
      c.vs.lbKind = f.kind;
      c.lbKindSet = true;
      if (f.tunnel) c.vs.tunnel = f.tunnel;
      else delete c.vs.tunnel;
    },
  },
  lvs_method: { status: 'supported', note: 'synonym of lb_kind', fn: (n, c, b) => VS.lb_kind!.fn(n, c, b) },
  persistence_engine: { fn: (n, c, b) => void ((c.vs.persistenceEngine = b.v.str(n, 'a persistence engine name') ?? c.vs.persistenceEngine), b.v.maxArgs(n, 1)) },
  persistence_timeout: {
    fn: (n, c, b) => {
      if (n.args.length === 0) c.vs.persistenceTimeout = 360;
      else {
        const v = b.v.int(n, 0, 1, 86400 * 31, 'seconds');
        if (v !== undefined) c.vs.persistenceTimeout = v;
      }
      b.v.maxArgs(n, 1);
    },
  },
  persistence_granularity: {
    fn: (n, c, b) => {
      const t = b.v.word(n, 0, 'a netmask (IPv4) or prefix length (IPv6)');
      if (!t) return;
      const fam = c.vs.kind === 'address' ? c.vs.family : t.text.includes('.') ? 'inet' : 'inet6';
      if (fam === 'inet6') {
        const v = b.v.intOf(n, t, 1, 128, 'an IPv6 prefix length');
        if (v === undefined) return;
        c.vs.persistenceGranularity = String(v);
      } else {
        if (familyOf(t.text) !== 'inet') {
          b.sink.error('invalid-value', t, `persistence_granularity: expected an IPv4 netmask, got '${t.text}'`, n.keyword);
          return;
        }
        c.vs.persistenceGranularity = t.text;
      }
      if (c.vs.persistenceTimeout === 0) c.vs.persistenceTimeout = 360;
      b.v.maxArgs(n, 1);
    },
  },
  protocol: {
    fn: (n, c, b) => {
      const p = b.v.oneOf(n, 0, ['TCP', 'UDP', 'SCTP'] as const, 'a protocol', true);
      if (p) {
        c.vs.protocol = p;
        c.protocolSet = true;
      }
      b.v.maxArgs(n, 1);
    },
  },
  ha_suspend: { fn: (n, c, b) => void ((c.vs.haSuspend = true), b.v.maxArgs(n, 0)) },
  virtualhost: { fn: (n, c, b) => void ((c.vs.virtualhost = b.v.str(n, 'a host name') ?? c.vs.virtualhost), b.v.maxArgs(n, 1)) },
  alpha: { fn: (n, c, b) => void ((c.vs.alpha = true), b.v.maxArgs(n, 0)) },
  omega: { fn: (n, c, b) => void ((c.vs.omega = true), b.v.maxArgs(n, 0)) },
  quorum_up: {
    fn: (n, c, b) => {
      if (c.vs.quorumUp) return void b.sink.error('duplicate', n, 'quorum_up is already set', n.keyword);
      const s = b.v.script(n);
      if (s) c.vs.quorumUp = s;
    },
  },
  quorum_down: {
    fn: (n, c, b) => {
      if (c.vs.quorumDown) return void b.sink.error('duplicate', n, 'quorum_down is already set', n.keyword);
      const s = b.v.script(n);
      if (s) c.vs.quorumDown = s;
    },
  },
  quorum: { fn: (n, c, b) => void ((c.vs.quorum = b.v.int(n, 0, 1, 2 ** 32 - 1, 'a total weight') ?? c.vs.quorum), b.v.maxArgs(n, 1)) },
  hysteresis: { fn: (n, c, b) => void ((c.vs.hysteresis = b.v.int(n, 0, 0, 2 ** 32 - 1, 'a weight') ?? c.vs.hysteresis), b.v.maxArgs(n, 1)) },
  weight: { fn: (n, c, b) => void ((c.weight = b.v.int(n, 0, 1, 2 ** 31 - 1, 'a weight') ?? c.weight), b.v.maxArgs(n, 1)) },
  inhibit_on_failure: { fn: (n, c, b) => void ((c.vs.inhibitOnFailure = true), b.v.maxArgs(n, 0)) },
  retry: { fn: (n, c, b) => void ((c.retry = b.v.int(n, 0, 1, 2 ** 32 - 1, 'a count') ?? c.retry), b.v.maxArgs(n, 1)) },
  delay_before_retry: { fn: (n, c, b) => void ((c.delayBeforeRetry = b.v.seconds(n, 0) ?? c.delayBeforeRetry), b.v.maxArgs(n, 1)) },
  warmup: { fn: (n, c, b) => void ((c.warmup = b.v.seconds(n, 0) ?? c.warmup), b.v.maxArgs(n, 1)) },
  connect_timeout: { fn: (n, c, b) => void ((c.vs.connectTimeout = b.v.seconds(n, 0, 0.000001) ?? c.vs.connectTimeout), b.v.maxArgs(n, 1)) },
  smtp_alert: { status: 'ignored', note: IGNORED_NOTE.email, fn: (n, _c, b) => b.noteIgnored(n, IGNORED_NOTE.email) },
  sorry_server: {
    fn: (n, c, b) => {
      const ip = b.v.ip(n, b.v.word(n, 0, 'an IP address'));
      const port = b.v.port(n, n.args[1]);
      if (!ip || port === undefined) return;
      b.v.maxArgs(n, 2);
      c.vs.sorryServer = { address: ip.address, port, lbKind: c.vs.lbKind, inhibit: false, loc: locOf(n) };
      if (c.vs.tunnel) c.vs.sorryServer.tunnel = c.vs.tunnel;
      c.sorryNode = n;
      (c.vs.sorryServer as SorryServer & { kindSet?: boolean }).kindSet = false;
    },
  },
  sorry_server_inhibit: {
    fn: (n, c, b) => {
      if (!c.vs.sorryServer) return void b.sink.warn('semantic', n, 'sorry_server_inhibit before or without sorry_server - ignored (as keepalived)', n.keyword);
      c.vs.sorryServer.inhibit = true;
    },
  },
  sorry_server_lvs_method: {
    fn: (n, c, b) => {
      if (!c.vs.sorryServer) return void b.sink.warn('semantic', n, 'sorry_server_lvs_method before or without sorry_server - ignored (as keepalived)', n.keyword);
      const f = forwarding(n, b);
      if (!f) return;
      c.vs.sorryServer.lbKind = f.kind;
      if (f.tunnel) c.vs.sorryServer.tunnel = f.tunnel;
      else delete c.vs.sorryServer.tunnel;
      (c.vs.sorryServer as SorryServer & { kindSet?: boolean }).kindSet = true;
    },
  },
  real_server: { block: 'required', fn: (n, c, b) => buildRealServer(n, c, b) },
};

const RS: Table<RsCtx> = {
  weight: {
    fn: (n, c, b) => {
      const v = b.v.int(n, 0, 0, 2 ** 31 - 1, 'a weight');
      if (v !== undefined) {
        c.rs.weight = v;
        c.weightSet = true;
      }
      b.v.maxArgs(n, 1);
    },
  },
  lvs_method: {
    fn: (n, c, b) => {
      const f = forwarding(n, b);
      if (!f) return;
      c.rs.lbKind = f.kind;
      c.lbKindSet = true;
      if (f.tunnel) c.rs.tunnel = f.tunnel;
      else delete c.rs.tunnel;
    },
  },
  uthreshold: { fn: (n, c, b) => void ((c.rs.uthreshold = b.v.int(n, 0, 0, 2 ** 32 - 1, 'a connection count') ?? c.rs.uthreshold), b.v.maxArgs(n, 1)) },
  lthreshold: { fn: (n, c, b) => void ((c.rs.lthreshold = b.v.int(n, 0, 0, 2 ** 32 - 1, 'a connection count') ?? c.rs.lthreshold), b.v.maxArgs(n, 1)) },
  inhibit_on_failure: { fn: (n, c, b) => void ((c.inhibit = b.v.bool(n) ?? c.inhibit), b.v.maxArgs(n, 1)) },
  alpha: { fn: (n, c, b) => void ((c.alpha = b.v.bool(n) ?? c.alpha), b.v.maxArgs(n, 1)) },
  notify_up: {
    fn: (n, c, b) => {
      if (c.rs.notifyUp) return void b.sink.error('duplicate', n, 'notify_up is already set', n.keyword);
      const s = b.v.script(n);
      if (s) c.rs.notifyUp = s;
    },
  },
  notify_down: {
    fn: (n, c, b) => {
      if (c.rs.notifyDown) return void b.sink.error('duplicate', n, 'notify_down is already set', n.keyword);
      const s = b.v.script(n);
      if (s) c.rs.notifyDown = s;
    },
  },
  retry: { fn: (n, c, b) => void ((c.retry = b.v.int(n, 0, 1, 2 ** 32 - 1, 'a count') ?? c.retry), b.v.maxArgs(n, 1)) },
  delay_before_retry: { fn: (n, c, b) => void ((c.delayBeforeRetry = b.v.seconds(n, 0) ?? c.delayBeforeRetry), b.v.maxArgs(n, 1)) },
  warmup: { fn: (n, c, b) => void ((c.warmup = b.v.seconds(n, 0) ?? c.warmup), b.v.maxArgs(n, 1)) },
  connect_timeout: { fn: (n, c, b) => void ((c.connectTimeout = b.v.seconds(n, 0, 0.000001) ?? c.connectTimeout), b.v.maxArgs(n, 1)) },
  delay_loop: { fn: (n, c, b) => void ((c.delayLoop = b.v.seconds(n, 0, 0.000001) ?? c.delayLoop), b.v.maxArgs(n, 1)) },
  smtp_alert: { status: 'ignored', note: IGNORED_NOTE.email, fn: (n, _c, b) => b.noteIgnored(n, IGNORED_NOTE.email) },
  virtualhost: { fn: (n, c, b) => void ((c.rs.virtualhost = b.v.str(n, 'a host name') ?? c.rs.virtualhost), b.v.maxArgs(n, 1)) },
  TCP_CHECK: { block: 'optional', fn: (n, c, b) => buildChecker(n, c, b, 'TCP_CHECK') },
  HTTP_GET: { block: 'required', fn: (n, c, b) => buildChecker(n, c, b, 'HTTP_GET') },
  SSL_GET: { block: 'required', fn: (n, c, b) => buildChecker(n, c, b, 'SSL_GET') },
  PING_CHECK: { block: 'optional', fn: (n, c, b) => buildChecker(n, c, b, 'PING_CHECK') },
  UDP_CHECK: { block: 'optional', fn: (n, c, b) => buildChecker(n, c, b, 'UDP_CHECK') },
  DNS_CHECK: { block: 'optional', fn: (n, c, b) => buildChecker(n, c, b, 'DNS_CHECK') },
  SMTP_CHECK: { block: 'optional', fn: (n, c, b) => buildChecker(n, c, b, 'SMTP_CHECK') },
  MISC_CHECK: { block: 'required', fn: (n, c, b) => buildChecker(n, c, b, 'MISC_CHECK') },
  FILE_CHECK: { block: 'required', fn: (n, c, b) => buildChecker(n, c, b, 'FILE_CHECK') },
};

function buildVirtualServer(n: ConfigNode, b: Builder): void {
  const first = b.v.word(n, 0, 'an IP address, fwmark N or group NAME');
  if (!first) return;
  const vs: VirtualServer = {
    kind: 'address',
    family: 'inet',
    lbAlgo: 'wlc',
    lbKind: 'NAT',
    persistenceTimeout: 0,
    ops: false,
    shPort: false,
    shFallback: false,
    mhPort: false,
    mhFallback: false,
    flag1: false,
    flag2: false,
    flag3: false,
    delayLoop: 60,
    connectTimeout: 5,
    quorum: 1,
    hysteresis: 0,
    alpha: false,
    omega: false,
    inhibitOnFailure: false,
    haSuspend: false,
    realServers: [],
    loc: locOf(n),
  };
  let title: string;
  if (first.text === 'group') {
    const g = b.v.str(n, 'a virtual_server_group name', 1);
    if (g === undefined) return;
    vs.kind = 'group';
    vs.group = g;
    title = `virtual_server group ${g}`;
    b.v.maxArgs(n, 2);
  } else if (first.text === 'fwmark') {
    const m = b.v.int(n, 1, 0, 2 ** 32 - 1, 'a firewall mark');
    if (m === undefined) return;
    vs.kind = 'fwmark';
    vs.fwmark = m;
    title = `virtual_server fwmark ${m}`;
    b.v.maxArgs(n, 2);
  } else {
    const ip = b.v.ip(n, first, "an IP address, 'fwmark N' or 'group NAME'");
    const port = b.v.port(n, n.args[1]);
    if (!ip || port === undefined) return;
    vs.address = ip.address;
    vs.family = ip.family;
    vs.port = port;
    title = `virtual_server ${ip.address} ${port}`;
    b.v.maxArgs(n, 2);
  }
  const c: VsCtx = {
    vs,
    lbKindSet: false,
    tunnelSet: false,
    schedSet: false,
    protocolSet: false,
    retry: UNSET,
    delayBeforeRetry: UNSET,
    warmup: UNSET,
    weight: 1,
    rs: [],
  };
  b.walk(n.children, VS, c, 'virtual_server', title);
  finishVs(n, c, b, title);
}

function finishVs(n: ConfigNode, c: VsCtx, b: Builder, title: string): void {
  const { vs } = c;
  const sink = b.sink;
  const where = n.close ?? n;
  if (c.rs.length === 0) {
    sink.warn('semantic', n, `${title} has no real_server - ignored (as keepalived)`, 'real_server');
    return;
  }
  if (vs.haSuspend && vs.kind === 'fwmark') {
    sink.warn('semantic', n, `${title}: ha_suspend cannot be used with a fwmark - cleared (as keepalived)`, 'ha_suspend');
    vs.haSuspend = false;
  }
  const byAddress = vs.kind === 'address' || vs.kind === 'group';
  if (byAddress) {
    if (!vs.protocol) {
      sink.warn('semantic', where, `${title}: no protocol set - using UDP, as keepalived does (write 'protocol TCP' if you meant TCP)`, 'protocol');
      vs.protocol = 'UDP';
    }
    if (vs.ops && vs.protocol !== 'UDP') {
      sink.warn('semantic', where, `${title}: ops (one-packet scheduling) needs UDP - cleared (as keepalived)`, 'ops');
      vs.ops = false;
    }
    if (vs.kind === 'address' && vs.persistenceTimeout === 0 && vs.port === 0) {
      sink.warn('semantic', where, `${title}: port 0 is only valid for persistent services - persistence_timeout 360 set (as keepalived)`, 'persistence_timeout');
      vs.persistenceTimeout = 360;
    }
  }
  if (vs.kind === 'fwmark' && c.protocolSet) {
    sink.warn('semantic', where, `${title}: protocol is ignored for a fwmark service (as keepalived)`, 'protocol');
    delete vs.protocol;
  }
  if (!c.schedSet) sink.note('semantic', where, `${title}: no lb_algo set - using wlc (as keepalived)`, 'lb_algo');
  if (!c.lbKindSet) {
    const needs = c.rs.some((r) => !r.lbKindSet) || (vs.sorryServer && !(vs.sorryServer as { kindSet?: boolean }).kindSet);
    if (needs) sink.note('semantic', where, `${title}: no lb_kind set - using NAT (as keepalived)`, 'lb_kind');
  }
  if (vs.sorryServer) {
    const s = vs.sorryServer as SorryServer & { kindSet?: boolean };
    if (!s.kindSet) {
      s.lbKind = vs.lbKind;
      if (vs.tunnel) s.tunnel = vs.tunnel;
      else delete s.tunnel;
    }
    delete s.kindSet;
    if (s.lbKind !== 'TUN' && familyOf(s.address) !== vs.family && vs.kind === 'address') {
      sink.warn('semantic', s.loc, `${title}: sorry_server ${s.address} is not of the virtual server's address family - ignored (as keepalived)`, 'sorry_server');
      delete vs.sorryServer;
    }
  }

  let weightSum = 0;
  // "address port" of the real servers kept (an address has no space): duplicates found without a scan.
  const keptKeys = new Set<string>();
  for (const r of c.rs) {
    if (keptKeys.has(`${r.rs.address} ${r.rs.port}`)) {
      sink.warn('duplicate', r.node, `${title}: real_server ${r.rs.address} ${r.rs.port} is already defined - the second one is ignored (as keepalived)`, 'real_server');
      continue;
    }
    if (r.rs.lbKind !== 'TUN' && vs.kind === 'address' && familyOf(r.rs.address) !== vs.family) {
      sink.error('invalid-value', r.node, `${title}: real_server ${r.rs.address} is not of the virtual server's address family`, 'real_server');
      continue;
    }
    if (!r.lbKindSet) {
      r.rs.lbKind = vs.lbKind;
      if (vs.tunnel) r.rs.tunnel = vs.tunnel;
    }
    r.rs.alpha = r.alpha ?? vs.alpha;
    r.rs.inhibitOnFailure = r.inhibit ?? vs.inhibitOnFailure;
    if (!r.weightSet) r.rs.weight = c.weight;
    // Ports: NAT may differ; DR/TUN must match the virtual server's; fwmark services have none.
    if (vs.kind === 'address') {
      if (r.rs.lbKind === 'NAT') {
        if (r.rs.port === 0) r.rs.port = vs.port!;
      } else if (r.rs.port === 0) r.rs.port = vs.port!;
      else if (r.rs.port !== vs.port) {
        sink.warn('semantic', r.node, `${title}: real_server ${r.rs.address} port ${r.rs.port} must equal the virtual server's (${vs.port}) with ${r.rs.lbKind} - using ${vs.port} (as keepalived)`, 'real_server');
        r.rs.port = vs.port!;
      }
    } else if (vs.kind === 'fwmark' && r.rs.lbKind !== 'NAT' && r.rs.port !== 0) {
      sink.warn('semantic', r.node, `${title}: real_server ${r.rs.address} has a port, which a fwmark service with ${r.rs.lbKind} ignores - cleared (as keepalived)`, 'real_server');
      r.rs.port = 0;
    }
    // Checker inheritance: checker <- real server <- virtual server.
    const rsRetry = r.retry !== UNSET ? r.retry : c.retry;
    const rsDbr = r.delayBeforeRetry !== UNSET ? r.delayBeforeRetry : c.delayBeforeRetry;
    const rsWarmup = r.warmup !== UNSET ? r.warmup : c.warmup;
    const rsDelay = r.delayLoop !== UNSET ? r.delayLoop : vs.delayLoop;
    const rsTimeout = r.connectTimeout !== UNSET ? r.connectTimeout : vs.connectTimeout;
    if (r.checkers.length > 0) r.rs.checkers = [];
    for (const p of r.checkers) {
      const ch = p.checker as CheckerCommon & Partial<CheckerConnection>;
      ch.alpha = p.alpha ?? r.rs.alpha;
      ch.delayLoop = p.delayLoop !== UNSET ? p.delayLoop : rsDelay;
      ch.retry = p.retry !== UNSET ? p.retry : rsRetry !== UNSET ? rsRetry : p.defaultRetry;
      ch.warmup = p.warmup !== UNSET ? p.warmup : rsWarmup !== UNSET ? rsWarmup : ch.delayLoop;
      ch.delayBeforeRetry =
        p.delayBeforeRetry !== UNSET
          ? p.delayBeforeRetry
          : rsDbr !== UNSET
            ? rsDbr
            : p.defaultDelayBeforeRetry || ch.delayLoop;
      if ('connectTimeout' in ch) {
        if (p.connectTimeout !== UNSET) ch.connectTimeout = p.connectTimeout;
        else ch.connectTimeout = rsTimeout;
        if (!p.connectIpSet) ch.connectIp = r.rs.address;
        if (!p.connectPortSet) ch.connectPort = p.checker.type === 'SMTP_CHECK' && r.rs.port === 0 ? 25 : r.rs.port;
      }
      r.rs.checkers.push(p.checker);
      // Every real server kept here ends up in the model (pushed with its virtual server below).
      if (p.checker.type === 'FILE_CHECK') b.fileChecks.push(p.checker);
    }
    weightSum += r.rs.weight;
    if (vs.sorryServer && vs.sorryServer.address === r.rs.address && vs.sorryServer.port === r.rs.port && vs.sorryServer.inhibit !== r.rs.inhibitOnFailure) {
      sink.warn('semantic', vs.sorryServer.loc, `${title}: the sorry_server is also a real_server with a different inhibit_on_failure - using the real server's (as keepalived)`, 'sorry_server');
      vs.sorryServer.inhibit = r.rs.inhibitOnFailure;
    }
    keptKeys.add(`${r.rs.address} ${r.rs.port}`);
    vs.realServers.push(r.rs);
  }
  if (vs.sorryServer && vs.kind === 'address' && vs.sorryServer.lbKind !== 'NAT') {
    if (vs.sorryServer.port === 0) vs.sorryServer.port = vs.port!;
    else if (vs.sorryServer.port !== vs.port) {
      sink.warn('semantic', vs.sorryServer.loc, `${title}: sorry_server port ${vs.sorryServer.port} must equal the virtual server's (${vs.port}) with ${vs.sorryServer.lbKind} - using ${vs.port} (as keepalived)`, 'sorry_server');
      vs.sorryServer.port = vs.port!;
    }
  } else if (vs.sorryServer && vs.kind === 'address' && vs.sorryServer.port === 0) {
    vs.sorryServer.port = vs.port!;
  } else if (vs.sorryServer && vs.kind === 'fwmark' && vs.sorryServer.lbKind !== 'NAT' && vs.sorryServer.port !== 0) {
    sink.warn('semantic', vs.sorryServer.loc, `${title}: sorry_server has a port, which a fwmark service ignores - cleared (as keepalived)`, 'sorry_server');
    vs.sorryServer.port = 0;
  }
  if (vs.realServers.length === 0) return;
  if (vs.quorum > weightSum) {
    sink.warn('semantic', where, `${title}: quorum ${vs.quorum} exceeds the total weight of the real servers (${weightSum}) - using ${weightSum} (as keepalived)`, 'quorum');
    vs.quorum = weightSum;
  }
  if (vs.hysteresis >= vs.quorum && vs.hysteresis > 0) {
    sink.warn('semantic', where, `${title}: hysteresis ${vs.hysteresis} >= quorum ${vs.quorum} - using ${Math.max(0, vs.quorum - 1)} (as keepalived)`, 'hysteresis');
    vs.hysteresis = Math.max(0, vs.quorum - 1);
  }
  b.config.virtualServers.push(vs);
}

/**
 * Most real servers have no checker: they share these empty lists instead of holding two
 * arrays each (55,000 real servers: 1.8 MB less kept, and new memory is what a start of a
 * large configuration pays for). Frozen, so a stray push fails loudly.
 */
const NO_CHECKERS = Object.freeze([]) as unknown as Checker[];
const NO_PENDING = Object.freeze([]) as unknown as PendingChecker[];

function buildRealServer(n: ConfigNode, c: VsCtx, b: Builder): void {
  const ip = b.v.ip(n, b.v.word(n, 0, 'an IP address'));
  const port = b.v.port(n, n.args[1]);
  if (!ip || port === undefined) return;
  b.v.maxArgs(n, 2);
  const r: RsCtx = {
    node: n,
    rs: {
      address: ip.address,
      port,
      weight: 1,
      lbKind: c.vs.lbKind,
      uthreshold: 0,
      lthreshold: 0,
      inhibitOnFailure: false,
      alpha: false,
      checkers: NO_CHECKERS,
      loc: locOf(n),
    },
    lbKindSet: c.lbKindSet,
    weightSet: false,
    retry: UNSET,
    delayBeforeRetry: UNSET,
    warmup: UNSET,
    delayLoop: UNSET,
    connectTimeout: UNSET,
    checkers: NO_PENDING,
  };
  if (c.vs.tunnel && c.lbKindSet) r.rs.tunnel = c.vs.tunnel;
  b.walk(n.children, RS, r, 'real_server', `real_server ${ip.address} ${port}`);
  c.rs.push(r);
}

// ---- checkers ----------------------------------------------------------------------------

const CONNECTION: Table<PendingChecker> = {
  connect_ip: {
    fn: (n, p, b) => {
      const ip = b.v.ip(n, b.v.word(n, 0, 'an IP address'));
      if (ip) {
        (p.checker as CheckerConnection).connectIp = ip.address;
        p.connectIpSet = true;
      }
      b.v.maxArgs(n, 1);
    },
  },
  connect_port: {
    fn: (n, p, b) => {
      const v = b.v.int(n, 0, 1, 65535, 'a port');
      if (v !== undefined) {
        (p.checker as CheckerConnection).connectPort = v;
        p.connectPortSet = true;
      }
      b.v.maxArgs(n, 1);
    },
  },
  bindto: {
    fn: (n, p, b) => {
      const ip = b.v.ip(n, b.v.word(n, 0, 'an IP address'));
      if (ip) (p.checker as CheckerConnection).bindto = ip.address;
      b.v.maxArgs(n, 1);
    },
  },
  bind_port: {
    fn: (n, p, b) => {
      const v = b.v.int(n, 0, 1, 65535, 'a port');
      if (v !== undefined) (p.checker as CheckerConnection).bindPort = v;
      b.v.maxArgs(n, 1);
    },
  },
  bind_if: {
    fn: (n, p, b) => {
      const v = b.v.str(n, 'an interface name');
      if (v !== undefined) (p.checker as CheckerConnection).bindIf = v;
      b.v.maxArgs(n, 1);
    },
  },
  connect_timeout: { fn: (n, p, b) => void ((p.connectTimeout = b.v.seconds(n, 0, 0.000001) ?? p.connectTimeout), b.v.maxArgs(n, 1)) },
  fwmark: {
    fn: (n, p, b) => {
      const v = b.v.int(n, 0, 0, 2 ** 32 - 1, 'a firewall mark');
      if (v !== undefined) (p.checker as CheckerConnection).fwmark = v;
      b.v.maxArgs(n, 1);
    },
  },
};

const COMMON: Table<PendingChecker> = {
  retry: { fn: (n, p, b) => void ((p.retry = b.v.int(n, 0, 0, 2 ** 32 - 1, 'a count') ?? p.retry), b.v.maxArgs(n, 1)) },
  delay_before_retry: { fn: (n, p, b) => void ((p.delayBeforeRetry = b.v.seconds(n, 0) ?? p.delayBeforeRetry), b.v.maxArgs(n, 1)) },
  warmup: { fn: (n, p, b) => void ((p.warmup = b.v.seconds(n, 0) ?? p.warmup), b.v.maxArgs(n, 1)) },
  delay_loop: { fn: (n, p, b) => void ((p.delayLoop = b.v.seconds(n, 0, 0.000001) ?? p.delayLoop), b.v.maxArgs(n, 1)) },
  alpha: { fn: (n, p, b) => void ((p.alpha = b.v.bool(n) ?? p.alpha), b.v.maxArgs(n, 1)) },
  log_all_failures: {
    fn: (n, p, b) => {
      const v = b.v.bool(n);
      if (v !== undefined) p.checker.logAllFailures = v;
    },
  },
};

const WITH_CONN: Table<PendingChecker> = { ...CONNECTION, ...COMMON };

type HttpChecker = Extract<Checker, { type: 'HTTP_GET' | 'SSL_GET' }>;
type UdpChecker = Extract<Checker, { type: 'UDP_CHECK' }>;
type DnsChecker = Extract<Checker, { type: 'DNS_CHECK' }>;
type MiscChecker = Extract<Checker, { type: 'MISC_CHECK' }>;
type FileChecker = Extract<Checker, { type: 'FILE_CHECK' }>;

const REGEX_OPTIONS = [
  'allow_empty_class',
  'alt_bsux',
  'auto_callout',
  'caseless',
  'dollar_endonly',
  'dotall',
  'dupnames',
  'extended',
  'firstline',
  'match_unset_backref',
  'multiline',
  'never_ucp',
  'never_utf',
  'no_auto_capture',
  'no_auto_possess',
  'no_dotstar_anchor',
  'no_start_optimize',
  'ucp',
  'ungreedy',
  'utf',
];

const URL: Table<HttpUrl> = {
  path: { fn: (n, u, b) => void ((u.path = b.v.str(n, 'a path') ?? u.path), b.v.maxArgs(n, 1)) },
  digest: {
    fn: (n, u, b) => {
      const d = b.v.str(n, 'an MD5 digest (32 hex digits)');
      if (d === undefined) return;
      if (u.digest) return void b.sink.error('duplicate', n, 'digest is already set for this url', n.keyword);
      if (!/^[0-9a-fA-F]{32}$/.test(d)) return void b.sink.error('invalid-value', n.args[0]!, `digest: expected 32 hex digits (an MD5 sum, as genhash prints), got '${d}'`, n.keyword);
      u.digest = d.toLowerCase();
      b.v.maxArgs(n, 1);
    },
  },
  status_code: {
    fn: (n, u, b) => {
      if (n.args.length === 0) b.sink.error('missing-argument', afterLast(n), 'status_code: expected HTTP status codes or ranges (200, 200-299)', n.keyword);
      for (const a of n.args) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(a.text);
        const lo = m ? Number(m[1]) : NaN;
        const hi = m ? Number(m[2] ?? m[1]) : NaN;
        if (!m || lo < 100 || hi > 599 || lo > hi) {
          b.sink.error('invalid-value', a, `status_code: expected a code or range within 100-599, got '${a.text}'`, n.keyword);
          continue;
        }
        u.statusCode.push([lo, hi]);
      }
    },
  },
  virtualhost: { fn: (n, u, b) => void ((u.virtualhost = b.v.str(n, 'a host name') ?? u.virtualhost), b.v.maxArgs(n, 1)) },
  regex: {
    fn: (n, u, b) => {
      // keepalived re-reads the line with quotes and escapes for the pattern.
      const s = b.v.script(n);
      if (!s) return;
      u.regex = s.text;
    },
  },
  regex_no_match: { fn: (n, u, b) => void ((u.regexNoMatch = true), b.v.maxArgs(n, 0)) },
  regex_options: {
    fn: (n, u, b) => {
      for (const a of n.args) {
        if (REGEX_OPTIONS.includes(a.text)) u.regexOptions.push(a.text);
        else b.sink.error('invalid-value', a, `regex_options: unknown option '${a.text}' (expected one of ${REGEX_OPTIONS.join(', ')})`, n.keyword);
      }
    },
  },
  regex_min_offset: { fn: (n, u, b) => void ((u.regexMinOffset = b.v.int(n, 0, 0, 2 ** 32 - 1, 'an offset') ?? u.regexMinOffset), b.v.maxArgs(n, 1)) },
  regex_max_offset: { fn: (n, u, b) => void ((u.regexMaxOffset = b.v.int(n, 0, 0, 2 ** 32 - 1, 'an offset') ?? u.regexMaxOffset), b.v.maxArgs(n, 1)) },
};

const HTTP: Table<PendingChecker> = {
  ...WITH_CONN,
  nb_get_retry: {
    status: 'deprecated',
    note: 'old name of retry',
    fn: (n, p, b) => {
      b.deprecated(n, 'retry');
      COMMON.retry!.fn(n, p, b);
    },
  },
  virtualhost: { fn: (n, p, b) => void (((p.checker as HttpChecker).virtualhost = b.v.str(n, 'a host name') ?? (p.checker as HttpChecker).virtualhost), b.v.maxArgs(n, 1)) },
  http_protocol: {
    fn: (n, p, b) => {
      const v = b.v.oneOf(n, 0, ['1.0', '1.0C', '1.0c', '1.1'] as const, 'an HTTP version');
      if (v) (p.checker as HttpChecker).httpProtocol = v === '1.0c' ? '1.0C' : v;
      b.v.maxArgs(n, 1);
    },
  },
  enable_sni: {
    fn: (n, p, b) => {
      const v = b.v.bool(n);
      if (v !== undefined) (p.checker as HttpChecker).enableSni = v;
    },
  },
  fast_recovery: {
    fn: (n, p, b) => {
      const v = b.v.bool(n);
      if (v !== undefined) (p.checker as HttpChecker).fastRecovery = v;
    },
  },
  url: {
    block: 'required',
    fn: (n, p, b) => {
      const u: HttpUrl = { path: '', statusCode: [], regexNoMatch: false, regexOptions: [], loc: locOf(n) };
      b.walk(n.children, URL, u, 'url', 'url');
      if (!u.path) {
        b.sink.error('missing-argument', n.close ?? n, `url: expected a 'path' line`, 'path');
        return;
      }
      if (u.statusCode.length === 0) u.statusCode = [[200, 299]];
      if (u.regex === undefined && (u.regexNoMatch || u.regexOptions.length > 0 || u.regexMinOffset !== undefined || u.regexMaxOffset !== undefined)) {
        b.sink.warn('semantic', n, 'url: regex options without a regex - ignored (as keepalived)', 'regex');
        u.regexNoMatch = false;
        u.regexOptions = [];
        delete u.regexMinOffset;
        delete u.regexMaxOffset;
      }
      if (u.regex !== undefined) {
        try {
          new RegExp(u.regex);
        } catch (e) {
          b.sink.error('invalid-value', n, `url: regex '${u.regex}' is not valid: ${(e as Error).message}`, 'regex');
        }
      }
      (p.checker as HttpChecker).urls.push(u);
    },
  },
};

const UDP: Table<PendingChecker> = {
  ...WITH_CONN,
  payload: {
    fn: (n, p, b) => {
      const hex = n.args.map((a) => a.text).join('');
      if (!hex) return void b.sink.error('missing-argument', afterLast(n), 'payload: expected hex bytes', n.keyword);
      if (!/^([0-9a-fA-F]{2})+$/.test(hex)) return void b.sink.error('invalid-value', n.args[0]!, `payload: expected hex bytes (an even number of hex digits), got '${hex}'`, n.keyword);
      (p.checker as UdpChecker).payload = hex.toLowerCase();
    },
  },
  require_reply: {
    fn: (n, p, b) => {
      const c = p.checker as UdpChecker;
      c.requireReply = true;
      const hex = n.args.map((a) => a.text).join('');
      if (!hex) return;
      if (!/^([0-9a-fA-F?]{2})+$/.test(hex)) return void b.sink.error('invalid-value', n.args[0]!, `require_reply: expected hex bytes ('?' for any nibble), got '${hex}'`, n.keyword);
      c.replyData = hex.toLowerCase();
    },
  },
  min_reply_length: { fn: (n, p, b) => void (((p.checker as UdpChecker).minReplyLength = b.v.int(n, 0, 0, 65535, 'a length') ?? (p.checker as UdpChecker).minReplyLength), b.v.maxArgs(n, 1)) },
  max_reply_length: { fn: (n, p, b) => void (((p.checker as UdpChecker).maxReplyLength = b.v.int(n, 0, 0, 65535, 'a length') ?? (p.checker as UdpChecker).maxReplyLength), b.v.maxArgs(n, 1)) },
};

const DNS_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const;
const DNS: Table<PendingChecker> = {
  ...WITH_CONN,
  type: {
    fn: (n, p, b) => {
      const t = b.v.oneOf(n, 0, DNS_TYPES, 'a DNS query type', true);
      if (t) (p.checker as DnsChecker).queryType = t;
      b.v.maxArgs(n, 1);
    },
  },
  name: {
    fn: (n, p, b) => {
      const name = b.v.str(n, 'a domain name');
      if (name === undefined) return;
      if ((name.startsWith('.') && name !== '.') || name.includes('..')) {
        return void b.sink.error('invalid-value', n.args[0]!, `name: '${name}' has an empty label`, n.keyword);
      }
      (p.checker as DnsChecker).name = name;
      b.v.maxArgs(n, 1);
    },
  },
};

const SMTP: Table<PendingChecker> = {
  ...WITH_CONN,
  helo_name: {
    fn: (n, p, b) => {
      const s = b.v.str(n, 'a HELO name');
      if (s !== undefined) (p.checker as Extract<Checker, { type: 'SMTP_CHECK' }>).heloName = s;
      b.v.maxArgs(n, 1);
    },
  },
};

const MISC: Table<PendingChecker> = {
  ...COMMON,
  misc_path: {
    fn: (n, p, b) => {
      const s = b.v.script(n, 1, 99);
      if (s) (p.checker as MiscChecker).script = { ...s, ...userOf(p.checker as MiscChecker) };
    },
  },
  misc_timeout: { fn: (n, p, b) => void (((p.checker as MiscChecker).timeout = b.v.int(n, 0, 0, 4294, 'seconds') ?? (p.checker as MiscChecker).timeout), b.v.maxArgs(n, 1)) },
  misc_dynamic: { fn: (n, p, b) => void (((p.checker as MiscChecker).dynamic = true), b.v.maxArgs(n, 0)) },
  user: {
    fn: (n, p, b) => {
      const u = b.v.str(n, 'a user name');
      if (u === undefined) return;
      const s = (p.checker as MiscChecker).script;
      s.user = u;
      if (n.args[1]) s.group = n.args[1].text;
      b.v.maxArgs(n, 2);
    },
  },
};

function userOf(c: MiscChecker): { user?: string; group?: string } {
  const out: { user?: string; group?: string } = {};
  if (c.script.user !== undefined) out.user = c.script.user;
  if (c.script.group !== undefined) out.group = c.script.group;
  return out;
}

const FILE: Table<PendingChecker> = {
  track_file: {
    fn: (n, p, b) => {
      const name = b.v.str(n, 'a track_file name');
      if (name !== undefined) (p.checker as FileChecker).trackFile = name;
      b.v.maxArgs(n, 1);
    },
  },
  weight: {
    fn: (n, p, b) => {
      const c = p.checker as FileChecker;
      const v = b.v.int(n, 0, -(2 ** 31 - 1), 2 ** 31 - 1, 'a weight');
      if (v === undefined) return;
      c.weight = v;
      c.weightReverse = false;
      const opt = n.args[1];
      if (opt) {
        if (opt.text === 'reverse') c.weightReverse = true;
        else if (opt.text !== 'noreverse') b.sink.error('invalid-value', opt, `weight: unknown option '${opt.text}' (expected reverse or noreverse)`, n.keyword);
      }
      b.v.maxArgs(n, 2);
    },
  },
};

function buildChecker(n: ConfigNode, r: RsCtx, b: Builder, type: Checker['type']): void {
  b.v.maxArgs(n, 0);
  const loc = locOf(n);
  const common = { delayLoop: 0, retry: 0, delayBeforeRetry: 0, warmup: 0, alpha: false, logAllFailures: false, loc };
  const conn = { connectIp: '', connectPort: 0, connectTimeout: 0 };
  let checker: Checker;
  let table: Table<PendingChecker>;
  let defaultRetry = 1;
  let defaultDbr = 1;
  switch (type) {
    case 'TCP_CHECK':
    case 'PING_CHECK':
      checker = { type, ...common, ...conn };
      table = WITH_CONN;
      break;
    case 'HTTP_GET':
    case 'SSL_GET':
      checker = { type, ...common, ...conn, urls: [], httpProtocol: '1.0', enableSni: false, fastRecovery: false };
      table = HTTP;
      break;
    case 'UDP_CHECK':
      checker = { type, ...common, ...conn, requireReply: false, minReplyLength: 0, maxReplyLength: 255 };
      table = UDP;
      break;
    case 'DNS_CHECK':
      checker = { type, ...common, ...conn, queryType: 'SOA', name: '.' };
      table = DNS;
      defaultRetry = 3;
      defaultDbr = 0;
      break;
    case 'SMTP_CHECK':
      checker = { type, ...common, ...conn, heloName: 'smtpchecker.keepalived.org' };
      table = SMTP;
      break;
    case 'MISC_CHECK':
      checker = { type, ...common, script: { argv: [], text: '' }, dynamic: false };
      table = MISC;
      defaultRetry = 0;
      break;
    case 'FILE_CHECK':
      checker = { type, ...common, trackFile: '', weight: NaN, weightReverse: false };
      table = FILE;
      break;
  }
  const p: PendingChecker = {
    checker,
    retry: UNSET,
    delayBeforeRetry: UNSET,
    warmup: UNSET,
    delayLoop: UNSET,
    connectTimeout: UNSET,
    defaultRetry,
    defaultDelayBeforeRetry: defaultDbr,
    connectIpSet: false,
    connectPortSet: false,
  };
  b.walk(n.children, table, p, type === 'SSL_GET' ? 'HTTP_GET' : type, type);
  const where = n.close ?? n;
  if ((type === 'HTTP_GET' || type === 'SSL_GET') && (checker as HttpChecker).urls.length === 0) {
    b.sink.error('missing-argument', where, `${type}: expected at least one 'url { path ... }' block`, 'url');
    return;
  }
  if (type === 'MISC_CHECK' && (checker as MiscChecker).script.argv.length === 0) {
    b.sink.error('missing-argument', where, `MISC_CHECK: expected a 'misc_path' line`, 'misc_path');
    return;
  }
  if (type === 'FILE_CHECK' && !(checker as FileChecker).trackFile) {
    b.sink.error('missing-argument', where, `FILE_CHECK: expected a 'track_file' line`, 'track_file');
    return;
  }
  if (type === 'UDP_CHECK') {
    const u = checker as UdpChecker;
    if (u.minReplyLength > u.maxReplyLength) {
      b.sink.warn('semantic', where, `UDP_CHECK: min_reply_length ${u.minReplyLength} > max_reply_length ${u.maxReplyLength} - the check will always fail`, 'min_reply_length');
    }
  }
  if (r.checkers === NO_PENDING) r.checkers = [];
  r.checkers.push(p);
}

/** Every keyword lvsd reads, by block, with its status (for docs/keepalived.md and tests). */
export function keywordTables(): Record<string, Record<string, { status: KeywordStatus; note?: string }>> {
  const out: Record<string, Record<string, { status: KeywordStatus; note?: string }>> = {};
  const add = (block: string, table: Table<never>): void => {
    const t = (out[block] ??= {});
    for (const [k, spec] of Object.entries(table)) {
      const e: { status: KeywordStatus; note?: string } = { status: spec.status ?? 'supported' };
      if (spec.note) e.note = spec.note;
      t[k] = e;
    }
  };
  add('top', TOP as Table<never>);
  add('global_defs', GLOBAL as Table<never>);
  add('vrrp_script', VSCRIPT as Table<never>);
  add('track_file', TRACKFILE as Table<never>);
  add('vrrp_instance', INSTANCE as Table<never>);
  add('authentication', AUTH as Table<never>);
  add('vrrp_sync_group', SYNCGROUP as Table<never>);
  add('virtual_server', VS as Table<never>);
  add('real_server', RS as Table<never>);
  add('TCP_CHECK / PING_CHECK', WITH_CONN as Table<never>);
  add('HTTP_GET / SSL_GET', HTTP as Table<never>);
  add('url', URL as Table<never>);
  add('UDP_CHECK', UDP as Table<never>);
  add('DNS_CHECK', DNS as Table<never>);
  add('SMTP_CHECK', SMTP as Table<never>);
  add('MISC_CHECK', MISC as Table<never>);
  add('FILE_CHECK', FILE as Table<never>);
  for (const [block, kws] of Object.entries(NOT_YET)) {
    const target = block === 'HTTP_GET' ? 'HTTP_GET / SSL_GET' : block;
    const t = (out[target] ??= {});
    for (const [k, note] of Object.entries(kws)) t[k] = note ? { status: 'not-yet', note } : { status: 'not-yet' };
  }
  return out;
}

/** iproute2's table names: built in, then its rt_tables files (as `ip route ... table NAME` resolves them). */
const BUILTIN_TABLES: Record<string, number> = { unspec: 0, default: 253, main: 254, local: 255 };
const RT_TABLES = ['/etc/iproute2/rt_tables', '/usr/share/iproute2/rt_tables', '/usr/lib/iproute2/rt_tables'];

export function routeTableId(name: string, fs: ConfigFs | undefined): number | undefined {
  if (/^\d+$/.test(name)) {
    const n = Number(name);
    return n <= 0xffffffff ? n : undefined;
  }
  if (Object.hasOwn(BUILTIN_TABLES, name)) return BUILTIN_TABLES[name];
  const files = [...RT_TABLES];
  for (const dir of RT_TABLES.map((f) => `${f}.d`)) for (const f of fs?.readdir(dir) ?? []) if (f.endsWith('.conf')) files.push(`${dir}/${f}`);
  for (const f of files) {
    let text: string;
    try {
      text = fs?.readFile(f) ?? '';
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const m = /^\s*(0x[0-9a-f]+|\d+)\s+(\S+)/i.exec(line);
      if (m && m[2] === name) return Number(m[1]);
    }
  }
  return undefined;
}

/** What makes two virtual_server blocks the same one (a second is a duplicate error). */
export function virtualServerKey(vs: VirtualServer): string {
  if (vs.kind === 'fwmark') return `fwmark ${vs.fwmark} ${vs.family}`;
  return vs.kind === 'group' ? `group ${vs.group}` : `${vs.address} ${vs.port} ${vs.protocol ?? ''}`;
}
