// keepalived's vrrp_instance / vrrp_sync_group as @lvsd/vrrp options. Pure.
import type { RouteOption, TrackScriptOption, VipOption, VrrpInstanceOptions } from '@lvsd/vrrp';
import type { KeepalivedConfig, ScriptSpec, VirtualIp, VirtualRoute, VrrpInstance, VrrpNotify } from '../config/model.js';

// The argv keepalived's reader split (its escapes and quoting), not the text to split again.
const argv = (s: ScriptSpec | undefined): string[] | undefined => s?.argv;

function vip(v: VirtualIp): VipOption {
  const o: Exclude<VipOption, string> = { address: v.address, prefix: v.prefix };
  if (v.dev) o.dev = v.dev;
  if (v.label) o.label = v.label;
  if (v.scope) o.scope = v.scope;
  if (v.brd) o.broadcast = v.brd;
  return o;
}

function route(r: VirtualRoute): RouteOption {
  const o: Exclude<RouteOption, string> = { dst: r.to };
  if (r.via) o.via = r.via;
  if (r.src) o.src = r.src;
  if (r.dev) o.dev = r.dev;
  if (r.metric !== undefined) o.metric = r.metric;
  if (r.tableId !== undefined) o.table = r.tableId;
  if (r.scope) o.scope = r.scope;
  return o;
}

export function notifyScripts(n: VrrpNotify) {
  return {
    notify: argv(n.any),
    notifyMaster: argv(n.master),
    notifyBackup: argv(n.backup),
    notifyFault: argv(n.fault),
    notifyStop: argv(n.stop),
  };
}

/** The options of one instance; `netns` runs it inside a namespace (tests, labs). */
export function vrrpOptions(inst: VrrpInstance, config: KeepalivedConfig, netns?: string): VrrpInstanceOptions {
  const g = config.global;
  const trackScript: TrackScriptOption[] = [];
  for (const ref of inst.trackScripts) {
    const def = config.vrrpScripts.find((s) => s.name === ref.name);
    if (!def) continue; // the config builder already reported it
    trackScript.push({
      name: def.name,
      script: def.script.argv,
      interval: def.interval,
      timeout: def.timeout,
      rise: def.rise,
      fall: def.fall,
      weight: ref.weight ?? def.weight,
      reverse: ref.reverse || def.weightReverse,
    });
  }
  const trackFile = inst.trackFiles.flatMap((ref) => {
    const def = config.trackFiles.find((f) => f.name === ref.name);
    return def ? [{ name: def.name, path: def.file, weight: ref.weight ?? def.weight }] : [];
  });
  const opts: VrrpInstanceOptions = {
    name: inst.name,
    interface: inst.interface ?? '',
    virtualRouterId: inst.virtualRouterId,
    priority: inst.priority,
    advertInt: inst.advertInt,
    state: inst.state,
    version: inst.version,
    nopreempt: inst.nopreempt,
    preemptDelay: inst.preemptDelay,
    virtualIpaddress: inst.virtualIpaddresses.map(vip),
    virtualRoutes: inst.virtualRoutes.map(route),
    unicastPeer: inst.unicastPeers.map((p) => p.address),
    mcastGroup4: g.vrrpMcastGroup4,
    mcastGroup6: g.vrrpMcastGroup6,
    checkUnicastSrc: inst.checkUnicastSrc,
    accept: inst.accept,
    garpMasterDelay: inst.garpMasterDelay,
    garpMasterRepeat: inst.garpMasterRepeat,
    garpMasterRefresh: inst.garpMasterRefresh,
    garpMasterRefreshRepeat: inst.garpMasterRefreshRepeat,
    garpLowerPrioDelay: inst.garpLowerPrioDelay,
    garpLowerPrioRepeat: inst.garpLowerPrioRepeat,
    garpInterval: inst.family === 'inet6' ? g.vrrpGnaInterval : g.vrrpGarpInterval,
    lowerPrioNoAdvert: inst.lowerPrioNoAdvert,
    rtPriority: g.vrrpRtPriority,
    trackScript,
    trackInterface: inst.trackInterfaces.map((t) => ({ name: t.name, weight: t.weight })),
    trackFile,
    ...notifyScripts(inst.notify),
  };
  if (inst.authentication) opts.authentication = { authType: inst.authentication.type, authPass: inst.authentication.pass };
  if (inst.srcIp) {
    if (inst.unicastPeers.length) opts.unicastSrcIp = inst.srcIp;
    else opts.mcastSrcIp = inst.srcIp;
  }
  const fifo = g.vrrpNotifyFifo ?? g.notifyFifo;
  if (fifo) opts.notifyFifo = fifo.path;
  if (netns) opts.netns = netns;
  return opts;
}
