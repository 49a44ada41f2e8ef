#!/usr/bin/env node
// Director benchmark (not a test). In ONE lab boot, a generated keepalived.conf of
// 5,000 virtual servers x 10 real servers (no checkers), for `lvsd -C` and
// `keepalived -C` side by side, each in a fresh network namespace:
//   - process start -> the full table in the kernel, and peak RSS,
//   - SIGHUP reload with one real server replaced: time until visible, entries touched
//     (then LVSD_BENCH_RELOADS more, default 4: the first reload runs cold code),
//   - SIGTERM -> every entry gone (and whether anything was left behind).
// Run: npm run bench -- director   (boots the lab itself).
// Last line: `ratio: startup lvsd vs keepalived = <x>`.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VS = Number(process.env.LVSD_BENCH_VS ?? 5000);
const RS = Number(process.env.LVSD_BENCH_RS ?? 10);
/** Reloads after the first one (LVSD_BENCH_RELOADS). */
const RELOADS = Number(process.env.LVSD_BENCH_RELOADS ?? 4);

if (!process.env.LVSD_LAB) {
  execFileSync('npx', ['tsc', '-b'], { cwd: ROOT, stdio: 'inherit' });
  const { runInLab } = await import('../lab/run.mjs');
  const r = await runInLab({ command: [process.execPath, '--expose-gc', fileURLToPath(import.meta.url)], cwd: ROOT, mem: '1536M' });
  if (!r.ok && r.error) console.error(`lab: ${r.error}`);
  process.exit(r.code);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sh = (cmd) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 256 << 20 });
const ip = (a, n) => `${a}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const vip = (i) => ip(10, (100 << 16) + i);
const rip = (i, k) => ip(172, (16 << 16) + i * RS + k);
const work = '/tmp/lvsd-bench-director';
mkdirSync(work, { recursive: true });

/** The configuration; `replacement` stands in for the middle service's first real server. */
function config(replacement) {
  const out = ['global_defs {\n  router_id bench\n}\n'];
  for (let i = 0; i < VS; i++) {
    out.push(`virtual_server ${vip(i)} 80 {\n  lb_algo wrr\n  lb_kind DR\n  protocol TCP\n`);
    for (let k = 0; k < RS; k++) {
      const addr = replacement && i === VS >> 1 && k === 0 ? replacement : rip(i, k);
      out.push(`  real_server ${addr} 80 {\n    weight ${1 + k}\n  }\n`);
    }
    out.push('}\n');
  }
  return out.join('');
}

const conf = `${work}/keepalived.conf`;
writeFileSync(conf, config());
const mid = vip(VS >> 1);
const last = vip(VS - 1);

const { IpvsClient } = await import('@lvsd/ipvs');
// Polling must cost next to nothing: process creation in the lab takes tens of
// milliseconds, so one netlink socket per namespace is used, never ipvsadm.
const clients = new Map();
async function client(ns) {
  if (!clients.has(ns)) clients.set(ns, await IpvsClient.open({ netns: `/var/run/netns/${ns}` }));
  return clients.get(ns);
}
/** Destinations of one service (one netlink dump of one service). */
async function destsOf(ns, addr) {
  try {
    return (await (await client(ns)).listDestinations({ protocol: 'tcp', address: addr, port: 80 })).map((d) => d.address);
  } catch {
    return [];
  }
}
const countEntries = (ns) => Number(sh(`ip netns exec ${ns} cat /proc/net/ip_vs | wc -l`).trim()) - 3;

function peakRss(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** keepalived forks: the parent, then the checker child that owns IPVS. */
function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function run(name, argv) {
  const ns = `bench-${name}`;
  sh(`ip netns add ${ns} && ip -n ${ns} link set lo up`);
  const t0 = performance.now();
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  let rss = 0;
  const sample = () => {
    const pids = [child.pid, ...childPids(child.pid)];
    for (const p of [...pids]) pids.push(...childPids(p));
    for (const p of pids) rss = Math.max(rss, peakRss(p) || 0);
  };
  const want = VS + VS * RS;
  while ((await destsOf(ns, last)).length < RS) await sleep(10);
  while (countEntries(ns) < want) await sleep(10);
  const startup = (performance.now() - t0) / 1000;
  sample();

  // Reload: one real server of the middle service replaced.
  const before = sh(`ip netns exec ${ns} ipvsadm -Sn`);
  /** One SIGHUP with the middle service's first real server replaced by `addr`: seconds until it is in the kernel. */
  const reloadWith = async (addr) => {
    writeFileSync(conf, config(addr));
    // The bench's own garbage (the 2.9 MB file it just built) is collected now, not
    // while it polls: on the guest's one CPU that pause would count as the daemon's.
    globalThis.gc?.();
    const t1 = performance.now();
    const sent = new Date();
    process.kill(child.pid, 'SIGHUP'); // keepalived's parent passes it on to its checker child
    let polls = 0;
    while (!(await destsOf(ns, mid)).includes(addr)) {
      polls++;
      await sleep(5);
    }
    const took = (performance.now() - t1) / 1000;
    // Wall-clock times, to set beside the daemon's own log lines (lvsd -D).
    if (process.env.LVSD_BENCH_TRACE) console.log(`${name}: SIGHUP sent ${sent.toISOString()}, seen ${new Date().toISOString()} after ${polls} polls (${(took * 1000).toFixed(0)} ms)`);
    return took;
  };
  const reload = await reloadWith('192.0.2.99');
  await sleep(1500);
  sample();
  const after = sh(`ip netns exec ${ns} ipvsadm -Sn`);
  const a = new Set(before.split('\n'));
  const b = new Set(after.split('\n'));
  const touched = [...a].filter((l) => !b.has(l)).length + [...b].filter((l) => !a.has(l)).length;
  // More reloads, each replacing that real server again: the first reload of a process
  // runs code that has not been compiled yet, these show the steady state.
  const more = [];
  for (let i = 0; i < RELOADS; i++) {
    more.push(await reloadWith(`192.0.2.${100 + i}`));
    await sleep(1200);
  }
  writeFileSync(conf, config());

  const t2 = performance.now();
  child.kill('SIGTERM');
  const svc = await client(ns);
  const exists = (addr) => svc.getService({ protocol: 'tcp', address: addr, port: 80 }).then(() => true, () => false);
  while (((await exists(vip(0))) || (await exists(mid)) || (await exists(last))) && performance.now() - t2 < 30_000) await sleep(10);
  while (countEntries(ns) > 0 && child.exitCode === null && performance.now() - t2 < 30_000) await sleep(50);
  const stop = (performance.now() - t2) / 1000;
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  const left = countEntries(ns);
  svc.close();
  clients.delete(ns);
  // What a stop left behind is cleared now, outside any measurement: a namespace deleted
  // with tens of thousands of IPVS entries is torn down by the kernel in the background,
  // which would slow down the next measurement.
  if (left > 0) sh(`ip netns exec ${ns} ipvsadm -C`);
  sh(`ip netns del ${ns}`);
  await sleep(3000);
  return { name, startup, rss, reload, reloads: more, touched, stop, left, log };
}

// LVSD_BENCH_PROF=DIR: a CPU profile of lvsd (node --cpu-prof) in DIR (on the host's
// disk, e.g. /var/tmp: the guest's /tmp is its own). LVSD_BENCH_LVSD_ONLY=1 skips keepalived
// (no ratio then): for looking into lvsd's own times.
const prof = process.env.LVSD_BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.LVSD_BENCH_PROF] : [];
// lvsd as users start it: its bin, with the node flags of its #! line.
const bin = `${ROOT}/packages/director/bin/lvsd.js`;
const binFlags = readFileSync(bin, 'utf8').split('\n')[0].split(/\s+/).slice(3);
const lv = await run('lvsd', [process.execPath, ...binFlags, ...prof, bin, '-C', '-D', '-f', conf]);
const ka = process.env.LVSD_BENCH_LVSD_ONLY ? { startup: NaN, rss: NaN, reload: NaN, reloads: [], touched: NaN, stop: NaN, left: NaN } : await run('keepalived', ['keepalived', '-n', '-C', '-f', conf, '-p', `${work}/ka.pid`, '-c', `${work}/kac.pid`]);

console.log(`director benchmark: ${VS} virtual servers x ${RS} real servers (${VS + VS * RS} objects), lab kernel, one CPU`);
console.log('                      keepalived -C      lvsd -C');
const row = (label, k, l, unit, digits = 2) => console.log(`${label.padEnd(22)}${(k.toFixed(digits) + unit).padStart(13)}${(l.toFixed(digits) + unit).padStart(13)}`);
row('start to full table', ka.startup, lv.startup, ' s');
row('peak RSS', ka.rss, lv.rss, ' MB', 1);
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1] ?? NaN;
row('reload visible', ka.reload * 1000, lv.reload * 1000, ' ms', 0);
if (RELOADS) row(`  next ${RELOADS}, median`, median(ka.reloads ?? []) * 1000, median(lv.reloads) * 1000, ' ms', 0);
row('entries changed', ka.touched, lv.touched, '', 0);
row('SIGTERM to empty', ka.stop, lv.stop, ' s');
row('entries left', ka.left, lv.left, '', 0);
// Where lvsd's time went, from its own log (-D): the reload's read and apply, the stop.
// LVSD_BENCH_LOG=all: the whole log.
const timings = lv.log.split('\n').filter((l) => process.env.LVSD_BENCH_LOG === 'all' ? l.trim() : /startup|SIGHUP|configuration read|IPVS and checks|reloaded|SIGTERM|stopp/.test(l));
if (timings.length) console.log(`lvsd log:\n  ${timings.join('\n  ')}`);
console.log(`ratio: startup lvsd vs keepalived = ${(lv.startup / ka.startup).toFixed(3)}`);
