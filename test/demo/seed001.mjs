// The demo scenario (runs inside the lab as root): the seed 001 dual-master LVS-DR
// setup with lvsd on both directors, then failover, a real server going away and
// coming back, a mixed pair (lvsd + keepalived 2.2), and a reload under a live
// connection. Prints a timeline; exits non-zero as soon as an expectation fails.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Seed001, spawnIn, VIP1, VIP2 } from '../topology/seed001.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const configs = process.env.LVSD_SEED_CONFIGS ?? `${root}test/fixtures/config`;
const cli = `${root}packages/director/dist/cli.js`;
const work = process.env.LVSD_DEMO_DIR ?? '/tmp/lvsd-demo';
const verbose = process.argv.includes('--verbose');
const t0 = Date.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const stamp = () => ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
const say = (msg) => console.log(`${stamp()}  ${msg}`);
const indent = (text) => text.split('\n').map((l) => `          ${l}`).join('\n');
const results = [];
const SLACK = Number(process.env.LVSD_DEMO_SLACK ?? 2);

async function until(what, fn, timeoutMs) {
  const start = Date.now();
  // Upper bounds only (a passing run never waits for them), multiplied: the lab shares
  // the machine's cores with whatever else runs, and a loaded machine is slow to fork.
  while (Date.now() - start < timeoutMs * SLACK) {
    if (await fn()) return (Date.now() - start) / 1000;
    await sleep(200);
  }
  throw new Error(`expected within ${timeoutMs / 1000} s: ${what}`);
}

function check(name, ok, detail = '') {
  results.push({ name, ok, detail });
  say(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
  if (!ok) throw new Error(`failed: ${name}`);
}

const topo = new Seed001();
const daemons = {};

function startLvsd(d, conf) {
  const child = topo.track(spawnIn(topo.ns[d], process.execPath, [cli, '-l', '--log-json', '-f', conf, '-p', `${work}/${d}.pid`]));
  child.stderr.setEncoding('utf8');
  let buf = '';
  child.stderr.on('data', (s) => {
    buf += s;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const e = JSON.parse(line);
        if (e.event === 'vrrp-state') say(`${d} lvsd: ${e.instance} -> ${e.to} (${e.reason})`);
        else if (e.event === 'real-server' || e.event === 'quorum' || e.event === 'reloaded' || e.event === 'drained') say(`${d} lvsd: ${e.msg}`);
        else if (verbose || e.level === 'error') say(`${d} lvsd: ${e.level} ${e.msg}`);
      } catch {
        if (line.trim()) say(`${d} lvsd: ${line}`);
      }
    }
  });
  daemons[d] = { kind: 'lvsd', child };
  return child;
}

function startKeepalived(d, conf) {
  const child = topo.track(
    spawnIn(topo.ns[d], 'keepalived', ['-n', '-l', '-f', conf, '-p', `${work}/${d}-ka.pid`, '-r', `${work}/${d}-ka-vrrp.pid`, '-c', `${work}/${d}-ka-check.pid`]),
  );
  child.stdout.resume();
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s) => {
    for (const l of s.split('\n')) if (/Entering (MASTER|BACKUP|FAULT)/.test(l)) say(`${d} keepalived: ${l.replace(/^.*?: /, '').trim()}`);
  });
  daemons[d] = { kind: 'keepalived', child };
  return child;
}

function stopDaemon(d, sig) {
  const { child } = daemons[d];
  delete daemons[d];
  child.kill(sig);
  return new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
}

// A client fetching both VIPs every 200 ms; a one-line summary per phase.
// Counted by when the request was sent: answers still in flight from before a reset
// (the client may lag on a busy lab) belong to the previous phase.
let tally = new Map();
let tallyFrom = 0;
function resetTally() {
  const t = tally;
  tally = new Map();
  tallyFrom = Date.now();
  return t;
}
function summary(t) {
  return [VIP1, VIP2]
    .map((vip) => {
      const m = t.get(vip) ?? new Map();
      const parts = [...m.entries()].map(([k, n]) => `${k} x${n}`).join(', ');
      return `${vip}: ${parts || 'no answers'}`;
    })
    .join('   ');
}
const answered = (t, vip) => [...(t.get(vip) ?? new Map()).keys()].filter((k) => k.startsWith('rs'));

async function main() {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(work, { recursive: true });
  for (const f of ['seed001-node1.conf', 'seed001-node2.conf']) copyFileSync(`${configs}/${f}`, `${work}/${f}`);
  const n1 = `${work}/seed001-node1.conf`;
  const n2 = `${work}/seed001-node2.conf`;

  console.log('lvsd demo: seed 001, dual-master LVS-DR, inside the lab kernel');
  topo.up();
  await topo.startHttp('rs1');
  await topo.startHttp('rs2');
  say(`topology: directors d1 d2 (${'eno16777736'}), real servers rs1 rs2 (HTTP, VIPs on lo, arp_ignore 1 / arp_announce 2), client`);
  // In LVS-DR a director sees only the client's half of a connection: if the client's
  // FIN is lost (the lab's bridge drops packets when the machine is busy) the entry stays
  // ESTABLISHED for IPVS's default 15 minutes, and wlc counts an active connection as 256
  // inactive ones, so a few hundred new connections all go to the other real server.
  // Short idle timeouts on the directors (not something lvsd or the seed sets) keep one
  // lost packet from deciding the demo.
  for (const d of ['d1', 'd2']) topo.exec(d, 'ipvsadm', ['--set', '10', '10', '0']);

  say('start lvsd on d1 (seed001-node1.conf) and d2 (seed001-node2.conf), unchanged');
  startLvsd('d1', n1);
  startLvsd('d2', n2);
  let s = await until('VI_1 master on d1, VI_2 master on d2', async () => (await topo.vipsNow('d1')).join() === VIP1 && (await topo.vipsNow('d2')).join() === VIP2, 20_000);
  check('each director is master of one VIP', true, `${s.toFixed(1)} s`);
  await until('real servers in both tables', async () => (await topo.ipvsNow('d1')).split('\n').length === 6 && (await topo.ipvsNow('d2')).split('\n').length === 6, 10_000);
  // The client starts once the VIPs have settled: requests sent while nobody (or the
  // wrong director) held a VIP would only test ARP retries.
  topo.startClient(200, (r) => {
    if (r.t < tallyFrom) return;
    const m = tally.get(r.vip) ?? new Map();
    m.set(r.body, (m.get(r.body) ?? 0) + 1);
    tally.set(r.vip, m);
  });
  say('IPVS table on d1 (ipvsadm -Sn):');
  console.log(indent(topo.ipvs('d1')));
  resetTally();
  // wlc spreads new connections by weight and by the connections each server already
  // has: a short window can fall on one server. Watch until both answered, each VIP.
  const both = () => answered(tally, VIP1).length === 2 && answered(tally, VIP2).length === 2;
  await until('both real servers through both VIPs', both, 10_000).catch(() => {});
  await sleep(500);
  let t = resetTally();
  say(`client: ${summary(t)}`);
  check('client reaches both real servers through both VIPs', answered(t, VIP1).length === 2 && answered(t, VIP2).length === 2);

  say('kill -9 lvsd on d1');
  await stopDaemon('d1', 'SIGKILL');
  s = await until('d2 holds both VIPs', async () => (await topo.vipsNow('d2')).length === 2, 10_000);
  check(`VI_1 moved to d2`, true, `${s.toFixed(1)} s after the kill`);
  resetTally();
  await sleep(1500);
  t = resetTally();
  say(`client: ${summary(t)}`);
  check('client keeps getting answers from both VIPs', answered(t, VIP1).length > 0 && answered(t, VIP2).length > 0);

  say('restart lvsd on d1: it removes the VIP the killed process left behind and preempts back');
  startLvsd('d1', n1);
  s = await until('VIP back on d1 only', async () => (await topo.vipsNow('d1')).join() === VIP1 && (await topo.vipsNow('d2')).join() === VIP2, 20_000);
  check('VI_1 back on d1', true, `${s.toFixed(1)} s`);

  say('stop the HTTP server on rs2');
  topo.stopHttp('rs2');
  s = await until('rs2 out of both tables', async () => !(await topo.ipvsNow('d1')).includes('172.18.200.110') && !(await topo.ipvsNow('d2')).includes('172.18.200.110'), 30_000);
  check('rs2 left the IPVS tables', true, `${s.toFixed(1)} s (delay_loop 6, retry 3 x 3 s)`);
  resetTally();
  await sleep(1500);
  t = resetTally();
  say(`client: ${summary(t)}`);
  check('client is served by rs1 only', answered(t, VIP1).join() === 'rs1' && answered(t, VIP2).join() === 'rs1');
  say('start the HTTP server on rs2 again');
  await topo.startHttp('rs2');
  s = await until('rs2 back in both tables', async () => (await topo.ipvsNow('d1')).includes('172.18.200.110') && (await topo.ipvsNow('d2')).includes('172.18.200.110'), 20_000);
  check('rs2 is back', true, `${s.toFixed(1)} s`);

  say('mixed pair: replace lvsd on d2 with keepalived 2.2 (same config)');
  await stopDaemon('d2', 'SIGTERM');
  startKeepalived('d2', n2);
  s = await until('VI_2 on keepalived d2, VI_1 on lvsd d1', async () => (await topo.vipsNow('d1')).join() === VIP1 && (await topo.vipsNow('d2')).join() === VIP2, 20_000);
  check('lvsd and keepalived share the VIPs', true, `${s.toFixed(1)} s`);
  say('kill -9 lvsd on d1: keepalived takes VI_1');
  await stopDaemon('d1', 'SIGKILL');
  s = await until('keepalived d2 holds both VIPs', async () => (await topo.vipsNow('d2')).length === 2, 10_000);
  check('keepalived took over from lvsd', true, `${s.toFixed(1)} s`);
  startLvsd('d1', n1);
  s = await until('lvsd d1 preempts keepalived', async () => (await topo.vipsNow('d1')).join() === VIP1 && (await topo.vipsNow('d2')).join() === VIP2, 20_000);
  check('lvsd preempted keepalived back', true, `${s.toFixed(1)} s`);
  resetTally();
  await sleep(1500);
  t = resetTally();
  say(`client: ${summary(t)}`);
  check('client served through the mixed pair', answered(t, VIP1).length > 0 && answered(t, VIP2).length > 0);

  say(`long-lived connection to ${VIP1}, then SIGHUP reload on d1 changing rs2's weight 2 -> 3`);
  const seen = [];
  const ll = topo.startLongLived(VIP1, 200, (r) => seen.push(r));
  await until('long-lived connection answering', () => seen.length >= 3, 10_000);
  const { body: server, port } = seen[seen.length - 1];
  writeFileSync(n1, readFileSync(n1, 'utf8').replace(/(real_server 172\.18\.200\.110 80 \{\s*weight )2/g, '$13'));
  daemons.d1.child.kill('SIGHUP');
  await until('new weight in the kernel', async () => /172\.18\.200\.110:80 -g -w 3/.test((await topo.ipvsNow('d1'))), 10_000);
  const before = seen.length;
  await sleep(3000);
  const after = seen.slice(before);
  check(
    'the connection survived the reload',
    after.length >= 3 && after.every((r) => r.ok && r.body === server && r.port === port),
    `${after.length} answers from ${server} on the same connection (client port ${port}) after the reload`,
  );
  ll.kill('SIGKILL');
  say('IPVS table on d1 after the reload:');
  console.log(indent(topo.ipvs('d1')));

  say('SIGTERM lvsd on d1: priority 0, VIP and IPVS services released; keepalived d2 takes over');
  await stopDaemon('d1', 'SIGTERM');
  check('d1 released its VIP and IPVS services', topo.vips('d1').length === 0 && topo.ipvs('d1') === '');
  s = await until('keepalived d2 holds both VIPs', async () => (await topo.vipsNow('d2')).length === 2, 5_000);
  check('graceful handover', true, `${s.toFixed(1)} s`);
  await stopDaemon('d2', 'SIGTERM');
}

let code = 0;
try {
  await main();
} catch (e) {
  code = 1;
  say(`ERROR ${e.message}`);
  try {
    say('state at failure: d1 VIPs ' + topo.vips('d1').join(' ') + ' / d2 VIPs ' + topo.vips('d2').join(' '));
    console.log(indent(`d1:\n${topo.ipvs('d1')}\nd2:\n${topo.ipvs('d2')}`));
    console.log(indent(`connections (ipvsadm -Ln) d1:\n${topo.ipvsConns('d1')}\nd2:\n${topo.ipvsConns('d2')}`));
    for (const d of ['d1', 'd2']) console.log(indent(`established entries on ${d} (ipvsadm -Lnc):\n${topo.exec(d, 'ipvsadm', ['-Lnc']).split('\n').filter((l) => /ESTABLISHED|SYN/.test(l)).join('\n')}`));
    console.log(indent(`client neighbours:\n${topo.neighbours('cl')}\nlinks: ${topo.macs()}`));
  } catch {
    /* topology gone */
  }
} finally {
  for (const d of Object.keys(daemons)) daemons[d].child.kill('SIGKILL');
  await topo.down();
}
const passed = results.filter((r) => r.ok).length;
// An error outside a named check (a timeout) counts as one more failure.
const failed = results.length - passed + (code && passed === results.length ? 1 : 0);
console.log(`\ndemo: ${passed} passed, ${failed} failed`);
if (process.env.LVSD_DEMO_RESULT) writeFileSync(process.env.LVSD_DEMO_RESULT, JSON.stringify({ code, results }));
process.exit(code);
