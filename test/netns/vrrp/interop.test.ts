// lvsd against keepalived 2.2 on the wire, in host network namespaces joined by a
// bridge: both roles, v2 and v3, IPv4 and IPv6, PASS auth, unicast, crash and
// graceful handover, preempt and nopreempt, mismatched auth / VRID.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consts, ipToBytes, RawSocket } from '@lvsd/native';
import { buildVrrp, canNetns, lab, owners, steadyOwner } from './helpers.js';

const labs: any[] = [];
function newLab(net: number) {
  const l = lab.createLab({ net });
  labs.push(l);
  return l;
}
afterAll(() => {
  for (const l of labs) l.cleanup();
});

/** Unsolicited neighbour advertisements for `vip` seen in a namespace: the advertised MACs. */
function watchNa(netns: string, vip: string) {
  const sock = new RawSocket(consts.AF_PACKET, consts.SOCK_RAW, 0xdd86 /* htons(ETH_P_IPV6) */, { netns });
  const macs: string[] = [];
  const target = ipToBytes(vip);
  sock.on('message', (m) => {
    const f = m.data;
    if (f.length >= 86 && f.readUInt16BE(12) === 0x86dd && f[20] === 58 && f[54] === 136 && f.subarray(62, 78).equals(target)) {
      macs.push([...f.subarray(80, 86)].map((b) => b.toString(16).padStart(2, '0')).join(':'));
    }
  });
  sock.listen();
  return { macs, close: () => sock.close() };
}

const lvsdOpts = (o: Record<string, unknown>) => ({ name: 'VI_1', interface: 'eth0', garpMasterDelay: 0, ...o });

describe.skipIf(!canNetns())('lvsd and keepalived 2.2 as VRRP peers', () => {
  beforeAll(() => buildVrrp(), 120_000);

  it('v2 + PASS, lvsd master: one master; kill -9 moves the VIP; a restarted lvsd removes the VIP its crash left and preempts back', async () => {
    const l = newLab(1);
    const vip = '10.77.1.100';
    try {
      const ka = lab.startKeepalived(l, 'b', lab.keepalivedConf({ vrid: 11, priority: 100, authPass: 'pBkfC1ax', vips: [`${vip}/24`] }));
      await ka.ready();
      const opts = lvsdOpts({ virtualRouterId: 11, priority: 150, state: 'MASTER', authentication: { authType: 'PASS', authPass: 'pBkfC1ax ' }, virtualIpaddress: [`${vip}/24 dev eth0 label eth0:1`] });
      let lv = lab.startLvsd(l, 'a', opts);
      await lv.ready();
      await lab.waitFor(() => owners(l, vip).join() === 'a', 10_000, 'lvsd master');
      expect(await steadyOwner(l, vip, 2500)).toBe('a');
      expect(lab.sh('ip', ['-n', l.ns.a, '-o', 'addr', 'show', 'dev', 'eth0'])).toContain('eth0:1');

      lv.kill('SIGKILL');
      await lv.exited;
      await lab.waitFor(() => lab.hasAddress(l, 'b', vip), 6000, 'keepalived takes over');
      expect(lab.hasAddress(l, 'a', vip)).toBe(true); // the crash left it behind

      lv = lab.startLvsd(l, 'a', opts);
      await lv.ready();
      expect(lv.events.some((e: any) => e.event === 'warning' && /left on the interface/.test(e.message))).toBe(true);
      expect(owners(l, vip)).toEqual(['b']);
      await lab.waitFor(() => owners(l, vip).join() === 'a', 10_000, 'preempt back');
      expect(await steadyOwner(l, vip, 2000)).toBe('a');
      expect(ka.log()).toContain('Entering BACKUP STATE');
    } finally {
      l.cleanup();
    }
  });

  it('v3 at advert_int 0.1, keepalived master: kill -9 hands the VIP to lvsd in about 3 adverts; SIGTERM (priority 0) in about Skew_Time', async () => {
    const l = newLab(2);
    const vip = '10.77.2.100';
    try {
      const conf = lab.keepalivedConf({ vrid: 12, priority: 150, version: 3, advertInt: 0.1, vips: [`${vip}/24`] });
      let ka = lab.startKeepalived(l, 'a', conf);
      await lab.waitFor(() => lab.hasAddress(l, 'a', vip), 10_000, 'keepalived master');
      const lv = lab.startLvsd(l, 'b', lvsdOpts({ virtualRouterId: 12, priority: 100, version: 3, advertInt: 0.1, virtualIpaddress: [`${vip}/24`] }));
      await lv.ready();
      expect(await steadyOwner(l, vip, 1500)).toBe('a');

      let t = performance.now();
      ka.kill('SIGKILL');
      await lab.waitFor(() => lab.hasAddress(l, 'b', vip), 3000, 'lvsd takes over', 2);
      const crash = performance.now() - t;
      // 3 x 100 ms + Skew_Time (61 ms), with room for a loaded test machine
      expect(crash).toBeLessThan(3 * 100 + (156 * 100) / 256 + 300);
      expect(crash).toBeGreaterThan(3 * 100 - 100);
      await ka.exited;

      // keepalived comes back (it preempts: 150 > 100) and cleans the VIP its crash left
      ka = lab.startKeepalived(l, 'a', conf);
      await lab.waitFor(() => owners(l, vip).join() === 'a', 10_000, 'keepalived preempts back');
      expect(await steadyOwner(l, vip, 1000)).toBe('a');
      expect(lv.states().slice(-2)).toEqual(['MASTER', 'BACKUP']);

      t = performance.now();
      ka.kill('SIGTERM');
      await lab.waitFor(() => lab.hasAddress(l, 'b', vip), 3000, 'lvsd takes over after priority 0', 2);
      const graceful = performance.now() - t;
      expect(graceful).toBeLessThan(crash);
      const last = await lab.waitFor(() => lv.events.filter((e: any) => e.event === 'stateChange' && e.to === 'MASTER').at(1), 2000, 'the event');
      expect(last).toMatchObject({ to: 'MASTER', reason: 'priorityZero' });
    } finally {
      l.cleanup();
    }
  });

  it('v3 over IPv6 (ff02::12, link-local sources), both roles', async () => {
    const l = newLab(3);
    const vip = 'fd77:3::100';
    const na = watchNa(`/var/run/netns/${l.ns.c}`, vip);
    try {
      const ka = lab.startKeepalived(l, 'b', lab.keepalivedConf({ vrid: 13, priority: 100, version: 3, advertInt: 0.2, vips: [`${vip}/64`] }));
      await ka.ready();
      const lv = lab.startLvsd(l, 'a', lvsdOpts({ virtualRouterId: 13, priority: 150, version: 3, advertInt: 0.2, virtualIpaddress: [`${vip}/64`] }));
      await lv.ready();
      await lab.waitFor(() => owners(l, vip).join() === 'a', 8000, 'lvsd master (IPv6)');
      expect(await steadyOwner(l, vip, 1500)).toBe('a');
      expect(na.macs).toContain(l.mac.a); // our unsolicited NA reached the client
      lv.kill('SIGTERM');
      await lab.waitFor(() => owners(l, vip).join() === 'b', 3000, 'keepalived master (IPv6)');
      const stopped = (await lv.exited, lv.events.find((e: any) => e.event === 'stopped'));
      expect(stopped.stats.priorityZeroSent).toBe(1);
      expect(stopped.stats.advertsReceived).toBeGreaterThan(0);
      // and lvsd as the backup of keepalived
      const lv2 = lab.startLvsd(l, 'a', lvsdOpts({ virtualRouterId: 13, priority: 50, version: 3, advertInt: 0.2, virtualIpaddress: [`${vip}/64`] }));
      await lv2.ready();
      expect(await steadyOwner(l, vip, 1500)).toBe('b');
      expect(lv2.states()).toEqual(['BACKUP']);
      expect(na.macs).toContain(l.mac.b); // and keepalived's, after the handover
    } finally {
      na.close();
      l.cleanup();
    }
  });

  it('unicast peers (v2): keepalived backup follows lvsd; kill -9 moves the VIP', async () => {
    const l = newLab(4);
    const vip = '10.77.4.100';
    try {
      const ka = lab.startKeepalived(
        l,
        'b',
        lab.keepalivedConf({ vrid: 14, priority: 100, vips: [`${vip}/24`], unicastSrcIp: '10.77.4.2', unicastPeer: ['10.77.4.1'], checkUnicastSrc: true }),
      );
      await ka.ready();
      const lv = lab.startLvsd(l, 'a', lvsdOpts({ virtualRouterId: 14, priority: 150, virtualIpaddress: [`${vip}/24`], unicastSrcIp: '10.77.4.1', unicastPeer: ['10.77.4.2'], checkUnicastSrc: true }));
      await lv.ready();
      await lab.waitFor(() => owners(l, vip).join() === 'a', 8000, 'lvsd master (unicast)');
      expect(await steadyOwner(l, vip, 2500)).toBe('a');
      lv.kill('SIGKILL');
      await lab.waitFor(() => lab.hasAddress(l, 'b', vip), 6000, 'keepalived takes over (unicast)');
    } finally {
      l.cleanup();
    }
  });

  it('unicast peers (v3): checksums over the unicast pseudo-header are accepted both ways', async () => {
    const l = newLab(10);
    const vip = '10.77.10.100';
    try {
      const ka = lab.startKeepalived(
        l,
        'b',
        lab.keepalivedConf({ vrid: 18, priority: 100, version: 3, advertInt: 0.2, vips: [`${vip}/24`], unicastSrcIp: '10.77.10.2', unicastPeer: ['10.77.10.1'] }),
      );
      await ka.ready();
      const uni = { version: 3, advertInt: 0.2, virtualIpaddress: [`${vip}/24`], unicastSrcIp: '10.77.10.1', unicastPeer: ['10.77.10.2'] };
      const lv = lab.startLvsd(l, 'a', lvsdOpts({ virtualRouterId: 18, priority: 150, ...uni }));
      await lv.ready();
      await lab.waitFor(() => owners(l, vip).join() === 'a', 8000, 'lvsd master (unicast v3)');
      expect(await steadyOwner(l, vip, 2000)).toBe('a'); // keepalived accepts our adverts
      lv.kill('SIGTERM');
      await lab.waitFor(() => owners(l, vip).join() === 'b', 2000, 'keepalived takes over after our priority 0');
      await lv.exited;
      const lv2 = lab.startLvsd(l, 'a', lvsdOpts({ virtualRouterId: 18, priority: 50, ...uni }));
      await lv2.ready();
      expect(await steadyOwner(l, vip, 2000)).toBe('b'); // and we accept keepalived's
      expect(lv2.states()).toEqual(['BACKUP']);
      lv2.kill('SIGTERM');
      await lv2.exited;
      const stats = lv2.events.find((e: any) => e.event === 'stopped').stats;
      expect(stats.advertsReceived).toBeGreaterThan(5);
      expect(stats.drops.checksum).toBe(0);
    } finally {
      l.cleanup();
    }
  });

  it('vrrp_mcast_group4 (seed 001 uses 224.0.100.18): lvsd and keepalived meet on the configured group', async () => {
    const l = newLab(9);
    const vip = '10.77.9.100';
    try {
      const ka = lab.startKeepalived(l, 'b', lab.keepalivedConf({ vrid: 51, priority: 98, authPass: 'pBkfC1ax', mcastGroup4: '224.0.100.18', vips: [`${vip} dev eth0 label eth0:0`] }));
      await ka.ready();
      const lv = lab.startLvsd(l, 'a', lvsdOpts({ virtualRouterId: 51, priority: 100, mcastGroup4: '224.0.100.18', authentication: { authType: 'PASS', authPass: 'pBkfC1ax' }, virtualIpaddress: [`${vip} dev eth0 label eth0:0`] }));
      await lv.ready();
      await lab.waitFor(() => owners(l, vip).join() === 'a', 8000, 'lvsd master');
      // keepalived hears us on 224.0.100.18: otherwise it would be master as well
      expect(await steadyOwner(l, vip, 2500)).toBe('a');
    } finally {
      l.cleanup();
    }
  });

  it('nopreempt: a higher priority lvsd joining a running keepalived master stays BACKUP', async () => {
    const l = newLab(5);
    const vip = '10.77.5.100';
    try {
      const ka = lab.startKeepalived(l, 'b', lab.keepalivedConf({ vrid: 15, priority: 100, version: 3, advertInt: 0.2, vips: [`${vip}/24`] }));
      await lab.waitFor(() => lab.hasAddress(l, 'b', vip), 8000, 'keepalived master');
      const lv = lab.startLvsd(l, 'a', lvsdOpts({ virtualRouterId: 15, priority: 200, version: 3, advertInt: 0.2, nopreempt: true, virtualIpaddress: [`${vip}/24`] }));
      await lv.ready();
      expect(await steadyOwner(l, vip, 2500)).toBe('b');
      expect(lv.states()).toEqual(['BACKUP']);
      expect(ka.log()).not.toContain('Entering BACKUP STATE\n');
    } finally {
      l.cleanup();
    }
  });

  it('a wrong password or another VRID is dropped, counted, and not obeyed', async () => {
    const l = newLab(6);
    const vip = '10.77.6.100';
    try {
      lab.startKeepalived(l, 'b', lab.keepalivedConf({ vrid: 16, priority: 200, authPass: 'right', vips: [`${vip}/24`] }));
      await lab.waitFor(() => lab.hasAddress(l, 'b', vip), 8000, 'keepalived master');
      const wrongPass = lab.startLvsd(l, 'a', lvsdOpts({ virtualRouterId: 16, priority: 100, authentication: { authType: 'PASS', authPass: 'wrong' }, virtualIpaddress: [`${vip}/24`] }));
      await lab.waitFor(() => lab.hasAddress(l, 'a', vip), 8000, 'lvsd ignores the keepalived master (auth)');
      wrongPass.kill('SIGTERM');
      await wrongPass.exited;
      const s1 = wrongPass.events.find((e: any) => e.event === 'stopped').stats;
      expect(s1.drops.authFailure).toBeGreaterThan(0);
      expect(s1.advertsReceived).toBe(0);

      const otherVrid = lab.startLvsd(l, 'a', lvsdOpts({ virtualRouterId: 17, priority: 100, authentication: { authType: 'PASS', authPass: 'right' }, virtualIpaddress: [`${vip}/24`] }));
      await lab.waitFor(() => otherVrid.states().includes('MASTER'), 8000, 'lvsd ignores the keepalived master (VRID)');
      otherVrid.kill('SIGTERM');
      await otherVrid.exited;
      const s2 = otherVrid.events.find((e: any) => e.event === 'stopped').stats;
      expect(s2.drops.vrid).toBeGreaterThan(0);
      expect(s2.advertsReceived).toBe(0);
    } finally {
      l.cleanup();
    }
  });
});
