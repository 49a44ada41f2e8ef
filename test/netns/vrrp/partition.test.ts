// A partition (nftables on the bridge dropping IP protocol 112) makes two masters;
// after the heal exactly one is left within 3 adverts and it re-announces the VIP
// with a gratuitous ARP. A client's neighbour entry follows the VIP's MAC on
// failover.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consts, RawSocket } from '@lvsd/native';
import { buildVrrp, canNetns, lab, owners, steadyOwner } from './helpers.js';

const labs: any[] = [];
afterAll(() => {
  for (const l of labs) l.cleanup();
});

/** Gratuitous ARPs for `vip` seen in the client namespace: [time, sender MAC]. */
function watchGarp(netns: string, vip: string) {
  const sock = new RawSocket(consts.AF_PACKET, consts.SOCK_RAW, 0x0608 /* htons(ETH_P_ARP) */, { netns });
  const seen: { t: number; mac: string }[] = [];
  const want = Buffer.from(vip.split('.').map(Number));
  sock.on('message', (m) => {
    const f = m.data;
    if (f.length >= 42 && f.subarray(28, 32).equals(want) && f.subarray(38, 42).equals(want)) {
      seen.push({ t: performance.now(), mac: [...f.subarray(22, 28)].map((b) => b.toString(16).padStart(2, '0')).join(':') });
    }
  });
  sock.listen();
  return { seen, close: () => sock.close() };
}

const neighMac = (l: any, vip: string) => /lladdr ([0-9a-f:]+)/.exec(lab.sh('ip', ['-n', l.ns.c, 'neigh', 'show', vip]))?.[1];

describe.skipIf(!canNetns())('partition, heal and failover seen from a client', () => {
  beforeAll(() => buildVrrp(), 120_000);

  it('nftables partition then heal: one master within 3 adverts and a fresh gARP; the client follows the VIP MAC on failover', async () => {
    const l = lab.createLab({ net: 7 });
    labs.push(l);
    const vip = '10.77.7.100';
    const garp = watchGarp(`/var/run/netns/${l.ns.c}`, vip);
    try {
      const ka = lab.startKeepalived(l, 'b', lab.keepalivedConf({ vrid: 21, priority: 100, version: 3, advertInt: 0.1, vips: [`${vip}/24`] }));
      await ka.ready();
      const lv = lab.startLvsd(l, 'a', { name: 'VI_1', interface: 'eth0', virtualRouterId: 21, priority: 150, version: 3, advertInt: 0.1, virtualIpaddress: [`${vip}/24`] });
      await lv.ready();
      await lab.waitFor(() => owners(l, vip).join() === 'a', 8000, 'lvsd master');
      expect(await steadyOwner(l, vip, 1000)).toBe('a');
      // a datagram to the VIP makes the client resolve it (no ping binary needed)
      l.exec('c', process.execPath, ['-e', `const s=require('dgram').createSocket('udp4');s.send('x',9,'${vip}',()=>setTimeout(()=>s.close(),200))`]);
      await lab.waitFor(() => neighMac(l, vip) === l.mac.a, 2000, 'the client resolves the VIP to a');

      // partition: the bridge drops VRRP between the directors
      l.exec('br', 'nft', ['-f', '-'], {
        input: 'table bridge vrrp_part {\n chain filter_vrrp {\n  type filter hook forward priority 0;\n  ip protocol 112 drop\n  ip6 nexthdr 112 drop\n }\n}\n',
      });
      await lab.waitFor(() => owners(l, vip).length === 2, 3000, 'two masters during the partition');

      const healAt = performance.now();
      const garpsBefore = garp.seen.length;
      l.exec('br', 'nft', ['delete', 'table', 'bridge', 'vrrp_part']);
      await lab.waitFor(() => owners(l, vip).join() === 'a', 3000, 'one master after the heal', 2);
      const healed = performance.now() - healAt;
      expect(healed).toBeLessThan(3 * 100 + 50);
      expect(await steadyOwner(l, vip, 1000)).toBe('a');
      const fresh = garp.seen.slice(garpsBefore).filter((g) => g.mac === l.mac.a && g.t >= healAt);
      expect(fresh.length).toBeGreaterThan(0);
      expect(fresh[0].t - healAt).toBeLessThan(3 * 100 + 50);

      // failover: the client's entry for the VIP moves to b's MAC through b's gARP
      lv.kill('SIGKILL');
      await lab.waitFor(() => neighMac(l, vip) === l.mac.b, 3000, "the client's neighbour entry moves to b");
    } finally {
      garp.close();
      l.cleanup();
    }
  });
});
