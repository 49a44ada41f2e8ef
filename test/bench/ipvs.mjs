#!/usr/bin/env node
// IPVS programming benchmark (not a test): lvsd vs ipvsadm on 10,000 services x 10 real servers, in one lab boot.
// In ONE lab boot, the same table of 10,000 TCP services x 10 direct-routing real
// servers (110,000 objects):
//   - lvsd IpvsTable.apply from empty vs `ipvsadm -R` (a fresh network namespace for
//     each: re-adding after a flush in one namespace is much slower, so never reload),
//   - a full dump: IpvsClient.dumpTable vs `ipvsadm -Sn`,
//   - one destination weight change on the full table: IpvsTable.apply of the whole
//     desired table, and IpvsTable.applyService of the one service (one message, no dump;
//     then five more on other services, median and max),
//   - peak RSS of this process.
// Run: npm run bench -- ipvs   (or: node test/bench/ipvs.mjs). It boots the lab itself.
// LVSD_BENCH_SERVICES / LVSD_BENCH_DESTS change the size. Last line:
// `ratio: apply vs ipvsadm -R = <x>`.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SERVICES = Number(process.env.LVSD_BENCH_SERVICES ?? 10_000);
const DESTS = Number(process.env.LVSD_BENCH_DESTS ?? 10);

if (!process.env.LVSD_LAB) {
  // On the host: build, then run this same file inside the lab and pass its status on.
  execFileSync('npx', ['tsc', '-b', 'packages/ipvs'], { cwd: ROOT, stdio: 'inherit' });
  const { runInLab } = await import('../lab/run.mjs');
  const { loadavg, cpus } = await import('node:os');
  // The lab shares the host's CPUs: other work on the host slows both sides of every ratio.
  console.log(`host: ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} before the boot`);
  const r = await runInLab({ command: [process.execPath, fileURLToPath(import.meta.url)], cwd: ROOT, mem: '1536M' });
  if (!r.ok && r.error) console.error(`lab: ${r.error}`);
  process.exit(r.code);
}

const { IpvsClient, IpvsTable } = await import('@lvsd/ipvs');

const ip = (a, n) => `${a}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const vip = (i) => ip(10, (100 << 16) + i);
const rip = (n) => ip(172, (16 << 16) + n);

function desiredTable() {
  const out = [];
  for (let i = 0; i < SERVICES; i++) {
    const destinations = [];
    for (let k = 0; k < DESTS; k++) destinations.push({ address: rip(i * DESTS + k), port: 80, forwardingMethod: 'route', weight: 1 + k });
    out.push({ protocol: 'tcp', address: vip(i), port: 80, scheduler: 'wlc', destinations });
  }
  return out;
}

/** The same table in ipvsadm -R syntax, written in chunks (no 5 MB string in this process). */
function writeRules(path) {
  const fd = openSync(path, 'w');
  for (let i = 0; i < SERVICES; i++) {
    let s = `-A -t ${vip(i)}:80 -s wlc\n`;
    for (let k = 0; k < DESTS; k++) s += `-a -t ${vip(i)}:80 -r ${rip(i * DESTS + k)}:80 -g -w ${1 + k}\n`;
    writeSync(fd, s);
  }
  closeSync(fd);
}

const namespaces = [];
function freshNetns() {
  const name = `lvsd-bench-${process.pid}-${namespaces.length}`;
  execFileSync('ip', ['netns', 'add', name]);
  namespaces.push(name);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']); // the kernel checks real servers against routes
  return name;
}

/** Times a shell command whose output goes to a file or /dev/null, not into this process. */
function timeSh(cmd) {
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return ms;
}

const objects = SERVICES * (1 + DESTS);
const rate = (ms) => Math.round(objects / (ms / 1000));
const fmt = (ms) => `${ms.toFixed(1)} ms`.padStart(11);
console.log(
  `IPVS bench: ${SERVICES} services x ${DESTS} DR real servers = ${objects} objects; ` +
    `lab kernel ${execFileSync('uname', ['-r']).toString().trim()}, node ${process.version}`,
);

// 1. ipvsadm -R in its own namespace.
writeRules('/tmp/lvsd-bench-rules');
const nsR = freshNetns();
const restoreMs = timeSh(`ip netns exec ${nsR} ipvsadm -R < /tmp/lvsd-bench-rules`);
console.log(`ipvsadm -R         ${fmt(restoreMs)}  ${rate(restoreMs)} objects/s`);

// 2. lvsd apply from empty in another.
const nsA = freshNetns();
const desired = desiredTable();
const client = await IpvsClient.open({ netns: `/run/netns/${nsA}` });
const table = new IpvsTable(client);
const f0 = process.resourceUsage().minorPageFault;
const t0 = performance.now();
const rep = await table.apply(desired);
const applyMs = performance.now() - t0;
const faults = process.resourceUsage().minorPageFault - f0;
console.log(
  `lvsd apply         ${fmt(applyMs)}  ${rate(applyMs)} objects/s (${rep.messages} messages, ${client.counters.sendmsg} sendmsg in all, ${faults} page faults)`,
);

// 3. Full dump.
const sMs = timeSh(`ip netns exec ${nsA} ipvsadm -Sn > /dev/null`);
console.log(`ipvsadm -Sn        ${fmt(sMs)}  ${rate(sMs)} objects/s`);
const d0 = performance.now();
const snap = await client.dumpTable({ stats: false }); // what ipvsadm -Sn shows: no counters
const dumpMs = performance.now() - d0;
let dumped = snap.services.length;
for (const s of snap.services) dumped += s.destinations.length;
if (dumped !== objects) throw new Error(`dump returned ${dumped} objects, expected ${objects}`);
console.log(`lvsd dumpTable     ${fmt(dumpMs)}  ${rate(dumpMs)} objects/s`);

// 4. One destination change on the full table.
const mid = SERVICES >> 1;
let before = client.counters.messages;
desired[mid].destinations[3].weight = 77;
const c0 = performance.now();
const one = await table.apply(desired);
const oneMs = performance.now() - c0;
let sent = client.counters.messages - before;
if (sent !== 1 || one.dumped) throw new Error(`one change sent ${sent} messages (dumped: ${one.dumped})`);
console.log(`one change, apply  ${fmt(oneMs)}  (whole desired table compared; ${sent} message, no dump)`);
before = client.counters.messages;
desired[mid].destinations[4].weight = 78;
const s0 = performance.now();
await table.applyService(desired[mid]);
const svcMs = performance.now() - s0;
sent = client.counters.messages - before;
if (sent !== 1) throw new Error(`applyService sent ${sent} messages`);
console.log(`one change, service${fmt(svcMs)}  (applyService; ${sent} message, no dump)`);
// Five more, each on another service (then put back, unmeasured): one sample can catch
// a garbage collection or a compilation, so the median is the figure for the target.
const more = [];
for (let k = 0; k < 5; k++) {
  const svc = desired[(mid + 1 + k * 997) % SERVICES];
  const was = svc.destinations[2].weight;
  svc.destinations[2].weight = 90 + k;
  before = client.counters.messages;
  const t = performance.now();
  await table.applyService(svc);
  more.push(performance.now() - t);
  if (client.counters.messages - before !== 1) throw new Error('applyService sent more than one message');
  svc.destinations[2].weight = was;
  await table.applyService(svc);
}
const sorted = [...more].sort((a, b) => a - b);
console.log(`one change, service, 5 more: median ${sorted[2].toFixed(1)} ms, max ${sorted[4].toFixed(1)} ms [${more.map((x) => x.toFixed(1)).join(' ')}]`);

const rssMb = process.resourceUsage().maxRSS / 1024;
console.log(`peak RSS           ${rssMb.toFixed(0).padStart(8)} MB`);
client.close();

// 5. Both namespaces hold the same table (after the measurements: sorted by the shell, not here).
const same = spawnSync('sh', [
  '-c',
  `ip netns exec ${nsR} ipvsadm -Sn | sort > /tmp/lvsd-bench-r && ip netns exec ${nsA} ipvsadm -Sn | sort > /tmp/lvsd-bench-a && ` +
    `sed -i 's/-r ${rip(mid * DESTS + 3).replace(/\./g, '\\.')}:80 -g -w 77/-r ${rip(mid * DESTS + 3)}:80 -g -w 4/; s/-r ${rip(mid * DESTS + 4).replace(/\./g, '\\.')}:80 -g -w 78/-r ${rip(mid * DESTS + 4)}:80 -g -w 5/' /tmp/lvsd-bench-a && ` +
    `sort -o /tmp/lvsd-bench-a /tmp/lvsd-bench-a && cmp -s /tmp/lvsd-bench-r /tmp/lvsd-bench-a && wc -l < /tmp/lvsd-bench-a`,
]);
if (same.status !== 0) throw new Error('the tables programmed by ipvsadm -R and lvsd differ');
console.log(`tables identical   yes (${same.stdout.toString().trim()} ipvsadm -Sn lines each, the two changed weights put back)`);
for (const n of namespaces) spawnSync('ip', ['netns', 'del', n]);

console.log(`ratio: dump vs ipvsadm -Sn = ${(sMs / dumpMs).toFixed(2)}`);
console.log(`ratio: apply vs ipvsadm -R = ${(restoreMs / applyMs).toFixed(1)}`);
