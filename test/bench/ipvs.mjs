#!/usr/bin/env node
// IPVS programming benchmark (not a test). In ONE lab boot, the same table of
// 10,000 TCP services x 10 direct-routing real servers (110,000 objects):
//   - lvsd IpvsTable.apply from empty vs `ipvsadm -R` (a fresh network namespace for
//     each: re-adding after a flush in one namespace is much slower, so never reload),
//   - a full dump: IpvsClient.dumpTable vs `ipvsadm -Sn`,
//   - one destination weight change on the full table (sends one message, no dump),
//   - peak RSS of this process.
// Run: npm run bench -- ipvs   (or: node test/bench/ipvs.mjs). It boots the lab itself.
// Last line: `ratio: apply vs ipvsadm -R = <x>`.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SERVICES = Number(process.env.LVSD_BENCH_SERVICES ?? 10_000);
const DESTS = Number(process.env.LVSD_BENCH_DESTS ?? 10);

if (!process.env.LVSD_LAB) {
  // On the host: build, then run this same file inside the lab and pass its status on.
  execFileSync('npx', ['tsc', '-b', 'packages/ipvs'], { cwd: ROOT, stdio: 'inherit' });
  const { runInLab } = await import('../lab/run.mjs');
  const r = await runInLab({ command: [process.execPath, '--expose-gc', fileURLToPath(import.meta.url)], cwd: ROOT, mem: '1536M' });
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

function rulesText() {
  const lines = [];
  for (let i = 0; i < SERVICES; i++) {
    lines.push(`-A -t ${vip(i)}:80 -s wlc`);
    for (let k = 0; k < DESTS; k++) lines.push(`-a -t ${vip(i)}:80 -r ${rip(i * DESTS + k)}:80 -g -w ${1 + k}`);
  }
  return lines.join('\n') + '\n';
}

let nsCount = 0;
function freshNetns() {
  const name = `lvsd-bench-${process.pid}-${nsCount++}`;
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']); // the kernel checks real servers against routes
  return name;
}

function timeCmd(argv, input) {
  const t0 = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { input, maxBuffer: 256 << 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return { ms, stdout: r.stdout.toString() };
}

const objects = SERVICES * (1 + DESTS);
const rate = (ms) => Math.round(objects / (ms / 1000));
const fmt = (ms) => `${ms.toFixed(1)} ms`;
console.log(`IPVS bench: ${SERVICES} services x ${DESTS} DR destinations = ${objects} objects; kernel ${execFileSync('uname', ['-r']).toString().trim()}, node ${process.version}`);

// ipvsadm -R in its own namespace.
const rules = rulesText();
writeFileSync('/tmp/lvsd-bench-rules', rules);
const nsR = freshNetns();
const restore = timeCmd(['ip', 'netns', 'exec', nsR, 'ipvsadm', '-R'], rules);
console.log(`ipvsadm -R:        ${fmt(restore.ms)}  (${rate(restore.ms)} objects/s)`);

// lvsd apply from empty in another.
const nsA = freshNetns();
const desired = desiredTable();
const client = await IpvsClient.open({ netns: `/run/netns/${nsA}` });
const table = new IpvsTable(client);
globalThis.gc?.();
const t0 = performance.now();
const rep = await table.apply(desired);
const applyMs = performance.now() - t0;
console.log(`lvsd apply:        ${fmt(applyMs)}  (${rate(applyMs)} objects/s, ${rep.messages} messages, ${rep.ops.length} ops)`);

// Same table in both namespaces?
const sorted = (s) => s.split('\n').filter(Boolean).sort().join('\n');
const sR = timeCmd(['ip', 'netns', 'exec', nsR, 'ipvsadm', '-Sn']);
const sA = timeCmd(['ip', 'netns', 'exec', nsA, 'ipvsadm', '-Sn']);
if (sorted(sR.stdout) !== sorted(sA.stdout)) throw new Error('the tables programmed by ipvsadm -R and lvsd differ');
console.log(`tables identical:  yes (${sA.stdout.split('\n').filter(Boolean).length} ipvsadm -Sn lines)`);

// Full dump.
const d0 = performance.now();
const snap = await client.dumpTable();
const dumpMs = performance.now() - d0;
const dumped = snap.services.length + snap.services.reduce((n, s) => n + s.destinations.length, 0);
if (dumped !== objects) throw new Error(`dump returned ${dumped} objects, expected ${objects}`);
console.log(`ipvsadm -Sn:       ${fmt(sA.ms)}  (${rate(sA.ms)} objects/s)`);
console.log(`lvsd dumpTable:    ${fmt(dumpMs)}  (${rate(dumpMs)} objects/s)`);

// One destination change on the full table.
const before = client.counters.messages;
desired[SERVICES >> 1].destinations[3].weight = 77;
const c0 = performance.now();
const one = await table.apply(desired);
const oneMs = performance.now() - c0;
const sent = client.counters.messages - before;
if (sent !== 1 || one.dumped) throw new Error(`one change sent ${sent} messages (dumped: ${one.dumped})`);
console.log(`one change:        ${fmt(oneMs)}  (${sent} message, no dump)`);

const rssMb = process.resourceUsage().maxRSS / 1024;
console.log(`peak RSS:          ${rssMb.toFixed(0)} MB`);
client.close();
for (let i = 0; i < nsCount; i++) spawnSync('ip', ['netns', 'del', `lvsd-bench-${process.pid}-${i}`]);

console.log(`ratio: dump vs ipvsadm -Sn = ${(sA.ms / dumpMs).toFixed(2)}`);
console.log(`ratio: apply vs ipvsadm -R = ${(restore.ms / applyMs).toFixed(1)}`);
