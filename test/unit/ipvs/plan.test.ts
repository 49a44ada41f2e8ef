import { describe, expect, it } from 'vitest';
import { normalizeDestination, normalizeService, plan, type DesiredService, type IpvsOp, type TableSnapshot } from '@lvsd/ipvs';

const web: DesiredService = {
  protocol: 'tcp',
  address: '10.0.0.1',
  port: 80,
  scheduler: 'wrr',
  destinations: [
    { address: '192.0.2.1', weight: 1 },
    { address: '192.0.2.2', weight: 2 },
  ],
};
const dns: DesiredService = { protocol: 'udp', address: '10.0.0.2', port: 53, destinations: [{ address: '192.0.2.3', forwardingMethod: 'masq' }] };

/** What the kernel would report for these specs (canonical form, as a dump decodes). */
function kernel(...specs: DesiredService[]): TableSnapshot {
  return {
    services: specs.map((s) => {
      const service = normalizeService(s);
      return { service, destinations: (s.destinations ?? []).map((d) => normalizeDestination(d, service)) };
    }),
  };
}

/** One line per message the ops send, in order (an add-service sends its real servers right after it). */
const summary = (ops: IpvsOp[]) =>
  ops.flatMap((o) => {
    const svc = `${o.service.protocol ?? 'fwmark'}:${o.service.address ?? o.service.fwmark}`;
    const head = `${o.kind} ${svc}${'destination' in o ? ` ${o.destination.address}` : ''}`;
    if (o.kind !== 'add-service') return [head];
    return [head, ...(o.destinations ?? []).map((d) => `add-destination ${svc} ${d.address}`)];
  });

describe('plan', () => {
  it('creates each service right before its destinations, from empty, in one op per service', () => {
    const ops = plan(kernel(), [web, dns]);
    expect(ops.map((o) => o.kind)).toEqual(['add-service', 'add-service']);
    expect(summary(ops)).toEqual([
      'add-service tcp:10.0.0.1',
      'add-destination tcp:10.0.0.1 192.0.2.1',
      'add-destination tcp:10.0.0.1 192.0.2.2',
      'add-service udp:10.0.0.2',
      'add-destination udp:10.0.0.2 192.0.2.3',
    ]);
  });

  it('adopts a table that already matches: no operation', () => {
    expect(plan(kernel(web, dns), [web, dns])).toEqual([]);
  });

  it('adopts despite spelling differences and kernel-only fields', () => {
    const v6: DesiredService = { protocol: 'tcp', address: '2001:db8:0::1', port: 80, destinations: [{ address: '2001:DB8::2' }] };
    const k = kernel({ protocol: 'tcp', address: '2001:db8::1', port: 80, destinations: [{ address: '2001:db8::2' }] });
    (k.services[0].destinations[0] as { activeConns?: number }).activeConns = 12;
    expect(plan(k, [v6])).toEqual([]);
  });

  it('ignores timeout and granularity of a non-persistent service', () => {
    const k = kernel(dns);
    k.services[0].service = { ...k.services[0].service, persistenceTimeout: 300, persistenceNetmask: '255.255.255.0' };
    expect(plan(k, [dns])).toEqual([]);
  });

  it('sends one edit for one changed weight', () => {
    const changed = { ...web, destinations: [{ address: '192.0.2.1', weight: 1 }, { address: '192.0.2.2', weight: 7 }] };
    const ops = plan(kernel(web, dns), [changed, dns]);
    expect(summary(ops)).toEqual(['edit-destination tcp:10.0.0.1 192.0.2.2']);
    expect(ops[0]).toMatchObject({ destination: { weight: 7 }, previous: { weight: 2 } });
  });

  it('edits a service in place when its scheduler or persistence changes', () => {
    const ops = plan(kernel(web), [{ ...web, scheduler: 'lc', persistenceTimeout: 60 }]);
    expect(summary(ops)).toEqual(['edit-service tcp:10.0.0.1']);
  });

  it('adds new real servers before deleting old ones (never leaves a service empty)', () => {
    const swapped = { ...web, destinations: [{ address: '192.0.2.9', weight: 1 }] };
    expect(summary(plan(kernel(web), [swapped]))).toEqual([
      'add-destination tcp:10.0.0.1 192.0.2.9',
      'delete-destination tcp:10.0.0.1 192.0.2.1',
      'delete-destination tcp:10.0.0.1 192.0.2.2',
    ]);
  });

  it('orders: services, new destinations, edited destinations, removed destinations, removed services', () => {
    const moved: DesiredService = { ...web, address: '10.0.0.9' };
    const dns2 = { ...dns, destinations: [{ address: '192.0.2.3', forwardingMethod: 'masq' as const, weight: 5 }, { address: '192.0.2.4' }] };
    const ops = plan(kernel(web, dns), [moved, dns2], [web]);
    expect(summary(ops)).toEqual([
      'add-service tcp:10.0.0.9',
      'add-destination tcp:10.0.0.9 192.0.2.1',
      'add-destination tcp:10.0.0.9 192.0.2.2',
      'add-destination udp:10.0.0.2 192.0.2.4',
      'edit-destination udp:10.0.0.2 192.0.2.3',
      'delete-service tcp:10.0.0.1',
    ]);
  });

  it('deletes an owned service with one message, its destinations going with it', () => {
    const ops = plan(kernel(web, dns), [dns], [web]);
    expect(summary(ops)).toEqual(['delete-service tcp:10.0.0.1']);
  });

  it('never touches services it does not own', () => {
    const foreign: DesiredService = { fwmark: 42, scheduler: 'rr', destinations: [{ address: '192.0.2.200' }] };
    expect(plan(kernel(web, foreign), [])).toEqual([]);
    expect(summary(plan(kernel(web, foreign), [], ['tcp|10.0.0.1|80']))).toEqual(['delete-service tcp:10.0.0.1']);
  });

  it('takes over a service it is given, editing rather than re-creating it', () => {
    const k = kernel({ ...web, scheduler: 'rr', destinations: [{ address: '192.0.2.1', weight: 9 }] });
    expect(summary(plan(k, [web]))).toEqual(['edit-service tcp:10.0.0.1', 'add-destination tcp:10.0.0.1 192.0.2.2', 'edit-destination tcp:10.0.0.1 192.0.2.1']);
  });

  it('tells fwmark services apart by family', () => {
    const m4: DesiredService = { fwmark: 5, destinations: [{ address: '192.0.2.1' }] };
    const m6: DesiredService = { fwmark: 5, family: 'inet6', destinations: [{ address: '2001:db8::1' }] };
    expect(summary(plan(kernel(m4), [m4, m6]))).toEqual(['add-service fwmark:5', 'add-destination fwmark:5 2001:db8::1']);
  });

  it('compares tunnel settings only for tunnel destinations', () => {
    const t: DesiredService = { ...web, destinations: [{ address: '192.0.2.1', forwardingMethod: 'tunnel', tunnelType: 'gue', tunnelPort: 5555 }] };
    expect(plan(kernel(t), [t])).toEqual([]);
    const t2: DesiredService = { ...web, destinations: [{ address: '192.0.2.1', forwardingMethod: 'tunnel', tunnelType: 'gue', tunnelPort: 5556 }] };
    expect(summary(plan(kernel(t), [t2]))).toEqual(['edit-destination tcp:10.0.0.1 192.0.2.1']);
  });

  it('rejects invalid desired state before planning anything', () => {
    expect(() => plan(kernel(), [{ ...web, destinations: [{ address: '192.0.2.1', weight: 70000000000 }] }])).toThrow(/weight/);
  });
});
