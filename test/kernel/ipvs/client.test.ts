// IpvsClient against the lab kernel: every feature programmed by lvsd and read back
// with ipvsadm (-Sn, -Ln --thresholds, --stats), each test in a fresh namespace.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IpvsClient, SCHEDULERS_IN_LAB, type DesiredService } from './setup.js';
import { useNetns } from '../helpers.js';
import { parseSave, parseStats, parseThresholds, viewOf } from '../../fixtures/ipvs/ipvsadm.js';

const ns = useNetns('ipvs');
let c: IpvsClient;
beforeEach(async () => {
  c = await IpvsClient.open({ netns: ns.path });
});
afterEach(() => c.close());

/** Programs the services one call at a time through the imperative API. */
async function program(table: DesiredService[]): Promise<void> {
  for (const s of table) {
    await c.addService(s);
    for (const d of s.destinations ?? []) await c.addDestination(s as never, d);
  }
}
const saved = () => parseSave(ns.sh('ipvsadm -Sn'));

describe('services', () => {
  it('every scheduler the kernel has', async () => {
    const table: DesiredService[] = SCHEDULERS_IN_LAB.map((sched, i) => ({ protocol: 'tcp', address: `10.0.1.${i + 1}`, port: 80, scheduler: sched }));
    await program(table);
    expect(saved()).toEqual(viewOf(table));
    expect((await c.listServices()).map((s) => s.scheduler).sort()).toEqual([...SCHEDULERS_IN_LAB].sort());
  });

  it('TCP, UDP, SCTP and fwmark, IPv4 and IPv6', async () => {
    const table: DesiredService[] = [
      { protocol: 'tcp', address: '10.0.0.1', port: 80 },
      { protocol: 'udp', address: '10.0.0.1', port: 53 },
      { protocol: 'sctp', address: '10.0.0.1', port: 3868 },
      { protocol: 'tcp', address: '2001:db8::1', port: 443 },
      { protocol: 'udp', address: '2001:db8::1', port: 53 },
      { protocol: 'sctp', address: '2001:db8::1', port: 3868 },
      { fwmark: 1 },
      { fwmark: 1, family: 'inet6' },
    ];
    await program(table);
    expect(saved()).toEqual(viewOf(table));
    const got = await c.listServices();
    expect(got).toHaveLength(8);
    expect(got.find((s) => s.fwmark === 1 && s.family === 'inet6')).toBeTruthy();
  });

  it('persistence with netmask and prefix, one-packet, sh/mh flags, the sip engine', async () => {
    const table: DesiredService[] = [
      { protocol: 'tcp', address: '10.0.0.1', port: 80, persistenceTimeout: 300, persistenceNetmask: '255.255.255.0' },
      { protocol: 'tcp', address: '10.0.0.2', port: 80, persistenceTimeout: 60, persistenceNetmask: 16 },
      { protocol: 'tcp', address: '2001:db8::1', port: 80, persistenceTimeout: 1800, persistenceNetmask: 64 },
      { protocol: 'udp', address: '10.0.0.3', port: 53, onePacket: true },
      { protocol: 'tcp', address: '10.0.0.4', port: 80, scheduler: 'sh', schedulerFlags: ['sh-fallback', 'sh-port'] },
      { protocol: 'tcp', address: '10.0.0.5', port: 80, scheduler: 'mh', schedulerFlags: ['mh-fallback'] },
      { protocol: 'tcp', address: '10.0.0.6', port: 80, scheduler: 'mh', schedulerFlags: ['mh-port'] },
      { protocol: 'udp', address: '10.0.0.7', port: 5060, persistenceTimeout: 60, persistenceEngine: 'sip' },
    ];
    await program(table);
    expect(saved()).toEqual(viewOf(table));
    const v6 = await c.getService({ protocol: 'tcp', address: '2001:db8::1', port: 80 });
    expect(v6).toMatchObject({ persistent: true, persistenceTimeout: 1800, persistenceNetmask: 64 });
  });

  it('edits a service in place and deletes it', async () => {
    const key = { protocol: 'tcp' as const, address: '10.0.0.1', port: 80 };
    await c.addService({ ...key, scheduler: 'rr' });
    await c.addDestination(key, { address: '192.0.2.1' });
    await c.editService({ ...key, scheduler: 'wlc', persistenceTimeout: 30 });
    expect(saved().services).toEqual([{ svc: 'tcp 10.0.0.1:80', scheduler: 'wlc', flags: '', persistent: 30, onePacket: false }]);
    expect(saved().dests).toHaveLength(1); // the real server stayed
    await c.deleteService(key);
    expect(ns.sh('ipvsadm -Sn')).toBe('');
  });
});

describe('destinations', () => {
  const key = { protocol: 'tcp' as const, address: '10.0.0.1', port: 80 };
  beforeEach(() => {
    // A tunnel needs its encapsulation module; the real servers need a route.
    ns.sh('ip link add rs0 type dummy && ip link set rs0 up && ip addr add 192.0.2.1/24 dev rs0 && ip addr add 2001:db8:1::1/64 dev rs0 nodad');
  });

  it('masq, route and tunnel (ipip, gue with port and checksums, gre), weights', async () => {
    const table: DesiredService[] = [
      {
        ...key,
        destinations: [
          { address: '192.0.2.10', forwardingMethod: 'route', weight: 0 },
          { address: '192.0.2.11', port: 8080, forwardingMethod: 'masq', weight: 65535 },
          { address: '192.0.2.12', forwardingMethod: 'tunnel', weight: 3 },
          { address: '192.0.2.13', forwardingMethod: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, weight: 4 },
          { address: '192.0.2.14', forwardingMethod: 'tunnel', tunnelType: 'gue', tunnelPort: 6081, tunnelChecksum: 'csum' },
          { address: '192.0.2.15', forwardingMethod: 'tunnel', tunnelType: 'gue', tunnelPort: 6082, tunnelChecksum: 'remcsum' },
          { address: '192.0.2.16', forwardingMethod: 'tunnel', tunnelType: 'gre' },
          { address: '192.0.2.17', forwardingMethod: 'tunnel', tunnelType: 'gre', tunnelChecksum: 'csum' },
        ],
      },
    ];
    await program(table);
    expect(saved()).toEqual(viewOf(table));
    const dests = await c.listDestinations(key);
    expect(dests.find((d) => d.address === '192.0.2.15')).toMatchObject({ tunnelType: 'gue', tunnelPort: 6082, tunnelChecksum: 'remcsum' });
  });

  it('weights beyond ipvsadm (kernel int) and thresholds, read back with --thresholds', async () => {
    await c.addService(key);
    await c.addDestination(key, { address: '192.0.2.10', weight: 2147483647, upperThreshold: 1000, lowerThreshold: 800 });
    await c.addDestination(key, { address: '192.0.2.11', upperThreshold: 5 });
    const th = parseThresholds(ns.sh('ipvsadm -Ln --thresholds'));
    expect(th.get('tcp 10.0.0.1:80 -> 192.0.2.10:80')).toEqual([1000, 800]);
    expect(th.get('tcp 10.0.0.1:80 -> 192.0.2.11:80')).toEqual([5, 0]);
    expect((await c.listDestinations(key)).find((d) => d.address === '192.0.2.10')!.weight).toBe(2147483647);
  });

  it('mixed-family real servers over a tunnel, both ways', async () => {
    const table: DesiredService[] = [
      { ...key, destinations: [{ address: '2001:db8:1::10', forwardingMethod: 'tunnel' }] },
      { protocol: 'tcp', address: '2001:db8::1', port: 80, destinations: [{ address: '192.0.2.20', forwardingMethod: 'tunnel', tunnelType: 'gre' }] },
    ];
    await program(table);
    expect(saved()).toEqual(viewOf(table));
    expect((await c.listDestinations(key))[0]).toMatchObject({ family: 'inet6', address: '2001:db8:1::10' });
  });

  it('edits and deletes a destination', async () => {
    await c.addService(key);
    await c.addDestination(key, { address: '192.0.2.10', weight: 1 });
    await c.editDestination(key, { address: '192.0.2.10', weight: 9, forwardingMethod: 'masq', upperThreshold: 10 });
    expect(saved().dests).toEqual([{ svc: 'tcp 10.0.0.1:80', dest: '192.0.2.10:80', method: 'm', weight: 9 }]);
    await c.deleteDestination(key, { address: '192.0.2.10' });
    expect(saved().dests).toEqual([]);
    expect(await c.listDestinations(key)).toEqual([]);
  });

  it('stats and stats64 match ipvsadm --stats --exact after real traffic', async () => {
    ns.sh('ip route add 10.0.0.0/24 dev rs0');
    await c.addService({ ...key, scheduler: 'rr' });
    await c.addDestination(key, { address: '192.0.2.10', forwardingMethod: 'route' });
    // A local client's SYNs to the VIP pass IPVS (LOCAL_OUT) and go out on the dummy link,
    // where nobody answers: enough to count connections, packets and bytes.
    ns.sh(`for i in 1 2 3; do timeout 3 bash -c 'exec 3<>/dev/tcp/10.0.0.1/80' 2>/dev/null; done; true`);
    // A late SYN retransmission can land between two reads: compare only readings taken
    // while ipvsadm saw the same counters before and after ours.
    let svc, dest, st;
    for (let i = 0; i < 10; i++) {
      const before = ns.sh('ipvsadm -Ln --stats --exact');
      svc = await c.getService(key);
      [dest] = await c.listDestinations(key);
      const after = ns.sh('ipvsadm -Ln --stats --exact');
      st = parseStats(after);
      if (before === after) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const want = st!.get('tcp 10.0.0.1:80')!;
    expect(want[0]).toBeGreaterThanOrEqual(3n);
    expect([svc!.stats!.conns, svc!.stats!.inpkts, svc!.stats!.outpkts, svc!.stats!.inbytes, svc!.stats!.outbytes]).toEqual(want);
    const d = dest!.stats!;
    expect([d.conns, d.inpkts, d.outpkts, d.inbytes, d.outbytes]).toEqual(st!.get('tcp 10.0.0.1:80 -> 192.0.2.10:80'));
    await c.zero(key);
    expect((await c.getService(key)).stats!.conns).toBe(0n);
  });
});

describe('global settings', () => {
  it('info matches the ipvsadm header', async () => {
    const info = await c.getInfo();
    expect(ns.sh('ipvsadm -Ln')).toContain(`IP Virtual Server version ${info.version} (size=${info.connTableSize})`);
  });

  it('timeouts get and set, 0 leaving a value alone', async () => {
    await c.setTimeouts({ tcp: 1000, tcpFin: 60, udp: 45 });
    expect(await c.getTimeouts()).toEqual({ tcp: 1000, tcpFin: 60, udp: 45 });
    await c.setTimeouts({ tcp: 0, tcpFin: 0, udp: 90 });
    expect(ns.sh('ipvsadm -L --timeout')).toContain('Timeout (tcp tcpfin udp): 1000 60 90');
  });

  it('sync daemons start, list and stop (stop off the event loop)', async () => {
    ns.sh('ip link add sync0 type dummy && ip link set sync0 up && ip addr add 192.0.2.1/24 dev sync0');
    await c.startDaemon({ state: 'master', interface: 'sync0', syncId: 7 });
    await c.startDaemon({ state: 'backup', interface: 'sync0', syncId: 8, mcastGroup: '239.0.0.9', mcastPort: 9000, mcastTtl: 3 });
    const daemons = await c.listDaemons();
    expect(daemons).toEqual([
      { state: 'master', interface: 'sync0', syncId: 7, syncMaxlen: 1472, mcastGroup: '224.0.0.81', mcastPort: 8848, mcastTtl: 1 },
      { state: 'backup', interface: 'sync0', syncId: 8, syncMaxlen: 1472, mcastGroup: '239.0.0.9', mcastPort: 9000, mcastTtl: 3 },
    ]);
    const text = ns.sh('ipvsadm -L --daemon');
    expect(text).toContain('master sync daemon (mcast=sync0, syncid=7');
    expect(text).toContain('backup sync daemon (mcast=sync0, syncid=8, maxlen=1472, group=239.0.0.9, port=9000, ttl=3)');
    // The event loop keeps turning while the kernel stops the thread.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await c.stopDaemon('master');
    await c.stopDaemon('backup');
    clearInterval(timer);
    expect(await c.listDaemons()).toEqual([]);
    expect(ns.sh('ipvsadm -L --daemon')).toBe('');
    expect(ticks).toBeGreaterThanOrEqual(0);
  });

  it('flush empties the namespace only when called', async () => {
    await c.addService({ protocol: 'tcp', address: '10.0.0.1', port: 80 });
    await c.addService({ fwmark: 3 });
    expect(saved().services).toHaveLength(2);
    await c.flush();
    expect(ns.sh('ipvsadm -Sn')).toBe('');
  });
});

describe('batches', () => {
  it('applies 1,000 operations with one sendmsg per ~1,000 and reports each failure', async () => {
    const { normalizeTable, planTables } = await import('@lvsd/ipvs');
    const desired: DesiredService[] = [];
    for (let i = 0; i < 90; i++) {
      desired.push({ protocol: 'tcp', address: `10.1.0.${i + 1}`, port: 80, destinations: Array.from({ length: 10 }, (_, k) => ({ address: `10.2.${i}.${k + 1}` })) });
    }
    const n = normalizeTable(desired);
    const ops = planTables(new Map(), n, new Set(n.keys()));
    expect(ops).toHaveLength(90);
    const res = await c.applyBatch(ops);
    expect(res.errors).toEqual([]);
    expect(res.messages).toBe(990);
    expect(res.datagrams).toBe(1);
    expect(saved()).toEqual(viewOf(desired));
    // Re-sending the same adds: every message fails with EXISTS, and each failure names its object.
    const again = await c.applyBatch(ops.slice(0, 2));
    expect(again.errors).toHaveLength(22);
    expect(new Set(again.errors.map((e) => e.code))).toEqual(new Set(['LVSD_ERR_IPVS_EXISTS']));
    expect(again.results[1]!.object).toMatchObject({ op: 'add-service', service: { address: '10.1.0.2' } });
    expect(again.errors[12].object).toMatchObject({ op: 'add-destination', service: { address: '10.1.0.2' }, destination: { address: '10.2.1.1' } });
  });

  it('an aborted signal stops calls before anything is sent', async () => {
    const { normalizeTable, planTables } = await import('@lvsd/ipvs');
    const n = normalizeTable([{ protocol: 'tcp', address: '10.1.0.1', port: 80, destinations: [{ address: '10.2.0.1' }] }]);
    const ops = planTables(new Map(), n, new Set(n.keys()));
    const ac = new AbortController();
    ac.abort(new Error('shutting down'));
    const sent = c.counters.messages;
    await expect(c.applyBatch(ops, { signal: ac.signal })).rejects.toThrow('shutting down');
    await expect(c.dumpTable({ signal: ac.signal })).rejects.toThrow('shutting down');
    await expect(c.addService({ fwmark: 1 }, { signal: ac.signal })).rejects.toThrow('shutting down');
    expect(c.counters.messages).toBe(sent);
    expect(ns.sh('ipvsadm -Sn')).toBe('');
  });
});
