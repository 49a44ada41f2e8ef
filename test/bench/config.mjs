#!/usr/bin/env node
// Config loading: loadConfig() time and peak RSS for a generated 5,000 x 10 keepalived.conf.
// Each run is a fresh node process (a daemon loads its config once, cold), so the time
// includes JIT warm-up and the peak RSS is the whole process's (node itself is ~45 MB).
// Run: npm run bench -- config [runs]   (builds packages/director first; on the host, no lab).
// Env: LVSD_BENCH_VS / LVSD_BENCH_RS change the size; LVSD_BENCH_NO_BUILD=1 skips the build.
// Last line: `config: <ms> ms, peak RSS <MB> MB (median of N runs, V virtual x R real servers)`.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VS = Number(process.env.LVSD_BENCH_VS ?? 5000);
const RS = Number(process.env.LVSD_BENCH_RS ?? 10);

if (process.argv[2] === '--child') {
  // One measured load. Nothing else is imported or allocated before it.
  const { loadConfig } = await import(pathToFileURL(resolve(ROOT, 'packages/director/dist/index.js')).href);
  const rssBefore = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  const r = loadConfig(process.argv[3]);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!r.ok) {
    console.error(r.diagnostics.slice(0, 5));
    process.exit(1);
  }
  const reals = r.config.virtualServers.reduce((n, vs) => n + vs.realServers.length, 0);
  // maxRSS is the process's peak (in KiB), taken after the load returned.
  console.log(JSON.stringify({ ms, rssBefore, peak: process.resourceUsage().maxRSS * 1024, vs: r.config.virtualServers.length, reals }));
  process.exit(0);
}

const runs = Number(process.argv[2] ?? 5);
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
  console.log(`run ${i + 1}: ${m.ms.toFixed(0)} ms, peak RSS ${MB(m.peak)} MB (${MB(m.rssBefore)} MB before the load)`);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(
  `config: ${median(results.map((r) => r.ms)).toFixed(0)} ms, peak RSS ${MB(median(results.map((r) => r.peak)))} MB ` +
    `(median of ${runs} runs, ${VS} virtual x ${RS} real servers)`,
);
