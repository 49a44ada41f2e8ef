#!/usr/bin/env node
// Health checks: CPU per check and peak RSS, lvsd vs keepalived's checker (`keepalived -C`), TCP_CHECK and HTTP_GET, one lab boot.
//
//   npm run bench -- health [--scenarios tcp:1000,tcp:10000,http:1000] [--window S] [--warm S] [--strace S]
//
// keepalived's checker needs IPVS, which only the lab kernel has, so both run
// inside one boot of the lab (test/lab/run.mjs), one after the other on the same
// targets: listeners on loopback addresses (a C accept loop when a compiler is
// present, so the guest's single CPU goes to the checkers). Per scenario: checks
// served per second, CPU seconds per 1,000 checks (utime + stime of every thread,
// from /proc), system calls per check (strace -c, when strace is installed) and
// peak RSS (VmHWM). The last line compares CPU per check for TCP_CHECK on 1,000
// real servers at delay_loop 1, the setting the issue measured keepalived at.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runInLab } from '../lab/run.mjs';

const args = process.argv.slice(2);
const tsc = spawnSync(join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-b', 'packages/health'], { cwd: REPO_ROOT, stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('health bench: tsc -b packages/health failed');
  process.exit(1);
}
const outDir = mkdtempSync(join(tmpdir(), 'lvsd-health-bench-'));
const r = await runInLab({ command: ['node', 'test/bench/_health-inner.mjs', ...args], outDir, timeoutMs: 40 * 60_000, stdout: null });
if (!r.ok || r.code !== 0) {
  console.error(`health bench: lab run failed (${r.error ?? `exit ${r.code}`})`);
  process.exit(1);
}
const res = JSON.parse(readFileSync(join(outDir, 'health.json'), 'utf8'));
rmSync(outDir, { recursive: true, force: true });

const rows = res.results;
const pad = (s, n) => String(s).padStart(n);
console.log(`lab kernel ${res.kernel}, node ${res.node}, delay_loop 1; median of ${res.rounds} runs of ${res.window} s after ${res.warm} s warm-up`);
console.log(`(syscalls/check and "light" us/check: a separate run on fewer real servers, under strace)`);
console.log(`${'scenario'.padEnd(16)}${'impl'.padEnd(12)}${pad('checks/s', 9)}${pad('CPU s/1000', 11)}${pad('us/check', 9)}${pad('runs', 18)}${pad('syscalls', 9)}${pad('peak RSS MB', 12)}`);
const fix = (v, d) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '-');
for (const x of rows) {
  if (x.failedRounds) console.log(`(${x.kind === 'http' ? 'HTTP_GET' : 'TCP_CHECK'} ${x.targets} ${x.name}: ${x.failedRounds} round(s) dropped: almost nothing served)`);
  console.log(
    `${`${x.kind === 'http' ? 'HTTP_GET' : 'TCP_CHECK'} ${x.targets}`.padEnd(16)}${x.name.padEnd(12)}${pad(x.checksPerSec, 9)}${pad(fix(x.cpuPer1000, 3), 11)}${pad(fix(x.usPerCheck, 0), 9)}${pad(x.usPerCheckRuns.map((u) => u.toFixed(0)).join('/'), 18)}${pad(x.syscallsPerCheck ?? '-', 9)}${pad(x.peakRssMb, 12)}`,
  );
}
const ratio = (kind, n) => {
  const l = rows.find((x) => x.name === 'lvsd' && x.kind === kind && x.targets === n);
  const k = rows.find((x) => x.name === 'keepalived' && x.kind === kind && x.targets === n);
  return l?.usPerCheck && k?.usPerCheck ? l.usPerCheck / k.usPerCheck : NaN;
};
for (const s of new Set(rows.map((x) => `${x.kind}:${x.targets}`))) {
  const [kind, n] = s.split(':');
  console.log(`${kind === 'http' ? 'HTTP_GET' : 'TCP_CHECK'} ${n}: cpu per check lvsd / keepalived = ${ratio(kind, Number(n)).toFixed(2)}`);
}
const head = rows.some((x) => x.kind === 'tcp' && x.targets === 1000) ? ratio('tcp', 1000) : ratio(rows[0].kind, rows[0].targets);
console.log(`ratio: cpu per check lvsd vs keepalived = ${head.toFixed(2)}`);
