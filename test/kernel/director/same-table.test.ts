// For every seed config with virtual servers, `lvsd -C` programs the same IPVS table
// as keepalived 2.2 -C, in the same lab, with the real servers up (their addresses
// live in a second namespace that answers HTTP and TCP on port 80).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createNetns, type Netns } from '../helpers';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = `${root}packages/director/dist/cli.js`;
const fixtures = `${root}test/fixtures/config`;

// dests: the real-server lines of the full table; a daemon's table is read only once
// it has them all (a check that timed out on a slow lab would otherwise be compared).
const CASES: { file: string; subnets: string[]; realServers: string[]; dests: number }[] = [
  { file: 'seed001-node1.conf', subnets: ['172.18.200.1/24'], realServers: ['172.18.200.100', '172.18.200.110'], dests: 4 },
  { file: 'seed001-node2.conf', subnets: ['172.18.200.1/24'], realServers: ['172.18.200.100', '172.18.200.110'], dests: 4 },
  { file: 'seed003-master.conf', subnets: ['172.16.7.1/24'], realServers: ['172.16.7.3', '172.16.7.4'], dests: 2 },
  { file: 'seed003-backup.conf', subnets: ['172.16.7.1/24'], realServers: ['172.16.7.3', '172.16.7.4'], dests: 2 },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.reverse()) f();
  cleanup = [];
});

function setup(c: (typeof CASES)[number]): { dir: Netns; rs: Netns } {
  const dir = createNetns('ka-dir');
  const rs = createNetns('ka-rs');
  cleanup.push(() => dir.delete(), () => rs.delete());
  const peer = `p${rs.name.slice(-6)}`;
  dir.sh(`ip link add eth0 type veth peer name ${peer} && ip link set ${peer} netns ${rs.name} && ip link set eth0 up`);
  rs.sh(`ip link set ${peer} name eth0 && ip link set eth0 up`);
  for (const s of c.subnets) dir.sh(`ip addr add ${s} dev eth0`);
  for (const a of c.realServers) rs.sh(`ip addr add ${a}/24 dev eth0`);
  const http = rs.spawn([process.execPath, '-e', "require('http').createServer((q,s)=>s.end('ok')).listen(80)"]);
  cleanup.push(() => http.kill('SIGKILL'));
  return { dir, rs };
}

function table(ns: Netns): string {
  const save = ns.sh('ipvsadm -Sn').trim().split('\n').filter(Boolean).sort().join('\n');
  const thresholds = ns.sh('ipvsadm -Ln --thresholds').trim().split('\n').slice(3).sort().join('\n');
  return `${save}\n--\n${thresholds}`;
}

async function settle(ns: Netns, min: number, timeoutMs: number): Promise<string> {
  const start = Date.now();
  let last = '';
  while (Date.now() - start < timeoutMs) {
    const t = table(ns);
    if (t === last && t.split('\n').filter((l) => l.startsWith('-a')).length >= min) return t;
    last = t;
    await sleep(500);
  }
  return last;
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

describe('lvsd -C programs the table keepalived -C programs', () => {
  for (const c of CASES) {
    it(c.file, async () => {
      const { dir } = setup(c);
      const conf = `${fixtures}/${c.file}`;
      const pid = `/tmp/${dir.name}`;
      const ka = dir.spawn(['keepalived', '-n', '-C', '-f', conf, '-p', `${pid}.ka`, '-c', `${pid}.kac`], { stdio: 'ignore' });
      const theirs = await settle(dir, c.dests, 40_000);
      await stop(ka);
      expect(dir.sh('ipvsadm -Sn').trim(), 'keepalived removes its services on stop').toBe('');

      const lvsd: ChildProcess = dir.spawn([process.execPath, cli, '-C', '-f', conf], { stdio: 'ignore' });
      const ours = await settle(dir, c.dests, 40_000);
      await stop(lvsd);
      expect(ours).toBe(theirs);
      expect(theirs).toContain('-a -t');
      expect(dir.sh('ipvsadm -Sn').trim(), 'lvsd removes its services on stop').toBe('');
    });
  }
});
