// Runs inside the lab (one boot): for each scenario, keepalived's checker
// process (`keepalived -C`) and lvsd's HealthChecker, one after the other, on
// the same targets. Measures CPU (utime + stime from /proc, all threads), checks
// served by the listener, peak RSS (VmHWM) and, with strace, system calls per check.
//
//   node test/bench/_health-inner.mjs [--scenarios tcp:1000,tcp:10000,http:1000] [--rounds N] [--warm S] [--window S]
//                                     [--strace S] [--strace-targets N]
//
// The lab has one CPU and slow system calls: 1,000 checks a second already
// saturate it (checker + listener), and host load shows up as guest CPU time of
// whatever runs. So keepalived and lvsd run side by side, over the same
// seconds, each on its own copy of the targets (own listener port): both see
// the same noise and get the CPU the guest scheduler shares out. Each scenario
// runs `rounds` times and the median is kept.
// System calls per check are counted in a separate light run (strace-targets
// real servers, default 200), where the CPU is not saturated and strace's own
// slowdown does not distort the count.
import { fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const scenarios = arg('scenarios', 'tcp:1000,tcp:10000,http:1000').split(',').map((s) => {
  const [kind, n] = s.split(':');
  return { kind, n: Number(n) };
});
const WARM = Number(arg('warm', '6'));
const WINDOW = Number(arg('window', '20'));
const STRACE = Number(arg('strace', '5'));
const STRACE_TARGETS = Number(arg('strace-targets', '200'));
const ROUNDS = Number(arg("rounds", "3"));
const PORT = 8080;
const HZ = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || 100);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tmp = mkdtempSync(join(tmpdir(), 'hc-bench-'));

const sysctl = (k, v) => spawnSync('sysctl', ['-qw', `${k}=${v}`]);
sysctl('net.core.somaxconn', 8192);
sysctl('net.ipv4.tcp_max_syn_backlog', 8192);
sysctl('net.ipv4.ip_local_port_range', '1024 65000');
sysctl('fs.file-max', 1000000);

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}
function minorFaults(pid) {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[7]); // minflt (field 10)
}
function hwmKb(pid) {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function ask(child, msg, key) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m && key in m) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}
const ready = (child) => new Promise((r, j) => (child.once('message', (m) => (m.ready ? r() : j(new Error('not ready')))), child.once('exit', (c) => j(new Error(`exited ${c}`)))));

/** System calls made by every thread of pid during `secs`, and the listener's count meanwhile. */
async function straceCount(pid, listener, secs) {
  if (!secs || spawnSync('which', ['strace']).status !== 0) return null;
  const tids = readdirSync(`/proc/${pid}/task`);
  const out = join(tmp, `strace-${pid}`);
  const st = spawn('strace', ['-c', '-q', '-o', out, ...tids.flatMap((t) => ['-p', t])], { stdio: 'ignore' });
  await sleep(500); // attached
  // Long enough for a few hundred checks, so the window's edges do not matter.
  const a = await listener.count();
  const t0 = performance.now();
  let b = a;
  while (performance.now() - t0 < 30_000 && (performance.now() - t0 < secs * 1000 || b - a < 300)) {
    await sleep(500);
    b = await listener.count();
  }
  st.kill('SIGINT');
  await new Promise((r) => st.once('exit', r));
  const text = existsSync(out) ? readFileSync(out, 'utf8') : '';
  // strace -c rows: % time, seconds, usecs/call, calls, [errors], syscall
  const rows = text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 5 && /^\d/.test(f[0]))
    .map((f) => ({ name: f.at(-1), calls: Number(f[3]) }));
  const totalRow = rows.find((r) => r.name === 'total');
  const calls = totalRow ? totalRow.calls : rows.reduce((x, r) => x + r.calls, 0);
  const top = rows.filter((r) => r.name !== 'total').sort((x, y) => y.calls - x.calls).slice(0, 8);
  if (b - a < 100) return null; // too few checks under strace to say
  return { calls, checks: b - a, perCheck: calls / (b - a), top };
}

/** A real-server address for target i: 127.1.A.B, B in 1..250. */
export const targetAddress = (i) => `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;

// The C listener if a compiler is at hand (a Node one would eat the lab's one CPU).
const CLISTENER = join(tmp, 'listener');
const haveC = spawnSync('cc', ['-O2', '-o', CLISTENER, join(here, '_health-listener.c')]).status === 0;

async function startListener(kind, port = PORT) {
  if (!haveC) {
    const child = fork(join(here, '_health-listener.mjs'), [kind, String(port)], { stdio: 'inherit' });
    await ready(child);
    return {
      impl: 'node',
      pid: child.pid,
      count: async () => (await ask(child, 'count', 'served')).served,
      stop: async () => (child.send('exit'), await new Promise((r) => child.once('exit', r))),
    };
  }
  const child = spawn(CLISTENER, [kind, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  let waiting;
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    if (waiting && lines.length) waiting();
  });
  const next = async () => {
    while (!lines.length) await new Promise((r) => (waiting = r));
    return lines.shift();
  };
  if ((await next()) !== 'ready') throw new Error('listener failed');
  return {
    impl: 'c',
    pid: child.pid,
    count: async () => (child.kill('SIGUSR1'), Number(await next())),
    stop: async () => (child.kill('SIGKILL'), await new Promise((r) => child.once('exit', r))),
  };
}

function keepalivedConf(kind, n, port = PORT) {
  const lines = ['global_defs {', '  router_id hcbench', '  script_user root', '}'];
  const per = 1000;
  for (let v = 0; v * per < n; v++) {
    lines.push(`virtual_server 10.200.${v >> 8}.${(v & 255) + 1} 80 {`, '  delay_loop 1', '  lb_algo rr', '  lb_kind NAT', '  protocol TCP');
    for (let i = v * per; i < Math.min(n, (v + 1) * per); i++) {
      const chk =
        kind === 'http'
          ? `    HTTP_GET {\n      url {\n        path /\n        status_code 200\n      }\n      connect_timeout 3\n    }`
          : `    TCP_CHECK {\n      connect_timeout 3\n    }`;
      lines.push(`  real_server ${targetAddress(i)} ${port} {`, '    weight 1', chk, '  }');
    }
    lines.push('}');
  }
  return lines.join('\n') + '\n';
}

async function startKeepalived(kind, n, port = PORT) {
  const conf = join(tmp, `keepalived-${kind}-${n}.conf`);
  writeFileSync(conf, keepalivedConf(kind, n, port));
  const pidf = join(tmp, 'k.pid');
  const cpidf = join(tmp, 'kc.pid');
  const p = spawn('keepalived', ['-C', '-n', '-f', conf, '-p', pidf, '-c', cpidf, '--no-syslog'], { stdio: 'ignore' });
  let cpid;
  for (let i = 0; i < 600 && !cpid; i++) {
    await sleep(50);
    if (existsSync(cpidf)) cpid = Number(readFileSync(cpidf, 'utf8').trim()) || undefined;
  }
  if (!cpid) throw new Error('keepalived checker did not start');
  return {
    pid: cpid,
    attempts: async () => undefined,
    stop: async () => {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
      spawnSync('ipvsadm', ['-C']);
    },
  };
}

async function startLvsd(kind, n, port = PORT) {
  const execArgv = (process.env.LVSD_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const c = fork(join(here, '_health-lvsd.mjs'), [kind, String(n), String(port)], { stdio: 'inherit', execArgv });
  await ready(c);
  return {
    pid: c.pid,
    attempts: async () => (await ask(c, 'stats', 'attempts')).attempts,
    stop: async () => {
      c.send('exit');
      await new Promise((r) => c.once('exit', r));
    },
  };
}

async function measure(name, kind, n, start, { strace = false } = {}) {
  const listener = await startListener(kind);
  const subj = await start(kind, n);
  await sleep(WARM * 1000);
  const c0 = cpuTicks(subj.pid);
  const f0 = minorFaults(subj.pid);
  const s0 = await listener.count();
  const t0 = performance.now();
  await sleep(WINDOW * 1000);
  const c1 = cpuTicks(subj.pid);
  const f1 = minorFaults(subj.pid);
  const s1 = await listener.count();
  const secs = (performance.now() - t0) / 1000;
  const sys = strace ? await straceCount(subj.pid, listener, STRACE) : null;
  const hwm = hwmKb(subj.pid);
  const lc = cpuTicks(listener.pid);
  await subj.stop();
  await listener.stop();
  const cpu = (c1 - c0) / HZ;
  const checks = s1 - s0;
  const r = {
    name,
    kind,
    targets: n,
    seconds: +secs.toFixed(2),
    checks,
    checksPerSec: +(checks / secs).toFixed(0),
    cpuSeconds: +cpu.toFixed(2),
    cpuPer1000: +((cpu / checks) * 1000).toFixed(4),
    usPerCheck: +((cpu / checks) * 1e6).toFixed(1),
    peakRssMb: +(hwm / 1024).toFixed(1),
    faultsPerCheck: +((f1 - f0) / checks).toFixed(2),
    syscallsPerCheck: sys ? +sys.perCheck.toFixed(1) : null,
    syscallTop: sys?.top ?? null,
    listener: listener.impl,
    listenerCpuSeconds: lc / HZ,
  };
  console.error(`[${name} ${kind}:${n}] ${JSON.stringify(r)}`);
  return r;
}

/**
 * Both checkers at once, each on its own targets and listener port: the lab
 * kernel charges whoever runs when the host steals its CPU, so only checkers
 * measured over the same seconds see the same noise.
 */
async function measureSideBySide(kind, n) {
  const subjects = [
    { name: 'keepalived', port: PORT, start: startKeepalived },
    { name: 'lvsd', port: PORT + 1, start: startLvsd },
  ];
  for (const x of subjects) x.listener = await startListener(kind, x.port);
  for (const x of subjects) x.subj = await x.start(kind, n, x.port);
  await sleep(WARM * 1000);
  const t0 = performance.now();
  for (const x of subjects) {
    x.c0 = cpuTicks(x.subj.pid);
    x.f0 = minorFaults(x.subj.pid);
    x.s0 = await x.listener.count();
  }
  await sleep(WINDOW * 1000);
  for (const x of subjects) {
    x.c1 = cpuTicks(x.subj.pid);
    x.f1 = minorFaults(x.subj.pid);
    x.s1 = await x.listener.count();
  }
  const secs = (performance.now() - t0) / 1000;
  const out = [];
  for (const x of subjects) {
    const hwm = hwmKb(x.subj.pid);
    await x.subj.stop();
    await x.listener.stop();
    const cpu = (x.c1 - x.c0) / HZ;
    const checks = x.s1 - x.s0;
    const r = {
      name: x.name,
      kind,
      targets: n,
      seconds: +secs.toFixed(2),
      checks,
      checksPerSec: +(checks / secs).toFixed(0),
      cpuSeconds: +cpu.toFixed(2),
      cpuPer1000: +((cpu / checks) * 1000).toFixed(4),
      usPerCheck: +((cpu / checks) * 1e6).toFixed(1),
      peakRssMb: +(hwm / 1024).toFixed(1),
      faultsPerCheck: +((x.f1 - x.f0) / checks).toFixed(2),
    };
    console.error(`[side by side ${x.name} ${kind}:${n}] ${JSON.stringify(r)}`);
    out.push(r);
  }
  return out;
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const results = [];
for (const s of scenarios) {
  const runs = { keepalived: [], lvsd: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const x of await measureSideBySide(s.kind, s.n)) runs[x.name].push(x);
  }
  const light = {};
  if (STRACE > 0 && spawnSync('which', ['strace']).status === 0) {
    for (const name of ['keepalived', 'lvsd']) {
      light[name] = await measure(name, s.kind, Math.min(STRACE_TARGETS, s.n), name === 'lvsd' ? startLvsd : startKeepalived, { strace: true });
    }
  }
  for (const name of ['keepalived', 'lvsd']) {
    // A round where either checker got almost nothing served says nothing about
    // CPU per check (the guest was stuck: it happens under 10,000 targets).
    const good = (i) => runs.keepalived[i].checks >= 100 && runs.lvsd[i].checks >= 100;
    const rs = runs[name].filter((_, i) => good(i));
    const failedRounds = runs[name].length - rs.length;
    if (!rs.length) {
      results.push({ name, kind: s.kind, targets: s.n, rounds: 0, failedRounds, checksPerSec: 0, cpuPer1000: null, usPerCheck: null, usPerCheckRuns: [], peakRssMb: null, faultsPerCheck: null, syscallsPerCheck: light[name]?.syscallsPerCheck ?? null, syscallTop: null, syscallTargets: null, lightUsPerCheck: null });
      continue;
    }
    const m = (k) => median(rs.map((x) => x[k]));
    results.push({
      name,
      kind: s.kind,
      targets: s.n,
      rounds: rs.length,
      failedRounds,
      checksPerSec: m('checksPerSec'),
      cpuPer1000: +m('cpuPer1000').toFixed(4),
      usPerCheck: +m('usPerCheck').toFixed(1),
      usPerCheckRuns: rs.map((x) => x.usPerCheck),
      peakRssMb: Math.max(...rs.map((x) => x.peakRssMb)),
      faultsPerCheck: m('faultsPerCheck'),
      syscallsPerCheck: light[name]?.syscallsPerCheck ?? null,
      syscallTop: light[name]?.syscallTop ?? null,
      syscallTargets: light[name] ? light[name].targets : null,
      lightUsPerCheck: light[name]?.usPerCheck ?? null,
    });
  }
}
const out = { kernel: spawnSync('uname', ['-r']).stdout.toString().trim(), node: process.version, warm: WARM, window: WINDOW, rounds: ROUNDS, results };
if (process.env.LVSD_LAB_OUT) writeFileSync(join(process.env.LVSD_LAB_OUT, 'health.json'), JSON.stringify(out, null, 2));
console.log(JSON.stringify(out));
