// A VRRP lab in host network namespaces: a bridge namespace and member namespaces
// (directors a and b, client c) each with eth0 on the bridge. Peers run as their
// own processes: keepalived 2.2, or lvsd through runner.mjs. Shared by the netns
// tests and test/bench/failover.mjs. Everything created is removed by cleanup(),
// processes by PID.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const RUNNER = join(here, 'runner.mjs');
export const KEEPALIVED = '/usr/sbin/keepalived';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...opts });
}

export async function waitFor(fn, timeoutMs, what = 'condition', stepMs = 5) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/**
 * Creates the namespaces. members: names like ['a','b','c']; addresses
 * 10.77.<net>.<i+1>/24 and fd77:<net>::<i+1>/64 in member order.
 */
export function createLab({ members = ['a', 'b', 'c'], net = 0 } = {}) {
  // Labs of one test file live side by side until afterAll: names must not collide
  // (the pid plus 1 in 1,296 did, about once in 50 runs).
  let id;
  do id = randomBytes(4).toString('hex');
  while (existsSync(`/run/netns/lvsdv-${id}-br`));
  const ns = { br: `lvsdv-${id}-br` };
  for (const m of members) ns[m] = `lvsdv-${id}-${m}`;
  const tmp = mkdtempSync(join(tmpdir(), 'lvsd-vrrp-'));
  const procs = new Set();
  const lab = {
    id,
    ns,
    tmp,
    ip4: {},
    ip6: {},
    mac: {},
    procs,
    exec: (n, cmd, args, o) => sh('ip', ['netns', 'exec', ns[n] ?? n, cmd, ...args], o),
    cleanup() {
      for (const p of procs) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {}
        if (p.extraPids) for (const x of p.extraPids()) try { process.kill(x, 'SIGKILL'); } catch {}
      }
      for (const n of Object.values(ns)) {
        try {
          sh('ip', ['netns', 'del', n]);
        } catch {}
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
  try {
    for (const n of Object.values(ns)) {
      sh('ip', ['netns', 'add', n]);
      sh('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
      sh('ip', ['netns', 'exec', n, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    }
    sh('ip', ['-n', ns.br, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    sh('ip', ['-n', ns.br, 'link', 'set', 'br0', 'up']);
    members.forEach((m, i) => {
      const port = `p-${m}`;
      sh('ip', ['-n', ns.br, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns[m]]);
      sh('ip', ['-n', ns.br, 'link', 'set', port, 'master', 'br0']);
      sh('ip', ['-n', ns.br, 'link', 'set', port, 'up']);
      const mac = `02:77:${net.toString(16).padStart(2, '0')}:00:00:${(i + 1).toString(16).padStart(2, '0')}`;
      sh('ip', ['-n', ns[m], 'link', 'set', 'eth0', 'address', mac]);
      sh('ip', ['-n', ns[m], 'link', 'set', 'eth0', 'up']);
      lab.ip4[m] = `10.77.${net}.${i + 1}`;
      lab.ip6[m] = `fd77:${net}::${i + 1}`;
      lab.mac[m] = mac;
      sh('ip', ['-n', ns[m], 'addr', 'add', `${lab.ip4[m]}/24`, 'dev', 'eth0']);
      sh('ip', ['-n', ns[m], 'addr', 'add', `${lab.ip6[m]}/64`, 'dev', 'eth0', 'nodad']);
    });
  } catch (e) {
    lab.cleanup();
    throw e;
  }
  return lab;
}

/** Addresses on eth0 of a member namespace. */
export function addresses(lab, m) {
  const out = sh('ip', ['-n', lab.ns[m], '-o', 'addr', 'show', 'dev', 'eth0']);
  return [...out.matchAll(/inet6? ([0-9a-f.:]+)\//g)].map((x) => x[1]);
}

export function hasAddress(lab, m, addr) {
  return addresses(lab, m).includes(addr);
}

/** Starts keepalived (VRRP only) in a namespace; kill() sends the signal to both its processes. */
export function startKeepalived(lab, m, conf, name = m) {
  const dir = join(lab.tmp, `ka-${name}`);
  rmSync(dir, { recursive: true, force: true });
  execFileSync('mkdir', ['-p', dir]);
  const cf = join(dir, 'keepalived.conf');
  writeFileSync(cf, conf);
  const pidfile = join(dir, 'keepalived.pid');
  const vpid = join(dir, 'vrrp.pid');
  const child = spawn('ip', ['netns', 'exec', lab.ns[m], KEEPALIVED, '-n', '-l', '-D', '--vrrp', '-f', cf, '-p', pidfile, '-r', vpid], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const vrrpPid = () => {
    try {
      return Number(readFileSync(vpid, 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  const p = {
    kind: 'keepalived',
    pid: child.pid,
    child,
    log: () => log,
    vrrpPid,
    extraPids: () => [vrrpPid()].filter(Boolean),
    exited: new Promise((r) => child.on('exit', r)),
    /** SIGKILL hits the VRRP child first (keepalived's parent would otherwise tell it to resign). */
    kill(sig = 'SIGTERM') {
      if (sig === 'SIGKILL') {
        for (const x of [vrrpPid(), child.pid]) if (x) try { process.kill(x, 'SIGKILL'); } catch {}
      } else try { process.kill(child.pid, sig); } catch {}
    },
    ready: () => waitFor(() => vrrpPid() !== undefined && existsSync(`/proc/${vrrpPid()}`), 10000, 'keepalived vrrp child'),
  };
  lab.procs.add(p);
  child.on('exit', () => lab.procs.delete(p));
  return p;
}

/** Calls `fn` with each JSON line of a stream (lines that are not JSON are skipped). */
export function onJsonLines(stream, fn) {
  let buf = '';
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let ev;
      try {
        ev = JSON.parse(line);
      } catch {
        continue;
      }
      fn(ev);
    }
  });
}

/** Starts an lvsd VrrpInstance in its own process (runner.mjs) in a namespace. */
export function startLvsd(lab, m, options, extraArgs = []) {
  const child = spawn('ip', ['netns', 'exec', lab.ns[m], process.execPath, RUNNER, JSON.stringify(options), ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events = [];
  const waiters = new Set();
  let err = '';
  onJsonLines(child.stdout, (ev) => {
    events.push(ev);
    for (const w of waiters) w();
  });
  child.stderr.on('data', (d) => (err += d));
  const p = {
    kind: 'lvsd',
    pid: child.pid,
    child,
    events,
    stderr: () => err,
    exited: new Promise((r) => child.on('exit', r)),
    kill(sig = 'SIGTERM') {
      try {
        process.kill(child.pid, sig);
      } catch {}
    },
    states: () => events.filter((e) => e.event === 'stateChange').map((e) => e.to),
    ready: () => waitFor(() => events.some((e) => e.event === 'started') || (child.exitCode !== null && Promise.reject(new Error(`lvsd exited: ${err}`))), 10000, 'lvsd start'),
  };
  lab.procs.add(p);
  child.on('exit', () => lab.procs.delete(p));
  return p;
}

/** keepalived.conf for one vrrp_instance. */
export function keepalivedConf(o) {
  const lines = [
    'global_defs {',
    '  vrrp_garp_master_delay 0',
    o.checkUnicastSrc ? '  vrrp_check_unicast_src' : '',
    o.mcastGroup4 ? `  vrrp_mcast_group4 ${o.mcastGroup4}` : '',
    '}',
    `vrrp_instance ${o.name ?? 'VI_1'} {`,
  ];
  lines.push(`  state ${o.state ?? 'BACKUP'}`, '  interface eth0', `  virtual_router_id ${o.vrid}`, `  priority ${o.priority}`, `  advert_int ${o.advertInt ?? 1}`);
  if (o.version) lines.push(`  version ${o.version}`);
  if (o.nopreempt) lines.push('  nopreempt');
  if (o.authPass) lines.push('  authentication {', '    auth_type PASS', `    auth_pass ${o.authPass}`, '  }');
  if (o.unicastPeer) lines.push(`  unicast_src_ip ${o.unicastSrcIp}`, '  unicast_peer {', ...o.unicastPeer.map((p) => `    ${p}`), '  }');
  lines.push('  virtual_ipaddress {', ...o.vips.map((v) => `    ${v}`), '  }', '}');
  return lines.filter(Boolean).join('\n') + '\n';
}
