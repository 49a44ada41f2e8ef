#!/usr/bin/env node
// The lab: boots user-mode Linux (Debian `user-mode-linux`, kernel with IPVS as modules)
// with the host filesystem as its root, loads IPVS and friends, runs one command inside
// with the caller's cwd and environment, streams its output back and returns its exit
// status. The host kernel of our machines has no IPVS; this one does.
//
//   node test/lab/run.mjs [--mem 1G] [--timeout S] [--out DIR] [--verbose] [--keep] -- <command...>
//   import { runInLab } from './test/lab/run.mjs'
//
// Channels: the guest console (con0 -> stdout of the UML process) carries only kernel
// messages and init's progress markers. The command writes its stdout and stderr to
// files in a host directory under /var/tmp (the guest's /tmp is a tmpfs; hostfs writes
// through to the host at once), which the host tails and forwards as they grow, so the
// command's output never mixes with kernel noise. Its exit status comes back the same way.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Modules loaded at boot when the kernel has them. `ip_vs` is mandatory; the rest are best effort. */
export const LAB_MODULES = [
  'ip_vs',
  'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_lc', 'ip_vs_wlc', 'ip_vs_lblc', 'ip_vs_lblcr', 'ip_vs_dh',
  'ip_vs_sh', 'ip_vs_sed', 'ip_vs_nq', 'ip_vs_fo', 'ip_vs_ovf', 'ip_vs_mh', 'ip_vs_twos',
  'ip_vs_pe_sip',
  'veth', 'bridge', 'dummy',
  'nf_tables',
];

/** Exit code used when the lab itself failed (boot, timeout, missing ip_vs), not the command. */
export const LAB_FAILURE = 125;

// Built-in initcalls that cost ~1 s of a ~2 s boot and serve nothing the lab uses: the
// raid6 and xor algorithm benchmarks (for btrfs/md RAID, built into the Debian UML kernel)
// and the zswap pool (the guest has no swap).
const SKIP_INITCALLS = 'initcall_blacklist=raid6_select_algo,calibrate_xor_blocks,init_zswap';

const UML_CANDIDATES = ['/usr/bin/linux.uml', '/usr/bin/linux'];
const MARK = '@@lvsd-lab';
// Host env vars that would mislead the guest: per-process shell state, and paths under
// /tmp or /run which are empty tmpfs mounts inside.
const ENV_DROP = new Set(['PWD', 'OLDPWD', 'SHLVL', '_', 'TERM_SESSION_ID']);

function findUml() {
  if (process.env.LVSD_LAB_UML) return process.env.LVSD_LAB_UML;
  for (const p of UML_CANDIDATES) if (existsSync(p)) return p;
  return null;
}

/** POSIX-shell single-quote. */
function q(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

function parseMem(mem) {
  const m = /^(\d+)([KMG]?)$/i.exec(String(mem));
  if (!m) throw new Error(`lab: bad --mem ${mem} (e.g. 1G, 1536M)`);
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase()];
  return Number(m[1]) * mult;
}

// UML backs guest RAM with an unlinked file in $TMPDIR (default /dev/shm). Docker's
// /dev/shm is 64 MB, which kills a 1 GB guest with SIGBUS the first time it touches its
// memory; fall back to /var/tmp (sparse file on disk) when /dev/shm is too small.
function memoryDir(bytes) {
  for (const d of ['/dev/shm', '/var/tmp']) {
    if (noexec(d)) continue; // UML maps guest RAM executable
    try {
      const s = statfsSync(d);
      if (s.bavail * s.bsize > bytes + 64 * 1024 ** 2) return d;
    } catch {}
  }
  return '/var/tmp';
}

/** PIDs whose process group is `pgid` (from /proc/PID/stat, field 5). */
function groupMembers(pgid) {
  const out = [];
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {}
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) "
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(pid));
    } catch {}
  }
  return out;
}

function noexec(dir) {
  try {
    const line = readFileSync('/proc/self/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === dir);
    return Boolean(line && line.split(' ')[3].split(',').includes('noexec'));
  } catch {
    return false;
  }
}

function guestEnv(env) {
  const out = [];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || ENV_DROP.has(k) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) continue;
    if (/^(TMPDIR|TMP|TEMP|XDG_RUNTIME_DIR)$/.test(k) && /^\/(tmp|run)(\/|$)/.test(v)) continue;
    out.push(`export ${k}=${q(v)}`);
  }
  return out.join('\n');
}

// Mounts done by one `mount -a` (one process instead of nine), in this order. /lib/modules
// is the package's module tree bind-mounted read-only, so modprobe works without touching
// the host's own /lib/modules. A working directory or output directory under the host's
// /tmp (a CI checkout in /tmp/x, say) is bind-mounted back at the same path on top of the
// guest's tmpfs /tmp, through a bind of the host's /tmp made before that tmpfs hides it.
function fstab(hostTmpPaths) {
  const lines = [
    'proc /proc proc defaults 0 0',
    'sysfs /sys sysfs defaults 0 0',
    'tmpfs /run tmpfs mode=755 0 0',
  ];
  if (hostTmpPaths.length) lines.push('/tmp /run/lvsd-host-tmp none bind,X-mount.mkdir 0 0');
  lines.push('tmpfs /tmp tmpfs mode=1777 0 0');
  for (const p of hostTmpPaths) lines.push(`/run/lvsd-host-tmp${fstabEscape(p.slice(4))} ${fstabEscape(p)} none bind,X-mount.mkdir 0 0`);
  lines.push(
    'tmpfs /dev/shm tmpfs mode=1777,X-mount.mkdir 0 0',
    'devpts /dev/pts devpts X-mount.mkdir 0 0',
    '/usr/lib/uml/modules /lib/modules none bind,ro 0 0',
  );
  return lines.join('\n') + '\n';
}

/** fstab fields cannot hold blanks: octal escapes, as in /proc/mounts. */
function fstabEscape(p) {
  return p.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

const underTmp = (p) => p.startsWith('/tmp/');
const badPath = (p) => p === '/tmp' || p === '/run' || p.startsWith('/run/');

function initScript({ ctl, out, cwd, command, modules }) {
  // Every process spawned inside UML costs tens of milliseconds (fork and exec are slow
  // there), so this script spawns as few as it can: one mount, one ip, one modprobe.
  // The command's stdout/stderr go to files in the host directory: hostfs writes through
  // to the host at once, and the host tails them.
  return `#!/bin/sh
# Generated by test/lab/run.mjs: PID 1 of the lab guest.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
C=${q(ctl)}
off() { poweroff -f; echo o > /proc/sysrq-trigger; while :; do sleep 1; done; }
fail() { echo "${MARK} fail $*"; echo "$*" > "$C/fail"; off; }
mark() { read up idle < /proc/uptime; echo "${MARK} $* $up"; }
mount -a -T "$C/fstab" || fail "mounting proc, sysfs, tmpfs and /lib/modules failed (see the boot log)"
mark init
read rel < /proc/sys/kernel/osrelease
[ -d /lib/modules/$rel ] || fail "no modules for the UML kernel $rel in /usr/lib/uml/modules (package user-mode-linux)"
echo lvsd-lab > /proc/sys/kernel/hostname
ip link set lo up || fail "ip link set lo up failed (package iproute2)"
# One modprobe for everything; names this kernel lacks (ip_vs_twos before 6.x) are skipped.
modprobe -q -a ${modules.join(' ')}
[ -e /proc/net/ip_vs ] || fail "cannot load ip_vs (modprobe ip_vs failed; see the boot log)"
m=
while read name rest; do m="$m $name"; done < /proc/modules
echo "${MARK} modules$m"
. "$C/env.sh"
# The command runs as root in the guest: a non-root caller's PATH may lack the sbin dirs
# where ipvsadm, keepalived and ip live.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" ;; esac
export PATH LVSD_LAB=1 LVSD_LAB_OUT=${q(out)}
cd ${q(cwd)} || fail "cannot cd to the working directory"
mark ready
set -- ${command.map(q).join(' ')}
"$@" < /dev/null > "$C/stdout" 2> "$C/stderr"
echo $? > "$C/rc"
off
`;
}

/**
 * Boot the lab, run `command` inside it, return its exit status.
 *
 * @param {object} o
 * @param {string[]} o.command  argv, run with cwd `o.cwd` (default: the repo root)
 * @param {Record<string,string|undefined>} [o.env]  environment for the command (default process.env)
 * @param {number} [o.timeoutMs]  kill the whole guest after this long (default 30 min)
 * @param {number} [o.bootTimeoutMs]  give up if the guest is not ready after this long (default 60 s)
 * @param {string} [o.outDir]  host directory exported to the command as $LVSD_LAB_OUT (kept);
 *   default: a fresh directory under /var/tmp, removed afterwards
 * @param {string} [o.mem]  guest RAM (default '1G')
 * @param {import('node:stream').Writable|null} [o.stdout]  where the command's stdout goes (default process.stdout; null: drop)
 * @param {import('node:stream').Writable|null} [o.stderr]  same for stderr (default process.stderr)
 * @param {boolean} [o.capture]  also collect stdout/stderr into the result
 * @param {boolean} [o.verbose]  stream kernel console and boot progress to stderr
 * @param {(r: {bootMs:number, kernelMs:number, modules:string[]}) => void} [o.onReady]  called once the guest is up, before the command starts
 * @param {string[]} [o.kernelArgs]  extra kernel command line (default: $LVSD_LAB_KARGS split on blanks)
 * @param {string[]} [o.modules]  modules to load instead of LAB_MODULES (ip_vs stays mandatory)
 * @param {boolean} [o.keep]  keep the control directory (init script, boot log) for debugging
 * @returns {Promise<{code:number, ok:boolean, error?:string, timedOut:boolean, bootMs?:number,
 *   kernelMs?:number, durationMs:number, modules:string[], stdout?:string, stderr?:string,
 *   bootLog:string, ctlDir:string, outDir:string}>}
 */
export async function runInLab(o) {
  const command = o.command;
  if (!Array.isArray(command) || command.length === 0) throw new TypeError('runInLab: command must be a non-empty argv array');
  const cwd = resolve(o.cwd ?? REPO_ROOT);
  const timeoutMs = o.timeoutMs ?? 30 * 60_000;
  const bootTimeoutMs = o.bootTimeoutMs ?? 60_000;
  const mem = o.mem ?? '1G';
  const memBytes = parseMem(mem);
  const stdout = o.stdout === undefined ? process.stdout : o.stdout;
  const stderr = o.stderr === undefined ? process.stderr : o.stderr;
  const log = (s) => process.stderr.write(`lab: ${s}\n`);
  if (badPath(cwd)) throw new Error(`runInLab: cwd ${cwd} cannot be shared with the lab (its /tmp and /run are its own tmpfs)`);

  const uml = findUml();
  const started = Date.now();
  const result = { code: LAB_FAILURE, ok: false, timedOut: false, durationMs: 0, modules: [], bootLog: '', ctlDir: '', outDir: '' };
  if (!uml) {
    result.error = `user-mode Linux is not installed (${UML_CANDIDATES.join(' or ')} missing): run node test/lab/deps.mjs as root, or apt-get install user-mode-linux`;
    return result;
  }

  const ctl = mkdtempSync('/var/tmp/lvsd-lab-');
  const keepCtl = o.keep || process.env.LVSD_LAB_KEEP === '1';
  const out = o.outDir ? resolve(o.outDir) : join(ctl, 'out');
  if (badPath(out)) throw new Error(`runInLab: outDir ${out} cannot be shared with the lab (its /tmp and /run are its own tmpfs)`);
  mkdirSync(out, { recursive: true });
  result.ctlDir = ctl;
  result.outDir = out;

  const env = { ...(o.env ?? process.env) };
  // The command writes to files, not a terminal; keep colours if the host shows them on a tty.
  if (stdout && stdout.isTTY && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.FORCE_COLOR = '1';
  writeFileSync(join(ctl, 'env.sh'), guestEnv(env) + '\n');
  const hostTmpPaths = [...new Set([cwd, out].filter(underTmp))].sort();
  writeFileSync(join(ctl, 'fstab'), fstab(hostTmpPaths));
  writeFileSync(join(ctl, 'stdout'), '');
  writeFileSync(join(ctl, 'stderr'), '');
  const initPath = join(ctl, 'init.sh');
  writeFileSync(initPath, initScript({ ctl, out, cwd, command, modules: o.modules ?? LAB_MODULES }), { mode: 0o755 });

  const umid = `lvsd-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const args = [
    `mem=${mem}`, 'rootfstype=hostfs', 'rootflags=/', 'rw', `init=${initPath}`,
    `umid=${umid}`, `uml_dir=${ctl}`,
    'con=null', 'con0=null,fd:1', 'ssl=null',
    o.verbose ? 'loglevel=6' : 'loglevel=3',
    SKIP_INITCALLS,
    ...(o.kernelArgs ?? (process.env.LVSD_LAB_KARGS ?? '').split(/\s+/).filter(Boolean)),
  ];
  const umlEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: memoryDir(memBytes), HOME: process.env.HOME ?? '/root' };
  if (o.verbose) log(`${uml} ${args.join(' ')}`);

  const child = spawn(uml, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: umlEnv });
  const killGuest = () => {
    try { process.kill(-child.pid, 'SIGKILL'); } catch {}
  };
  const removeCtl = () => {
    if (!keepCtl) try { rmSync(ctl, { recursive: true, force: true }); } catch {}
  };
  // The caller dies (uncaught error, process.exit) or is interrupted: take the guest and
  // the control directory with it, then let the signal do what it would have done.
  const onParentExit = () => { killGuest(); removeCtl(); };
  const onSignal = (sig) => {
    onParentExit();
    process.off('exit', onParentExit);
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  process.once('exit', onParentExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const bootLog = [];
  const captured = { stdout: [], stderr: [] };
  let ready = false;
  let failMsg;
  let partial = '';
  const onConsole = (chunk) => {
    const text = partial + chunk.toString('latin1').replace(/\r/g, '');
    const lines = text.split('\n');
    partial = lines.pop();
    for (const line of lines) {
      bootLog.push(line);
      if (o.verbose) process.stderr.write(`[guest] ${line}\n`);
      if (!line.startsWith(MARK + ' ')) continue;
      const [, what, ...rest] = line.split(' ');
      const up = Number(rest[rest.length - 1]) * 1000;
      if (what === 'init') result.kernelMs = Math.round(up);
      else if (what === 'ready') {
        ready = true;
        result.bootMs = Date.now() - started;
        result.guestReadyMs = Math.round(up);
        o.onReady?.(result);
      } else if (what === 'modules') result.modules = rest.filter(Boolean);
      else if (what === 'fail') failMsg = rest.join(' ');
    }
  };
  child.stdout.on('data', onConsole);
  child.stderr.on('data', (c) => bootLog.push(...c.toString('latin1').replace(/\r/g, '').split('\n').filter(Boolean)));
  const tails = [
    { fd: openSync(join(ctl, 'stdout'), 'r'), pos: 0, dest: stdout, bucket: captured.stdout },
    { fd: openSync(join(ctl, 'stderr'), 'r'), pos: 0, dest: stderr, bucket: captured.stderr },
  ];
  // A reader that went away (`run.mjs ... | head`) must not crash the host side and
  // orphan the guest: stop forwarding to it and let the command finish.
  const onDestError = (t) => (e) => {
    if (e?.code !== 'EPIPE') process.stderr.write(`lab: cannot forward the command's output: ${e?.message}\n`);
    t.dest = null;
  };
  for (const t of tails) {
    t.onError = onDestError(t);
    t.orig = t.dest;
    t.dest?.on?.('error', t.onError);
  }
  const buf = Buffer.alloc(1 << 16);
  const pump = () => {
    for (const t of tails) {
      for (;;) {
        const n = readSync(t.fd, buf, 0, buf.length, t.pos);
        if (n <= 0) break;
        t.pos += n;
        const c = Buffer.from(buf.subarray(0, n));
        if (t.dest) t.dest.write(c);
        if (o.capture) t.bucket.push(c);
      }
    }
  };
  const pumpTimer = setInterval(pump, 50);

  let timer;
  const bootTimer = setTimeout(() => {
    if (!ready) {
      failMsg = `guest did not finish booting within ${bootTimeoutMs / 1000} s`;
      result.timedOut = true;
      killGuest();
    }
  }, bootTimeoutMs);
  timer = setTimeout(() => {
    failMsg = ready
      ? `the command was still running after ${timeoutMs / 1000} s (timeout): killed the guest`
      : `timed out after ${timeoutMs / 1000} s while booting: killed the guest`;
    result.timedOut = true;
    killGuest();
  }, timeoutMs);

  const exit = await new Promise((res) => {
    child.once('error', (e) => res({ spawnError: e }));
    // 'close' waits until all stdio pipes are drained as well.
    child.once('close', (code, signal) => res({ code, signal }));
  });
  clearTimeout(timer);
  clearTimeout(bootTimer);
  clearInterval(pumpTimer);
  pump();
  for (const t of tails) {
    closeSync(t.fd);
    t.orig?.off?.('error', t.onError);
  }
  // UML's helper processes can outlive a crashed main thread. The group is ours only while
  // one of them is alive (a dead group's id can be reused), so look before killing.
  if (groupMembers(child.pid).length) killGuest();
  process.off('exit', onParentExit);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (partial) bootLog.push(partial);

  result.durationMs = Date.now() - started;
  // UML's own start-up self-checks are noise once they passed
  result.bootLog = bootLog
    .filter((l) => !/^(Core dump limits :|\s*(soft|hard) - |Checking .*\.\.\.(OK)?$|OK$|Adding \d+ bytes to physical memory)/.test(l))
    .join('\n');
  if (o.capture) {
    result.stdout = Buffer.concat(captured.stdout).toString();
    result.stderr = Buffer.concat(captured.stderr).toString();
  }
  const rcFile = join(ctl, 'rc');
  if (exit.spawnError) {
    result.error = `cannot start ${uml}: ${exit.spawnError.message}`;
  } else if (failMsg) {
    result.error = failMsg;
  } else if (existsSync(rcFile)) {
    const rc = Number(readFileSync(rcFile, 'utf8').trim());
    result.code = Number.isInteger(rc) ? rc : LAB_FAILURE;
    result.ok = true;
  } else if (existsSync(join(ctl, 'fail'))) {
    result.error = readFileSync(join(ctl, 'fail'), 'utf8').trim();
  } else {
    result.error = ready
      ? `guest stopped without reporting the command's exit status (UML exit ${exit.code ?? exit.signal})`
      : `guest failed to boot (UML exit ${exit.code ?? exit.signal})`;
  }
  const panic = /Kernel panic - not syncing: .*/.exec(result.bootLog);
  if (!result.ok && panic) result.error += ` [${panic[0]}]`;
  if (!result.ok) result.code = LAB_FAILURE;
  if (result.ok && !result.modules.includes('ip_vs')) {
    // cannot happen unless /proc/modules lied; keep the guarantee explicit
    result.ok = false;
    result.code = LAB_FAILURE;
    result.error = 'ip_vs is not loaded in the guest';
  }

  removeCtl(); // outDir, when the caller chose it, lives outside ctl and is kept
  return result;
}

function usage() {
  return `usage: node test/lab/run.mjs [--mem 1G] [--timeout S] [--out DIR] [--verbose] [--keep] -- <command...>
Boots the user-mode Linux lab (IPVS, veth, bridge, dummy, nf_tables loaded), runs the
command inside with cwd = the repo root and this environment, exits with its status.
Lab failures (boot, timeout, no ip_vs) exit ${LAB_FAILURE}.
  --mem SIZE     guest RAM (default 1G)
  --timeout S    kill the guest after S seconds (default 1800)
  --out DIR      host directory passed to the command as $LVSD_LAB_OUT (kept)
  --verbose      show the kernel console and the UML command line
  --keep         keep /var/tmp/lvsd-lab-* (init script, boot log) for debugging
  --quiet        do not print the boot time`;
}

async function main(argv) {
  const o = { command: [] };
  let quiet = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { i++; break; }
    if (a === '--mem') o.mem = argv[++i];
    else if (a === '--timeout') o.timeoutMs = Number(argv[++i]) * 1000;
    else if (a === '--out') o.outDir = argv[++i];
    else if (a === '--verbose' || a === '-v') o.verbose = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--quiet' || a === '-q') quiet = true;
    else if (a === '--help' || a === '-h') { console.log(usage()); return 0; }
    else if (a.startsWith('-')) { console.error(`lab: unknown option ${a}\n${usage()}`); return 2; }
    else break;
  }
  o.command = argv.slice(i);
  if (o.command.length === 0) { console.error(usage()); return 2; }
  if (o.timeoutMs !== undefined && !(o.timeoutMs > 0)) { console.error('lab: --timeout needs a positive number of seconds'); return 2; }
  if (!quiet)
    o.onReady = (r) =>
      process.stderr.write(`lab: ready in ${(r.bootMs / 1000).toFixed(2)} s (guest kernel up ${(r.kernelMs / 1000).toFixed(2)} s after start)\n`);
  const r = await runInLab(o);
  if (!r.ok) {
    process.stderr.write(`lab: ERROR: ${r.error}\n`);
    const tail = r.bootLog.split('\n').slice(-40).join('\n');
    if (tail.trim()) process.stderr.write(`lab: last lines of the guest console:\n${tail}\n`);
    if (r.ctlDir && (o.keep || process.env.LVSD_LAB_KEEP === '1')) process.stderr.write(`lab: kept ${r.ctlDir}\n`);
    return LAB_FAILURE;
  }
  if (!quiet)
    process.stderr.write(
      `lab: command exited ${r.code}; ${(r.durationMs / 1000).toFixed(1)} s in all (boot ${(r.bootMs / 1000).toFixed(2)} s)\n`,
    );
  return r.code;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e) => { console.error(`lab: ERROR: ${e.message}`); process.exitCode = LAB_FAILURE; },
  );
}
