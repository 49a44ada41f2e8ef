import { describe, expect, it } from 'vitest';
import { IpvsError, normalizeDestination, normalizeService, normalizeTable, MAX_WEIGHT } from '@lvsd/ipvs';

const svc = normalizeService({ protocol: 'tcp', address: '10.0.0.1', port: 80 });

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IpvsError);
    return (e as IpvsError).code;
  }
  return 'no error';
}

describe('service validation', () => {
  it('fills ipvsadm defaults', () => {
    expect(svc).toMatchObject({
      family: 'inet',
      protocol: 'tcp',
      address: '10.0.0.1',
      port: 80,
      scheduler: 'wlc',
      persistent: false,
      persistenceTimeout: 0,
      persistenceNetmask: '255.255.255.255',
      onePacket: false,
      flags: 0,
      schedulerFlags: [],
    });
  });

  it('canonicalises IPv6 and defaults its granularity to /128', () => {
    const s = normalizeService({ protocol: 'udp', address: '2001:DB8:0:0::1', port: 53 });
    expect(s.address).toBe('2001:db8::1');
    expect(s.family).toBe('inet6');
    expect(s.persistenceNetmask).toBe(128);
  });

  it('maps persistence, one-packet and scheduler flags to kernel bits', () => {
    const s = normalizeService({
      protocol: 'udp',
      address: '10.0.0.1',
      port: 443,
      scheduler: 'sh',
      schedulerFlags: ['sh-fallback', 'sh-port'],
      persistenceTimeout: 300,
      persistenceNetmask: 24,
      onePacket: true,
    });
    expect(s.flags).toBe(0x1 | 0x4 | 0x8 | 0x10);
    expect(s.persistenceNetmask).toBe('255.255.255.0');
    expect(s.schedulerFlags).toEqual(['sh-fallback', 'sh-port']);
  });

  it('accepts fwmark services of either family', () => {
    expect(normalizeService({ fwmark: 7 })).toMatchObject({ fwmark: 7, family: 'inet' });
    expect(normalizeService({ fwmark: 7, family: 'inet6' })).toMatchObject({ fwmark: 7, family: 'inet6', persistenceNetmask: 128 });
  });

  it.each([
    ['bad address', { protocol: 'tcp', address: '10.0.0.256', port: 80 }],
    ['hostname', { protocol: 'tcp', address: 'example.org', port: 80 }],
    ['port 0 on tcp', { protocol: 'tcp', address: '10.0.0.1', port: 0 }],
    ['port 0 on udp', { protocol: 'udp', address: '10.0.0.1', port: 0 }],
    ['port 0 on sctp', { protocol: 'sctp', address: '10.0.0.1', port: 0 }],
    ['port too big', { protocol: 'tcp', address: '10.0.0.1', port: 65536 }],
    ['unknown protocol', { protocol: 'icmp', address: '10.0.0.1', port: 1 }],
    ['unknown scheduler', { protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'fastest' }],
    ['flag for another scheduler', { protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr', schedulerFlags: ['sh-port'] }],
    ['unknown flag', { protocol: 'tcp', address: '10.0.0.1', port: 80, schedulerFlags: ['fast'] }],
    ['zero persistence', { protocol: 'tcp', address: '10.0.0.1', port: 80, persistenceTimeout: 0 }],
    ['fractional persistence', { protocol: 'tcp', address: '10.0.0.1', port: 80, persistenceTimeout: 1.5 }],
    ['v4 prefix 33', { protocol: 'tcp', address: '10.0.0.1', port: 80, persistenceNetmask: 33 }],
    ['v6 mask as dotted', { protocol: 'tcp', address: '::1', port: 80, persistenceNetmask: '255.0.0.0' }],
    ['v6 prefix 0', { protocol: 'tcp', address: '::1', port: 80, persistenceNetmask: 0 }],
    ['unknown engine', { protocol: 'udp', address: '10.0.0.1', port: 5060, persistenceEngine: 'http' }],
    ['fwmark 0', { fwmark: 0 }],
    ['one-packet on tcp', { protocol: 'tcp', address: '10.0.0.1', port: 80, onePacket: true }],
    ['fwmark and address', { fwmark: 1, address: '10.0.0.1' }],
    ['family mismatch', { protocol: 'tcp', address: '10.0.0.1', port: 80, family: 'inet6' }],
  ])('rejects %s', (_name, spec) => {
    expect(code(() => normalizeService(spec as never))).toBe('LVSD_ERR_IPVS_INVALID');
  });
});

describe('destination validation', () => {
  it('defaults to direct routing, weight 1, the service port', () => {
    expect(normalizeDestination({ address: '192.0.2.1' }, svc)).toEqual({
      address: '192.0.2.1',
      family: 'inet',
      port: 80,
      forwardingMethod: 'route',
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
    });
  });

  it('takes tunnels with gue port and checksum, and mixed families only over a tunnel', () => {
    const d = normalizeDestination({ address: '2001:db8::5', forwardingMethod: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'remcsum' }, svc);
    expect(d).toMatchObject({ family: 'inet6', tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'remcsum' });
    expect(code(() => normalizeDestination({ address: '2001:db8::5', forwardingMethod: 'route' }, svc))).toBe('LVSD_ERR_IPVS_INVALID');
  });

  it('accepts the weight range of the kernel int', () => {
    expect(normalizeDestination({ address: '192.0.2.1', weight: 0 }, svc).weight).toBe(0);
    expect(normalizeDestination({ address: '192.0.2.1', weight: MAX_WEIGHT }, svc).weight).toBe(2147483647);
  });

  it.each([
    ['bad address', { address: '192.0.2' }],
    ['negative weight', { address: '192.0.2.1', weight: -1 }],
    ['weight above int', { address: '192.0.2.1', weight: 2147483648 }],
    ['fractional weight', { address: '192.0.2.1', weight: 1.5 }],
    ['lower above upper', { address: '192.0.2.1', upperThreshold: 10, lowerThreshold: 11 }],
    ['lower without upper', { address: '192.0.2.1', lowerThreshold: 5 }],
    ['negative threshold', { address: '192.0.2.1', upperThreshold: -1 }],
    ['port out of range', { address: '192.0.2.1', port: 70000 }],
    ['unknown method', { address: '192.0.2.1', forwardingMethod: 'nat' }],
    ['tunnel options without tunnel', { address: '192.0.2.1', tunnelType: 'gue' }],
    ['gue without port', { address: '192.0.2.1', forwardingMethod: 'tunnel', tunnelType: 'gue' }],
    ['port on ipip', { address: '192.0.2.1', forwardingMethod: 'tunnel', tunnelPort: 5 }],
    ['checksum on ipip', { address: '192.0.2.1', forwardingMethod: 'tunnel', tunnelChecksum: 'csum' }],
    ['unknown tunnel', { address: '192.0.2.1', forwardingMethod: 'tunnel', tunnelType: 'vxlan' }],
    // names an object has by inheritance are not names in the tables
    ['method toString', { address: '192.0.2.1', forwardingMethod: 'toString' }],
    ['method constructor', { address: '192.0.2.1', forwardingMethod: 'constructor' }],
    ['tunnel __proto__', { address: '192.0.2.1', forwardingMethod: 'tunnel', tunnelType: '__proto__' }],
    ['checksum valueOf', { address: '192.0.2.1', forwardingMethod: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'valueOf' }],
  ])('rejects %s', (_name, spec) => {
    expect(code(() => normalizeDestination(spec as never, svc))).toBe('LVSD_ERR_IPVS_INVALID');
  });

  it('rejects a protocol that is only an inherited name', () => {
    expect(code(() => normalizeService({ protocol: 'toString' as never, address: '10.0.0.1', port: 80 }))).toBe('LVSD_ERR_IPVS_INVALID');
    expect(code(() => normalizeTable([{ protocol: 'tcp', address: '10.0.0.1', port: 80, destinations: [{ address: '192.0.2.1', forwardingMethod: 'hasOwnProperty' as never }] }]))).toBe('LVSD_ERR_IPVS_INVALID');
  });

  it('names the object in the error', () => {
    try {
      normalizeDestination({ address: '192.0.2.1', weight: -3 }, svc);
    } catch (e) {
      expect((e as IpvsError).object).toMatchObject({ destination: { address: '192.0.2.1', weight: -3 } });
      expect((e as IpvsError).message).toMatch(/weight/);
    }
  });
});

describe('desired tables', () => {
  it('rejects duplicate services and destinations, however spelled', () => {
    expect(
      code(() =>
        normalizeTable([
          { protocol: 'tcp', address: '2001:db8::1', port: 80 },
          { protocol: 'tcp', address: '2001:DB8::0:1', port: 80 },
        ]),
      ),
    ).toBe('LVSD_ERR_IPVS_INVALID');
    expect(
      code(() => normalizeTable([{ protocol: 'tcp', address: '10.0.0.1', port: 80, destinations: [{ address: '192.0.2.1' }, { address: '192.0.2.1', port: 80 }] }])),
    ).toBe('LVSD_ERR_IPVS_INVALID');
  });

  it('reuses unchanged entries of a previous table and re-validates changed ones', () => {
    const spec = [
      { protocol: 'tcp' as const, address: '10.0.0.1', port: 80, destinations: [{ address: '192.0.2.1' }, { address: '192.0.2.2', weight: 3 }] },
      { protocol: 'udp' as const, address: '10.0.0.1', port: 53, destinations: [{ address: '192.0.2.1' }] },
    ];
    const a = normalizeTable(spec);
    const b = normalizeTable(spec, a);
    expect(b.get('tcp|10.0.0.1|80')).toBe(a.get('tcp|10.0.0.1|80'));
    spec[0].destinations[1].weight = 4;
    const c = normalizeTable(spec, b);
    expect(c.get('tcp|10.0.0.1|80')).not.toBe(b.get('tcp|10.0.0.1|80'));
    expect(c.get('tcp|10.0.0.1|80')!.dests[1].weight).toBe(4);
    expect(c.get('udp|10.0.0.1|53')).toBe(a.get('udp|10.0.0.1|53'));
    spec[0].destinations[1].weight = -1;
    expect(code(() => normalizeTable(spec, c))).toBe('LVSD_ERR_IPVS_INVALID');
  });
});
