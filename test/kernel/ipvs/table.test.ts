// IpvsTable against the lab kernel: adoption, minimal changes, drift repair after
// `ipvsadm -C`, ownership, the periodic verify, dry runs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IpvsApplyError, IpvsClient, IpvsTable, type DesiredService, type Timers } from './setup.js';
import { useNetns } from '../helpers.js';
import { parseSave, viewOf } from '../../fixtures/ipvs/ipvsadm.js';

const ns = useNetns('ipvs');
let c: IpvsClient;
beforeEach(async () => {
  c = await IpvsClient.open({ netns: ns.path });
});
afterEach(() => c.close());

const web = (weights = [1, 2, 3]): DesiredService => ({
  protocol: 'tcp',
  address: '10.0.0.1',
  port: 80,
  scheduler: 'wrr',
  persistenceTimeout: 300,
  destinations: weights.map((w, i) => ({ address: `192.0.2.${i + 1}`, weight: w })),
});
const dns: DesiredService = {
  protocol: 'udp',
  address: '10.0.0.1',
  port: 53,
  scheduler: 'rr',
  destinations: [{ address: '192.0.2.10', forwardingMethod: 'masq', port: 5353, upperThreshold: 50, lowerThreshold: 40 }],
};
const RULES = [
  '-A -t 10.0.0.1:80 -s wrr -p 300',
  '-a -t 10.0.0.1:80 -r 192.0.2.1:80 -g -w 1',
  '-a -t 10.0.0.1:80 -r 192.0.2.2:80 -g -w 2',
  '-a -t 10.0.0.1:80 -r 192.0.2.3:80 -g -w 3',
  '-A -u 10.0.0.1:53 -s rr',
  '-a -u 10.0.0.1:53 -r 192.0.2.10:5353 -m -w 1 -x 50 -y 40',
].join('\n');
const saved = () => parseSave(ns.sh('ipvsadm -Sn'));

describe('IpvsTable', () => {
  it('programs an empty namespace and reports what it did', async () => {
    const t = new IpvsTable(c);
    const events: string[] = [];
    t.on('applied', (r) => events.push(`applied ${r.ops.length}`));
    const r = await t.apply([web(), dns]);
    expect(r.dumped).toBe(true);
    expect(r.ops.map((o) => o.kind)).toEqual(['add-service', 'add-service']);
    expect(r.messages).toBe(6);
    expect(saved()).toEqual(viewOf([web(), dns]));
    expect(events).toEqual(['applied 2']);
  });

  it('adopts a table made by ipvsadm: nothing is removed or re-added', async () => {
    ns.sh('ipvsadm -R', RULES + '\n');
    const before = ns.sh('ipvsadm -Sn');
    const t = new IpvsTable(c);
    const sent = c.counters.messages;
    const r = await t.apply([web(), dns]);
    expect(r.ops).toEqual([]);
    expect(r.dumped).toBe(true);
    // Only the dump requests went out: no change message.
    expect(c.counters.messages - sent).toBe(1 + 2);
    expect(ns.sh('ipvsadm -Sn')).toBe(before);
  });

  it('after one change sends exactly one message, without dumping again', async () => {
    const t = new IpvsTable(c);
    const desired = [web(), dns];
    await t.apply(desired);
    const sent = c.counters.messages;
    (desired[0].destinations![1] as { weight: number }).weight = 20; // changed in place, as callers do
    const r = await t.apply(desired);
    expect(r.dumped).toBe(false);
    expect(r.ops.map((o) => o.kind)).toEqual(['edit-destination']);
    expect(c.counters.messages - sent).toBe(1);
    expect(saved()).toEqual(viewOf([web([1, 20, 3]), dns]));
    // Nothing changed: nothing sent.
    const again = await t.apply(desired);
    expect(again.ops).toEqual([]);
    expect(c.counters.messages - sent).toBe(1);
  });

  it('applyService and removeService touch one service with one message each', async () => {
    const t = new IpvsTable(c);
    await t.apply([web(), dns]);
    const sent = c.counters.messages;
    const r = await t.applyService(web([1, 5, 3]));
    expect(r.ops.map((o) => o.kind)).toEqual(['edit-destination']);
    expect(r.dumped).toBe(false);
    const gone = await t.removeService(dns);
    expect(gone.ops.map((o) => o.kind)).toEqual(['delete-service']);
    expect(c.counters.messages - sent).toBe(2);
    expect(saved()).toEqual(viewOf([web([1, 5, 3])]));
    // The full table remembers both: a verify finds nothing to do, an apply of the same nothing to send.
    expect((await t.verify()).ops).toEqual([]);
    expect((await t.apply([web([1, 5, 3])])).ops).toEqual([]);
  });

  it('adds the new real server before removing the old, and deletes a dropped service with one message', async () => {
    const t = new IpvsTable(c);
    await t.apply([web(), dns]);
    const next = web([1, 2]);
    next.destinations!.push({ address: '192.0.2.9' });
    const r = await t.apply([next]);
    expect(r.ops.map((o) => o.kind)).toEqual(['add-destination', 'delete-destination', 'delete-service']);
    expect(saved()).toEqual(viewOf([next]));
  });

  it('finds and repairs drift after ipvsadm -C', async () => {
    const t = new IpvsTable(c);
    await t.apply([web(), dns]);
    ns.sh('ipvsadm -C');
    ns.sh('ipvsadm -A -t 10.0.0.9:80 -s rr'); // someone else's service appears meanwhile
    const drift: number[] = [];
    t.on('drift', (d) => drift.push(d.ops.length));
    const r = await t.verify();
    expect(r.ops.map((o) => o.kind)).toEqual(['add-service', 'add-service']);
    expect(drift).toEqual([2]);
    const want = viewOf([web(), dns, { protocol: 'tcp', address: '10.0.0.9', port: 80, scheduler: 'rr' }]);
    expect(saved()).toEqual(want);
    // A second verify finds nothing.
    expect((await t.verify()).ops).toEqual([]);
  });

  it('repairs a changed weight and a deleted real server', async () => {
    const t = new IpvsTable(c);
    await t.apply([web()]);
    ns.sh('ipvsadm -e -t 10.0.0.1:80 -r 192.0.2.1:80 -g -w 50 && ipvsadm -d -t 10.0.0.1:80 -r 192.0.2.2:80');
    const r = await t.verify();
    expect(r.ops.map((o) => o.kind).sort()).toEqual(['add-destination', 'edit-destination']);
    expect(saved()).toEqual(viewOf([web()]));
  });

  it('never touches services it does not own', async () => {
    ns.sh('ipvsadm -A -f 42 -s sh && ipvsadm -a -f 42 -r 192.0.2.200:0 -g -w 7');
    ns.sh('ipvsadm -A -t 10.0.0.1:443 -s lc');
    const foreign = ns.sh('ipvsadm -Sn');
    const t = new IpvsTable(c, { owned: [{ protocol: 'udp', address: '10.0.0.1', port: 53 }] });
    await t.apply([web()]);
    await t.apply([]); // web is owned now (it was applied): deleted; the foreign services stay
    ns.sh('ipvsadm -A -u 10.0.0.1:53 -s rr'); // an owned key appears in the kernel
    await t.verify();
    expect(ns.sh('ipvsadm -Sn')).toBe(foreign);
  });

  it('plan() is a dry run', async () => {
    const t = new IpvsTable(c);
    const ops = await t.plan([web()]);
    expect(ops).toMatchObject([{ kind: 'add-service', destinations: [{}, {}, {}] }]);
    expect(ns.sh('ipvsadm -Sn')).toBe('');
  });

  it('runs verify on an injected timer and emits errors instead of throwing', async () => {
    let tick: (() => void) | undefined;
    let cleared = false;
    const timers: Timers = {
      setInterval: (fn) => {
        tick = fn;
        return 1;
      },
      clearInterval: () => {
        cleared = true;
      },
    };
    const t = new IpvsTable(c, { verifyInterval: 5000, timers });
    await t.apply([web()]);
    t.start();
    ns.sh('ipvsadm -C');
    const repaired = new Promise((r) => t.once('drift', r));
    tick!();
    await repaired;
    await t.verify(); // waits for the timer's verify to finish (calls are serialised)
    expect(saved()).toEqual(viewOf([web()]));
    t.stop();
    expect(cleared).toBe(true);
  });

  it('reports failed operations with their objects and re-reads the kernel next time', async () => {
    const t = new IpvsTable(c);
    await t.apply([web()]);
    const errors: Error[] = [];
    t.on('error', (e) => errors.push(e));
    ns.sh('ipvsadm -D -t 10.0.0.1:80'); // behind the table's back
    const bad = web([1, 2, 9]);
    const e = await t.apply([bad]).catch((x) => x);
    expect(e).toBeInstanceOf(IpvsApplyError);
    expect((e as IpvsApplyError).errors[0]).toMatchObject({ code: 'LVSD_ERR_IPVS_NOT_FOUND', object: { op: 'edit-destination' } });
    expect(errors).toHaveLength(1);
    const r = await t.apply([bad]);
    expect(r.dumped).toBe(true);
    expect(saved()).toEqual(viewOf([bad]));
  });

  it('rejects invalid desired state before sending anything', async () => {
    const t = new IpvsTable(c);
    const sent = c.counters.messages;
    await expect(t.apply([{ ...web(), scheduler: 'fastest' }])).rejects.toMatchObject({ code: 'LVSD_ERR_IPVS_INVALID', message: /scheduler/ });
    expect(c.counters.messages).toBe(sent);
  });

  it('resyncs by dump when the answers of the kernel overflow the receive buffer (ENOBUFS)', async () => {
    const small = await IpvsClient.open({ netns: ns.path, rcvbuf: 4096 });
    try {
      const big = (w: number): DesiredService => ({
        protocol: 'tcp',
        address: '10.0.0.1',
        port: 80,
        destinations: Array.from({ length: 600 }, (_, i) => ({ address: `10.9.${i >> 7}.${(i & 127) + 1}`, weight: w })),
      });
      const t = new IpvsTable(small);
      await t.apply([big(1)]);
      ns.sh('ipvsadm -D -t 10.0.0.1:80'); // behind the table's back: 600 edits will fail
      const r = await t.apply([big(2)]);
      // The failures overflowed the socket, so the table read the kernel again and re-created the service.
      expect(r.dumped).toBe(true);
      expect(r.ops.map((o) => o.kind)).toEqual(['add-service']);
      expect(saved()).toEqual(viewOf([big(2)]));
    } finally {
      small.close();
    }
  });
});
