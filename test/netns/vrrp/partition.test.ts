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

  const block = (l: any) =>
    l.exec('br', 'nft', ['-f', '-'], {
      input: 'table bridge vrrp_part {\n chain filter_vrrp {\n  type filter hook forward priority 0;\n  ip protocol 112 drop\n  ip6 nexthdr 112 drop\n }\n}\n',
    });
  const heal = (l: any) => l.exec('br', 'nft', ['delete', 'table', 'bridge', 'vrrp_part']);

  /** Partition, both become master, heal: one master (a) within 3 adverts and a fresh gARP from a. */
  async function partitionAndHeal(l: any, vip: string, garp: ReturnType<typeof watchGarp>, advertMs: number) {
    block(l);
    await lab.waitFor(() => owners(l, vip).length === 2, 3000, 'two masters during the partition');
    await lab.sleep(advertMs * 3);
    const healAt = performance.now();
    const garpsBefore = garp.seen.length;
    heal(l);
    await lab.waitFor(() => owners(l, vip).join() === 'a', 3000, 'one master after the heal', 2);
    expect(performance.now() - healAt).toBeLessThan(3 * advertMs); // within 3 adverts of the heal
    expect(await steadyOwner(l, vip, 1000)).toBe('a');
    const fresh = garp.seen.slice(garpsBefore).filter((g) => g.mac === l.mac.a && g.t >= healAt);
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh[0].t - healAt).toBeLessThan(3 * advertMs);
  }

  it('keepalived master, lvsd backup: heal within 3 adverts with a fresh gARP; the client follows the VIP MAC on failover', async () => {
    const l = lab.createLab({ net: 7 });
    labs.push(l);
    const vip = '10.77.7.100';
    const garp = watchGarp(`/var/run/netns/${l.ns.c}`, vip);
    try {
      lab.startKeepalived(l, 'a', lab.keepalivedConf({ vrid: 21, priority: 150, version: 3, advertInt: 0.2, vips: [`${vip}/24`] }));
      await lab.waitFor(() => lab.hasAddress(l, 'a', vip), 8000, 'keepalived master');
      const lv = lab.startLvsd(l, 'b', { name: 'VI_1', interface: 'eth0', virtualRouterId: 21, priority: 100, version: 3, advertInt: 0.2, virtualIpaddress: [`${vip}/24`] });
      await lv.ready();
      expect(await steadyOwner(l, vip, 1000)).toBe('a');
      // a datagram to the VIP makes the client resolve it (no ping binary needed)
      l.exec('c', process.execPath, ['-e', `const s=require('dgram').createSocket('udp4');s.send('x',9,'${vip}',()=>setTimeout(()=>s.close(),200))`]);
      await lab.waitFor(() => neighMac(l, vip) === l.mac.a, 2000, 'the client resolves the VIP to a');

      // lvsd, yielding after the heal, sends one advert at its own priority: keepalived
      // hears a lower priority master and re-announces the VIP
      await partitionAndHeal(l, vip, garp, 200);
      expect(neighMac(l, vip)).toBe(l.mac.a);

      // failover: the client's entry for the VIP moves to b's MAC through lvsd's gARP
      for (const p of l.procs) if (p.kind === 'keepalived') p.kill('SIGKILL');
      await lab.waitFor(() => neighMac(l, vip) === l.mac.b, 3000, "the client's neighbour entry moves to b");
    } finally {
      garp.close();
      l.cleanup();
    }
  });

  it('two lvsd directors: heal within 3 adverts with a fresh gARP from the winner', async () => {
    const l = lab.createLab({ net: 8 });
    labs.push(l);
    const vip = '10.77.8.100';
    const garp = watchGarp(`/var/run/netns/${l.ns.c}`, vip);
    try {
      const o = { name: 'VI_1', interface: 'eth0', virtualRouterId: 22, version: 3, advertInt: 0.2, virtualIpaddress: [`${vip}/24`] };
      const b = lab.startLvsd(l, 'b', { ...o, priority: 100 });
      const a = lab.startLvsd(l, 'a', { ...o, priority: 150 });
      await Promise.all([a.ready(), b.ready()]);
      await lab.waitFor(() => owners(l, vip).join() === 'a', 8000, 'a master');
      expect(await steadyOwner(l, vip, 1000)).toBe('a');
      await partitionAndHeal(l, vip, garp, 200);
    } finally {
      garp.close();
      l.cleanup();
    }
  });
});
