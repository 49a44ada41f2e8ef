#!/usr/bin/env node
// Config loading: loadConfig() time and peak RSS for a generated 5,000 x 10 keepalived.conf.
// Each run is a fresh node process (a daemon loads its config once, cold), so the time
// includes JIT warm-up and the peak RSS is the whole process's (node with @lvsd/director
// imported is ~65 MB before the load). CPU time is printed too: on a busy host it moves
// less than the wall time. For reference, `keepalived -t -f` on the same file (config
// check: keepalived's parse of it), when keepalived and /usr/bin/time are installed.
// Run: npm run bench -- config [runs] [--lab]   (builds packages/director first; on the host,
// or with --lab inside the user-mode Linux lab, where lvsd runs and memory is dear).
// Env: LVSD_BENCH_VS / LVSD_BENCH_RS change the size; LVSD_BENCH_NO_BUILD=1 skips the build.
// Last line: `config: <ms> ms (<cpu> ms CPU), peak RSS <MB> MB (median of N runs, V virtual x R real servers)`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VS = Number(process.env.LVSD_BENCH_VS ?? 5000);
const RS = Number(process.env.LVSD_BENCH_RS ?? 10);

if (process.argv[2] === '--child') {
  // One measured load. Nothing else is imported or allocated before it.
  const { loadConfig } = await import(pathToFileURL(resolve(ROOT, 'packages/director/dist/index.js')).href);
  const rssBefore = process.memoryUsage().rss;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = loadConfig(process.argv[3]);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(c0);
  if (!r.ok) {
    console.error(r.diagnostics.slice(0, 5));
    process.exit(1);
  }
  const reals = r.config.virtualServers.reduce((n, vs) => n + vs.realServers.length, 0);
  // maxRSS is the process's peak (in KiB), taken after the load returned.
  const cpuMs = (cpu.user + cpu.system) / 1000; // every thread of the process (GC helpers too)
  console.log(JSON.stringify({ ms, cpuMs, rssBefore, peak: process.resourceUsage().maxRSS * 1024, vs: r.config.virtualServers.length, reals }));
  process.exit(0);
}

const lab = process.argv.includes('--lab');
const runs = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 5);
if (lab && !process.env.LVSD_LAB) {
  execFileSync('npx', ['tsc', '-b', 'packages/director'], { cwd: ROOT, stdio: 'inherit' });
  const { runInLab } = await import('../lab/run.mjs');
  const env = { ...process.env, LVSD_BENCH_NO_BUILD: '1' };
  const r = await runInLab({ command: [process.execPath, fileURLToPath(import.meta.url), String(runs), '--lab'], cwd: ROOT, mem: '1536M', env });
  if (!r.ok && r.error) console.error(`lab: ${r.error}`);
  process.exit(r.code);
}
const ip = (a, n) => `${a}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const out = ['global_defs {\n  router_id bench\n}\n'];
for (let i = 0; i < VS; i++) {
  out.push(`virtual_server ${ip(10, (100 << 16) + i)} 80 {\n  lb_algo wrr\n  lb_kind DR\n  protocol TCP\n`);
  for (let k = 0; k < RS; k++) out.push(`  real_server ${ip(172, (16 << 16) + i * RS + k)} 80 {\n    weight ${1 + k}\n  }\n`);
  out.push('}\n');
}
const file = `/tmp/lvsd-bench-config-${VS}x${RS}.conf`;
const text = out.join('');
writeFileSync(file, text);
console.log(`${file}: ${text.split('\n').length - 1} lines, ${(text.length / 1e6).toFixed(1)} MB`);

if (!process.env.LVSD_BENCH_NO_BUILD) execFileSync('npx', ['tsc', '-b', 'packages/director'], { cwd: ROOT, stdio: 'inherit' });

const MB = (b) => (b / 2 ** 20).toFixed(0);
const results = [];
for (let i = 0; i < runs; i++) {
  const line = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', file], { encoding: 'utf8' }).trim();
  const m = JSON.parse(line);
  if (m.vs !== VS || m.reals !== VS * RS) throw new Error(`model has ${m.vs} virtual / ${m.reals} real servers, expected ${VS} / ${VS * RS}`);
  results.push(m);
  console.log(`run ${i + 1}: ${m.ms.toFixed(0)} ms (${m.cpuMs.toFixed(0)} ms CPU), peak RSS ${MB(m.peak)} MB (${MB(m.rssBefore)} MB before the load)`);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const keepalived = ['/usr/sbin/keepalived', '/usr/local/sbin/keepalived'].find((p) => existsSync(p));
if (keepalived && existsSync('/usr/bin/time')) {
  const kr = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', keepalived, '-t', '-f', file], { encoding: 'utf8' });
    const m = /([\d.]+) (\d+)\s*$/.exec(r.stderr);
    if (r.status !== 0 || !m) {
      console.log(`keepalived -t: exit ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      break;
    }
    kr.push({ ms: Number(m[1]) * 1000, peak: Number(m[2]) * 1024 });
  }
  if (kr.length === runs) {
    console.log(
      `keepalived -t -f (reference, whole process): ${median(kr.map((r) => r.ms)).toFixed(0)} ms, ` +
        `peak RSS ${MB(median(kr.map((r) => r.peak)))} MB (median of ${runs} runs)`,
    );
  }
}
console.log(
  `config: ${median(results.map((r) => r.ms)).toFixed(0)} ms (${median(results.map((r) => r.cpuMs)).toFixed(0)} ms CPU), ` +
    `peak RSS ${MB(median(results.map((r) => r.peak)))} MB (median of ${runs} runs, ${VS} virtual x ${RS} real servers)`,
);
