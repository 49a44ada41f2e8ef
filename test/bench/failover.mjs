#!/usr/bin/env node
// VRRP failover: lvsd pair vs keepalived pair in the same namespaces (kill -9, SIGTERM, false takeovers under load)
//
//   npm run bench -- failover [--runs 5] [--quick] [--only 1,0.1,0.02]
//
// Two directors a (priority 150, master) and b (priority 100) on a bridge, run by
// lvsd (test/netns/vrrp/runner.mjs, one process each) or by keepalived 2.2, at
// advert_int 1 (v2), 0.1 and 0.02 (v3). Failover time runs from the signal to the
// master until the VIP is on b's interface (the RTM_NEWADDR event in b's
// namespace: from then on b's kernel answers for it). The signal is sent half an
// advert interval after an advert from a was seen on b's side, so both
// implementations are hit at the same phase. False takeovers: the VIP appearing
// on b while a is alive, under busy loops on every core, and under a stalled
// master (lvsd: its event loop blocked for 500 ms every 1.5 s; keepalived: its
// VRRP process stopped with SIGSTOP for 500 ms every 1.5 s).
import { execFileSync, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { consts, decodeAttrs, ipToBytes, NetlinkSocket, RawSocket } from '@lvsd/native';
import { createLab, keepalivedConf, sleep, startKeepalived, startLvsd, waitFor, hasAddress } from '../netns/vrrp/lab.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const flag = (n, d) => {
  const i = args.indexOf(n);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const QUICK = args.includes('--quick');
const RUNS = flag('--runs', QUICK ? 3 : 5);
const CORES = cpus().length;

if (process.getuid?.() !== 0) {
  console.error('failover: needs root (network namespaces, raw sockets)');
  process.exit(2);
}
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/vrrp'], { cwd: root, stdio: 'inherit' });

const ALL_CONFIGS = [
  { key: '1', label: 'advert_int 1 (v2)', version: 2, advertInt: 1 },
  { key: '0.1', label: 'advert_int 0.1 (v3)', version: 3, advertInt: 0.1 },
  { key: '0.02', label: 'advert_int 0.02 (v3)', version: 3, advertInt: 0.02 },
];
// --only 0.1,0.02 runs a subset (the last line needs 0.1)
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;
const CONFIGS = ALL_CONFIGS.filter((c) => !only || only.includes(c.key));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'n/a');

/** Timestamps of RTM_NEWADDR for `vip` in a namespace. */
function watchVip(netns, vip) {
  const sock = NetlinkSocket.open(consts.NETLINK_ROUTE, { netns, groups: [5 /* RTNLGRP_IPV4_IFADDR */] });
  const want = ipToBytes(vip);
  const added = [];
  const waiters = new Set();
  sock.on('message', (m) => {
    if (m.type !== 20) return;
    const a = decodeAttrs(m.buf, m.start + 8, m.end, { local: { id: 2, type: 'binary' } });
    if (a.local && a.local.equals(want)) {
      added.push(performance.now());
      for (const w of waiters) w();
    }
  });
  sock.listen();
  return {
    added,
    next(after, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const t = added.find((x) => x >= after);
          if (t !== undefined) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(t);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no VIP on the backup within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => sock.close(),
  };
}

/** Adverts from `src` as seen in a namespace (to time the kill to a fixed phase). */
function watchAdverts(name, src) {
  const ifindex = Number(execFileSync('ip', ['netns', 'exec', name, 'cat', '/sys/class/net/eth0/ifindex'], { encoding: 'utf8' }).trim());
  const sock = new RawSocket(consts.AF_INET, consts.SOCK_RAW, 112, { netns: `/var/run/netns/${name}` });
  const mreqn = Buffer.alloc(12);
  ipToBytes('224.0.0.18').copy(mreqn, 0);
  mreqn.writeInt32LE(ifindex, 8);
  sock.setOption(consts.SOL_IP, consts.IP_ADD_MEMBERSHIP, mreqn);
  const from = ipToBytes(src);
  let last = 0;
  const waiters = new Set();
  sock.on('message', (m) => {
    if (m.data.length >= 20 && m.data.subarray(12, 16).equals(from) && m.data[22] !== 0) {
      last = performance.now();
      for (const w of [...waiters]) w();
    }
  });
  sock.listen();
  return {
    nextAdvert: (timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const done = () => {
          waiters.delete(done);
          clearTimeout(t);
          resolve(last);
        };
        const t = setTimeout(() => {
          waiters.delete(done);
          reject(new Error('no advert from the master'));
        }, timeoutMs);
        waiters.add(done);
      }),
    close: () => sock.close(),
  };
}

function startPeer(impl, lab, m, cfg, priority, extra = []) {
  const vip = `${lab.ip4.a.split('.').slice(0, 3).join('.')}.100`;
  if (impl === 'keepalived') {
    return startKeepalived(lab, m, keepalivedConf({ vrid: 50, priority, version: cfg.version, advertInt: cfg.advertInt, vips: [`${vip}/24`] }), `${m}${Math.random()}`);
  }
  return startLvsd(
    lab,
    m,
    { name: 'VI_1', interface: 'eth0', virtualRouterId: 50, priority, version: cfg.version, advertInt: cfg.advertInt, virtualIpaddress: [`${vip}/24`], garpMasterDelay: 0 },
    extra,
  );
}

/** Waits until a alone holds the VIP for `stableMs`. */
async function converge(lab, vip, cfg) {
  const stableMs = Math.max(600, cfg.advertInt * 3000);
  await waitFor(
    async () => {
      if (!hasAddress(lab, 'a', vip) || hasAddress(lab, 'b', vip)) return false;
      await sleep(stableMs);
      return hasAddress(lab, 'a', vip) && !hasAddress(lab, 'b', vip);
    },
    30_000,
    'a alone master',
    20,
  );
}

async function failovers(impl, cfg, signal, lab, state) {
  const vip = `${lab.ip4.a.split('.').slice(0, 3).join('.')}.100`;
  const times = [];
  for (let r = 0; r < RUNS; r++) {
    await converge(lab, vip, cfg);
    const seenAt = await state.adverts.nextAdvert();
    const killAt = seenAt + (cfg.advertInt * 1000) / 2;
    while (performance.now() < killAt) await sleep(Math.max(0, Math.min(2, killAt - performance.now())));
    const t0 = performance.now();
    state.a.kill(signal);
    const t1 = await state.vipOnB.next(t0, 10_000);
    times.push(t1 - t0);
    await state.a.exited;
    state.a = startPeer(impl, lab, 'a', cfg, 150);
  }
  return times;
}

async function falseTakeovers(lab, state, cfg, seconds, load) {
  const vip = `${lab.ip4.a.split('.').slice(0, 3).join('.')}.100`;
  await converge(lab, vip, cfg);
  const from = performance.now();
  const stop = await load();
  await sleep(seconds * 1000);
  await stop();
  await sleep(Math.max(200, cfg.advertInt * 4000));
  return state.vipOnB.added.filter((t) => t >= from).length;
}

function busyLoops(n, seconds) {
  return async () => {
    const kids = [];
    for (let i = 0; i < n; i++) {
      kids.push(spawn(process.execPath, ['-e', `const e=Date.now()+${seconds * 1000};while(Date.now()<e);`], { stdio: 'ignore' }));
    }
    return async () => {
      for (const k of kids) try { process.kill(k.pid, 'SIGKILL'); } catch {}
    };
  };
}

/** keepalived's equivalent of a blocked event loop: its VRRP process stopped for `blockMs` every `everyMs`. */
function stallKeepalived(p, blockMs, everyMs) {
  return async () => {
    const pid = p.vrrpPid();
    const timer = setInterval(() => {
      try {
        process.kill(pid, 'SIGSTOP');
        setTimeout(() => process.kill(pid, 'SIGCONT'), blockMs);
      } catch {}
    }, everyMs);
    return async () => {
      clearInterval(timer);
      await sleep(blockMs + 10);
      try { process.kill(pid, 'SIGCONT'); } catch {}
    };
  };
}

const results = {};
let net = 40;
for (const cfg of CONFIGS) {
  for (const impl of ['lvsd', 'keepalived']) {
    const lab = createLab({ net: net++ });
    const vip = `10.77.${net - 1}.100`;
    const state = {};
    try {
      state.vipOnB = watchVip(`/var/run/netns/${lab.ns.b}`, vip);
      state.adverts = watchAdverts(lab.ns.b, lab.ip4.a);
      state.b = startPeer(impl, lab, 'b', cfg, 100);
      state.a = startPeer(impl, lab, 'a', cfg, 150);
      const kill = await failovers(impl, cfg, 'SIGKILL', lab, state);
      const term = await failovers(impl, cfg, 'SIGTERM', lab, state);
      const seconds = QUICK ? 4 : 8;
      const busy = await falseTakeovers(lab, state, cfg, seconds, busyLoops(CORES, seconds));
      const r = { kill, term, busy };
      if (cfg.key === '0.02') r.busy64 = await falseTakeovers(lab, state, cfg, seconds, busyLoops(64, seconds));
      if (cfg.key !== '0.02') {
        // a stalled master: 500 ms every 1.5 s
        await converge(lab, vip, cfg);
        state.a.kill('SIGKILL');
        await state.a.exited;
        state.a = startPeer(impl, lab, 'a', cfg, 150, impl === 'lvsd' ? ['--block-ms', '500', '--block-every', '1500'] : []);
        if (impl === 'keepalived') await state.a.ready();
        r.stall = await falseTakeovers(lab, state, cfg, QUICK ? 6 : 12, impl === 'lvsd' ? async () => async () => {} : stallKeepalived(state.a, 500, 1500));
      }
      results[`${impl} ${cfg.key}`] = r;
      console.log(
        `${impl.padEnd(10)} ${cfg.label.padEnd(22)} kill -9 median ${ms(median(kill))} [${kill.map((x) => x.toFixed(0)).join(' ')}]  ` +
          `SIGTERM median ${ms(median(term))} [${term.map((x) => x.toFixed(0)).join(' ')}]  ` +
          `false takeovers: busy x${CORES} ${busy}${r.busy64 !== undefined ? `, busy x64 ${r.busy64}` : ''}${r.stall !== undefined ? `, stalled master ${r.stall}` : ''}`,
      );
    } finally {
      state.vipOnB?.close();
      state.adverts?.close();
      lab.cleanup();
    }
  }
}

console.log('\nsummary (medians; ratio = lvsd / keepalived, lower is better for lvsd)');
for (const cfg of CONFIGS) {
  const l = results[`lvsd ${cfg.key}`];
  const k = results[`keepalived ${cfg.key}`];
  const rk = median(l.kill) / median(k.kill);
  const rt = median(l.term) / median(k.term);
  const bound = 3 * cfg.advertInt * 1000 + ((256 - 100) / 256) * (cfg.version === 2 ? 1000 : cfg.advertInt * 1000) + 20;
  console.log(
    `${cfg.label.padEnd(22)} kill -9: lvsd ${ms(median(l.kill))} keepalived ${ms(median(k.kill))} ratio ${rk.toFixed(3)} (bound ${ms(bound)}); ` +
      `SIGTERM: lvsd ${ms(median(l.term))} keepalived ${ms(median(k.term))} ratio ${rt.toFixed(3)}`,
  );
}
console.log(`JSON ${JSON.stringify({ runs: RUNS, cores: CORES, results })}`);
if (results['lvsd 0.1']) {
  const x = median(results['lvsd 0.1'].kill) / median(results['keepalived 0.1'].kill);
  console.log(`ratio: failover lvsd vs keepalived at 0.1 s = ${x.toFixed(3)}`);
}
