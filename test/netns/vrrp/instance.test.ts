// VrrpInstance in this process (the netns option), sync groups, trackers on real
// links and files, notify scripts and the FIFO, and event-loop stalls on either
// side of a pair.
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, openSync, readSync, closeSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consts, RawSocket } from '@lvsd/native';
import { VrrpInstance, VrrpSyncGroup, type VrrpInstanceOptions } from '@lvsd/vrrp';
import { buildVrrp, canNetns, lab, owners, steadyOwner } from './helpers.js';

const require = createRequire(import.meta.url);
const labs: any[] = [];
const instances: VrrpInstance[] = [];
afterAll(async () => {
  for (const i of instances) await i.stop().catch(() => {});
  for (const l of labs) l.cleanup();
});
const tmp = mkdtempSync(join(tmpdir(), 'lvsd-vrrp-netns-'));

function inst(l: any, m: string, o: Partial<VrrpInstanceOptions> & { name: string; virtualRouterId: number; virtualIpaddress: string[] }) {
  const i = new VrrpInstance({ interface: 'eth0', version: 3, advertInt: 0.1, garpMasterDelay: 0, netns: l.ns[m], ...o });
  instances.push(i);
  return i;
}

describe.skipIf(!canNetns())('VrrpInstance in namespaces', () => {
  beforeAll(() => buildVrrp(), 120_000);

  it('a sync group moves together: one member in FAULT (track_file) takes the other along; notify scripts and the FIFO follow in order', async () => {
    const l = lab.createLab({ net: 20 });
    labs.push(l);
    const trackFile = join(tmp, 'down');
    writeFileSync(trackFile, '0\n');
    const log = join(tmp, 'notify.log');
    const notify = join(tmp, 'notify.sh');
    writeFileSync(notify, `#!/bin/sh\necho "$@" >> ${log}\n`, { mode: 0o755 });
    const fifo = join(tmp, 'fifo');
    const a1 = inst(l, 'a', { name: 'VI_1', virtualRouterId: 31, priority: 150, virtualIpaddress: ['10.77.20.101/24'], trackFile: [{ path: trackFile }], notify });
    const a2 = inst(l, 'a', { name: 'VI_2', virtualRouterId: 32, priority: 150, virtualIpaddress: ['10.77.20.102/24'], notifyFifo: fifo });
    const group = new VrrpSyncGroup({ name: 'G1', notifyFifo: fifo }, [a1, a2]);
    const b1 = inst(l, 'b', { name: 'VI_1', virtualRouterId: 31, priority: 100, virtualIpaddress: ['10.77.20.101/24'] });
    const b2 = inst(l, 'b', { name: 'VI_2', virtualRouterId: 32, priority: 100, virtualIpaddress: ['10.77.20.102/24'] });
    const groupStates: string[] = [];
    group.on('stateChange', (e) => groupStates.push(e.to));
    await Promise.all([b1.start(), b2.start()]);
    await group.start();
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    await lab.waitFor(() => owners(l, '10.77.20.101').join() === 'a' && owners(l, '10.77.20.102').join() === 'a', 5000, 'group master');
    expect(group.state).toBe('MASTER');

    writeFileSync(trackFile, '1\n');
    await lab.waitFor(() => owners(l, '10.77.20.101').join() === 'b' && owners(l, '10.77.20.102').join() === 'b', 5000, 'both members leave');
    expect([a1.state, a2.state]).toEqual(['FAULT', 'FAULT']);
    expect(a2.stats().faults).toEqual(['sync group G1']);

    writeFileSync(trackFile, '0\n');
    await lab.waitFor(() => owners(l, '10.77.20.101').join() === 'a' && owners(l, '10.77.20.102').join() === 'a', 5000, 'group preempts back');
    await a1.settled();
    expect(groupStates).toEqual(['BACKUP', 'MASTER', 'FAULT', 'BACKUP', 'MASTER']);
    const buf = Buffer.alloc(4096);
    const n = readSync(reader, buf);
    closeSync(reader);
    const lines = buf.subarray(0, n).toString().trim().split('\n');
    expect(lines.filter((x) => x.startsWith('GROUP'))).toEqual(['GROUP "G1" BACKUP', 'GROUP "G1" MASTER', 'GROUP "G1" FAULT', 'GROUP "G1" BACKUP', 'GROUP "G1" MASTER']);
    expect(lines.filter((x) => x.startsWith('INSTANCE'))).toEqual([
      'INSTANCE "VI_2" BACKUP 150',
      'INSTANCE "VI_2" MASTER 150',
      'INSTANCE "VI_2" FAULT 150',
      'INSTANCE "VI_2" BACKUP 150',
      'INSTANCE "VI_2" MASTER 150',
    ]);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'INSTANCE VI_1 BACKUP 150',
      'INSTANCE VI_1 MASTER 150',
      'INSTANCE VI_1 FAULT 150',
      'INSTANCE VI_1 BACKUP 150',
      'INSTANCE VI_1 MASTER 150',
    ]);
    await group.stop();
    expect(a1.state).toBe('STOP');
  });

  it('a sync group follows its first member to hear a better master: both VIPs move, the group is BACKUP', async () => {
    const l = lab.createLab({ net: 25 });
    labs.push(l);
    const v1 = '10.77.25.101';
    const v2 = '10.77.25.102';
    const a1 = inst(l, 'a', { name: 'VI_1', virtualRouterId: 41, priority: 150, virtualIpaddress: [`${v1}/24`] });
    const a2 = inst(l, 'a', { name: 'VI_2', virtualRouterId: 42, priority: 150, virtualIpaddress: [`${v2}/24`] });
    const group = new VrrpSyncGroup({ name: 'G2' }, [a1, a2]);
    const b2 = inst(l, 'b', { name: 'VI_2', virtualRouterId: 42, priority: 100, virtualIpaddress: [`${v2}/24`] });
    await b2.start();
    await group.start();
    await lab.waitFor(() => owners(l, v1).join() === 'a' && owners(l, v2).join() === 'a', 5000, 'group master');
    // a better router for VI_1 only appears on b
    const b1 = inst(l, 'b', { name: 'VI_1', virtualRouterId: 41, priority: 200, virtualIpaddress: [`${v1}/24`] });
    await b1.start();
    await lab.waitFor(() => owners(l, v1).join() === 'b' && owners(l, v2).join() === 'b', 5000, 'both VIPs follow to b');
    expect([a1.state, a2.state]).toEqual(['BACKUP', 'BACKUP']);
    await a2.settled();
    expect(group.state).toBe('BACKUP');
    expect(b2.state).toBe('MASTER'); // b2 (100) holds VI_2 although a2 (150) is alive: the group keeps a2 back
    await lab.sleep(1000);
    expect(owners(l, v2)).toEqual(['b']);
    await group.stop();
  });

  it('track_interface with a weight: a tracked link losing carrier lowers the priority and the peer preempts; virtual_routes follow the VIP', async () => {
    const l = lab.createLab({ net: 21 });
    labs.push(l);
    lab.sh('ip', ['-n', l.ns.a, 'link', 'add', 'trk0', 'type', 'veth', 'peer', 'name', 'trk1']);
    lab.sh('ip', ['-n', l.ns.a, 'link', 'set', 'trk0', 'up']);
    lab.sh('ip', ['-n', l.ns.a, 'link', 'set', 'trk1', 'up']);
    const vip = '10.77.21.100';
    const a = inst(l, 'a', { name: 'VI_1', virtualRouterId: 33, priority: 150, virtualIpaddress: [`${vip}/24`], trackInterface: [{ name: 'trk0', weight: -60 }], virtualRoutes: ['10.99.0.0/16 via 10.77.21.254'] });
    const b = inst(l, 'b', { name: 'VI_1', virtualRouterId: 33, priority: 100, virtualIpaddress: [`${vip}/24`] });
    const prio: number[] = [];
    a.on('priorityChange', (e) => prio.push(e.to));
    await Promise.all([a.start(), b.start()]);
    await lab.waitFor(() => owners(l, vip).join() === 'a', 5000, 'a master');
    await a.settled();
    expect(lab.sh('ip', ['-n', l.ns.a, 'route', 'show', '10.99.0.0/16'])).toContain('via 10.77.21.254');

    lab.sh('ip', ['-n', l.ns.a, 'link', 'set', 'trk1', 'down']); // trk0 loses its carrier
    await lab.waitFor(() => owners(l, vip).join() === 'b', 3000, 'b preempts');
    expect(prio).toEqual([90]);
    expect(a.state).toBe('BACKUP');
    await a.settled();
    expect(lab.sh('ip', ['-n', l.ns.a, 'route', 'show', '10.99.0.0/16'])).toBe('');

    lab.sh('ip', ['-n', l.ns.a, 'link', 'set', 'trk1', 'up']);
    await lab.waitFor(() => owners(l, vip).join() === 'a', 3000, 'a preempts back');
    expect(prio).toEqual([90, 150]);

    // our own interface going down is a FAULT
    lab.sh('ip', ['-n', l.ns.a, 'link', 'set', 'eth0', 'down']);
    await lab.waitFor(() => a.state === 'FAULT', 2000, 'FAULT');
    await lab.waitFor(() => lab.hasAddress(l, 'b', vip), 3000, 'b takes over');
    lab.sh('ip', ['-n', l.ns.a, 'link', 'set', 'eth0', 'up']);
    await lab.waitFor(() => owners(l, vip).join() === 'a', 5000, 'a back after the fault');
  });

  it('an interface that does not exist yet: FAULT until it appears, then an election on it (keepalived does the same)', async () => {
    const l = lab.createLab({ net: 27 });
    labs.push(l);
    const vip = '10.77.27.100';
    const a = inst(l, 'a', { name: 'VI_1', interface: 'late0', virtualRouterId: 38, priority: 150, virtualIpaddress: [`${vip}/24`] });
    const warnings: string[] = [];
    a.on('warning', (w) => warnings.push(w));
    await a.start();
    expect(a.state).toBe('FAULT');
    expect(warnings.join()).toMatch(/late0 does not exist/);
    lab.sh('ip', ['-n', l.ns.a, 'link', 'add', 'late0', 'type', 'veth', 'peer', 'name', 'late1']);
    lab.sh('ip', ['-n', l.ns.a, 'link', 'set', 'late1', 'up']);
    lab.sh('ip', ['-n', l.ns.a, 'link', 'set', 'late0', 'up']);
    await lab.sleep(200);
    expect(a.state).toBe('FAULT'); // up, but no address to send from yet
    lab.sh('ip', ['-n', l.ns.a, 'addr', 'add', '10.77.27.1/24', 'dev', 'late0']);
    await lab.waitFor(() => a.state === 'MASTER', 3000, 'master on the new interface');
    await a.settled();
    expect(lab.sh('ip', ['-n', l.ns.a, '-o', 'addr', 'show', 'dev', 'late0'])).toContain(vip);
    // deleted: FAULT again (the VIP went with the interface)
    lab.sh('ip', ['-n', l.ns.a, 'link', 'del', 'late0']);
    await lab.waitFor(() => a.state === 'FAULT', 3000, 'FAULT when the interface goes');
    await a.stop();

    // an interface without an address to send from: FAULT too, until one is added
    lab.sh('ip', ['-n', l.ns.a, 'link', 'add', 'bare0', 'type', 'veth', 'peer', 'name', 'bare1']);
    lab.sh('ip', ['-n', l.ns.a, 'link', 'set', 'bare1', 'up']);
    lab.sh('ip', ['-n', l.ns.a, 'link', 'set', 'bare0', 'up']);
    const b = inst(l, 'a', { name: 'VI_2', interface: 'bare0', virtualRouterId: 39, priority: 150, virtualIpaddress: ['10.77.27.200/24'] });
    await b.start();
    expect(b.state).toBe('FAULT');
    lab.sh('ip', ['-n', l.ns.a, 'addr', 'add', '10.77.27.2/24', 'dev', 'bare0']);
    await lab.waitFor(() => b.state === 'MASTER', 3000, 'master once the address is there');
    await b.stop();
  });

  it('with the netns option, track scripts and notify scripts run inside the namespace (keepalived net_namespace)', async () => {
    const l = lab.createLab({ net: 26 });
    labs.push(l);
    lab.sh('ip', ['-n', l.ns.a, 'link', 'add', 'nsq0', 'type', 'veth', 'peer', 'name', 'nsq1']);
    const out = join(tmp, 'netns-notify');
    const a = inst(l, 'a', {
      name: 'VI_1',
      virtualRouterId: 37,
      priority: 150,
      virtualIpaddress: ['10.77.26.100/24'],
      // weight 0: outside the namespace there is no nsq0 and the instance would be in FAULT
      trackScript: [{ name: 'chk_ns', script: '/bin/sh -c "grep -q nsq0 /proc/net/dev"', interval: 1 }],
      notifyMaster: `/bin/sh -c "readlink /proc/self/ns/net > ${out}"`,
    });
    await a.start();
    await lab.waitFor(() => a.state === 'MASTER', 3000, 'master');
    await a.settled();
    expect(readFileSync(out, 'utf8').trim()).toBe(l.exec('a', 'readlink', ['/proc/self/ns/net']).trim());
    await a.stop();
  });

  it("gratuitous ARP timing: garp_master_repeat per address, a second burst after garp_master_delay, then garp_master_refresh", async () => {
    const l = lab.createLab({ net: 24 });
    labs.push(l);
    const vips = ['10.77.24.100', '10.77.24.101'];
    const seen: { t: number; ip: string; mac: string }[] = [];
    const sock = new RawSocket(consts.AF_PACKET, consts.SOCK_RAW, 0x0608, { netns: `/var/run/netns/${l.ns.c}` });
    sock.on('message', (m) => {
      const f = m.data;
      if (f.length >= 42 && f.readUInt16BE(12) === 0x0806 && f.subarray(28, 32).equals(f.subarray(38, 42))) {
        seen.push({ t: performance.now(), ip: [...f.subarray(28, 32)].join('.'), mac: [...f.subarray(22, 28)].map((b) => b.toString(16).padStart(2, '0')).join(':') });
      }
    });
    sock.listen();
    try {
      const a = inst(l, 'a', {
        name: 'VI_1',
        virtualRouterId: 36,
        priority: 255, // the address owner: master at once
        virtualIpaddress: vips.map((v) => `${v}/24`),
        garpMasterDelay: 1,
        garpMasterRepeat: 2,
        garpMasterRefresh: 1,
        garpMasterRefreshRepeat: 1,
      });
      await a.start();
      await lab.waitFor(() => seen.length > 0, 2000, 'the first gARP');
      const t0 = seen[0].t;
      await lab.sleep(3400);
      await a.stop();
      const at = (from: number, to: number) => seen.filter((g) => g.t - t0 >= from && g.t - t0 < to);
      expect(seen.every((g) => g.mac === l.mac.a && vips.includes(g.ip))).toBe(true);
      expect(at(0, 500).length).toBe(4); // 2 addresses x garp_master_repeat 2
      expect(at(500, 1500).length).toBe(4); // the delayed burst
      expect(at(1500, 2500).length).toBe(2); // refresh: 2 addresses x 1
      expect(at(2500, 3400).length).toBe(2);
      expect(a.stats().garpSent).toBe(seen.length);
    } finally {
      sock.close();
    }
  });

  it('no_accept (Accept_Mode false): the master drops traffic to the VIP, not to its own address; the table goes with stop()', async () => {
    const l = lab.createLab({ net: 23 });
    labs.push(l);
    const vip = '10.77.23.100';
    const a = inst(l, 'a', { name: 'VI_1', virtualRouterId: 35, priority: 150, virtualIpaddress: [`${vip}/24`], accept: false });
    await a.start();
    await lab.waitFor(() => lab.hasAddress(l, 'a', vip), 3000, 'master');
    // a UDP echo in a; the client asks it through the VIP and through a's own address
    const echo = require('node:child_process').spawn('ip', ['netns', 'exec', l.ns.a, process.execPath, '-e',
      "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(m,r.port,r.address));s.bind(7007)"], { stdio: 'ignore' });
    try {
      await lab.sleep(300);
      const ask = (to: string) =>
        l.exec('c', process.execPath, ['-e',
          `const s=require('dgram').createSocket('udp4');const t=setTimeout(()=>{console.log('timeout');process.exit()},500);s.on('message',()=>{console.log('reply');process.exit()});s.send('x',7007,'${to}')`]).trim();
      expect(ask(l.ip4.a)).toBe('reply');
      expect(ask(vip)).toBe('timeout');
      await a.stop();
      expect(lab.sh('ip', ['netns', 'exec', l.ns.a, 'nft', 'list', 'tables'])).not.toContain('lvsd_vrrp');
    } finally {
      echo.kill('SIGKILL');
    }
  });

  it('a master sends its adverts from a SCHED_FIFO thread (vrrp_rt_priority, default 1), so a loaded machine does not delay them; 0 keeps normal scheduling', async () => {
    const l = lab.createLab({ net: 23 });
    labs.push(l);
    /** [rt_priority, policy] of every thread of this process (fields 40 and 41 of /proc/.../stat). */
    const fifoThreads = () =>
      readdirSync('/proc/self/task')
        .map((t) => readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' '))
        .filter((f) => f[38] === '1')
        .map((f) => Number(f[37]));
    const before = fifoThreads().length;
    const a = inst(l, 'a', { name: 'VI_RT', virtualRouterId: 41, priority: 150, virtualIpaddress: ['10.77.23.100/24'], rtPriority: 7 });
    await a.start();
    await lab.waitFor(() => a.state === 'MASTER', 5000, 'master');
    expect(a.stats().advertThread).toEqual({ rtPriority: 7 });
    expect(fifoThreads().filter((p) => p === 7)).toHaveLength(1);
    await a.stop();
    expect(fifoThreads()).toHaveLength(before);

    const b = inst(l, 'b', { name: 'VI_NORT', virtualRouterId: 42, priority: 150, virtualIpaddress: ['10.77.23.101/24'], rtPriority: 0 });
    await b.start();
    await lab.waitFor(() => b.state === 'MASTER', 5000, 'master');
    expect(b.stats().advertThread).toBeUndefined();
    expect(fifoThreads()).toHaveLength(before);
    await b.stop();
  });

  it('a 500 ms stall of the lvsd event loop hands nothing away at advert_int 0.1: the master adverts from a native thread, the backup drains its socket before declaring the master down', async () => {
    const l = lab.createLab({ net: 22 });
    labs.push(l);
    const vip = '10.77.22.100';
    const opts = { name: 'VI_1', interface: 'eth0', virtualRouterId: 34, version: 3, advertInt: 0.1, virtualIpaddress: [`${vip}/24`] };
    const ka = lab.startKeepalived(l, 'b', lab.keepalivedConf({ vrid: 34, priority: 100, version: 3, advertInt: 0.1, vips: [`${vip}/24`] }));
    await ka.ready();
    const master = lab.startLvsd(l, 'a', { ...opts, priority: 150 }, ['--block-ms', '500', '--block-every', '1000']);
    await master.ready();
    await lab.waitFor(() => owners(l, vip).join() === 'a', 5000, 'lvsd master');
    expect(await steadyOwner(l, vip, 4000)).toBe('a');
    expect(master.events.filter((e: any) => e.event === 'blocked').length).toBeGreaterThanOrEqual(3);
    master.kill('SIGKILL');
    ka.kill('SIGKILL');
    await master.exited;
    await ka.exited;

    // the other way round: keepalived master, lvsd backup stalling
    lab.sh('ip', ['-n', l.ns.a, 'addr', 'flush', 'dev', 'eth0', 'to', `${vip}/32`]);
    const ka2 = lab.startKeepalived(l, 'a', lab.keepalivedConf({ vrid: 34, priority: 150, version: 3, advertInt: 0.1, vips: [`${vip}/24`] }), 'a2');
    await lab.waitFor(() => lab.hasAddress(l, 'a', vip), 5000, 'keepalived master');
    lab.sh('ip', ['-n', l.ns.b, 'addr', 'flush', 'dev', 'eth0', 'to', `${vip}/32`]);
    const backup = lab.startLvsd(l, 'b', { ...opts, priority: 100 }, ['--block-ms', '500', '--block-every', '1000']);
    await backup.ready();
    expect(await steadyOwner(l, vip, 4000)).toBe('a');
    expect(backup.states()).toEqual(['BACKUP']);
    ka2.kill('SIGKILL');
  });
});
