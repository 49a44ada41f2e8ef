import { describe, expect, it } from 'vitest';
import { parseRoute, parseVip, resolveOptions, VrrpConfigError, type VrrpInstanceOptions } from '@lvsd/vrrp';

const base: VrrpInstanceOptions = { name: 'VI_1', interface: 'eth0', virtualRouterId: 51, virtualIpaddress: ['192.168.100.1'] };
const err = (o: Partial<VrrpInstanceOptions>) => {
  try {
    resolveOptions({ ...base, ...o } as VrrpInstanceOptions);
  } catch (e) {
    expect(e).toBeInstanceOf(VrrpConfigError);
    expect((e as VrrpConfigError).code).toBe('LVSD_ERR_VRRP_CONFIG');
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('options (keepalived keywords)', () => {
  it("keepalived's defaults: priority 100, advert_int 1, v2, /32, preempt, garp 5 s x 5", () => {
    const r = resolveOptions(base);
    expect(r).toMatchObject({ priority: 100, advertIntCs: 100, version: 2, family: 4, preempt: true, preemptDelayMs: 0, authType: 0 });
    expect(r.vips).toEqual([{ address: '192.168.100.1', family: 4, prefix: 32, scope: 0 }]);
    expect(r.garp).toMatchObject({ masterDelay: 5, masterRepeat: 5, masterRefresh: 0, lowerPrioDelay: 5, lowerPrioRepeat: 5 });
    expect(r.rtPriority).toBe(1);
  });
  it('PASS keeps the first 8 bytes, trailing blanks trimmed (the seed configs have "pBkfC1ax ")', () => {
    const r = resolveOptions({ ...base, authentication: { authType: 'PASS', authPass: 'pBkfC1ax ' } });
    expect(r.authData.toString('latin1')).toBe('pBkfC1ax');
    expect(resolveOptions({ ...base, authentication: { authType: 'PASS', authPass: '1111' } }).authData).toEqual(Buffer.from('1111\0\0\0\0'));
  });
  it('AH is a clear unsupported error', () => {
    expect(err({ authentication: { authType: 'AH', authPass: 'x' } })).toMatch(/AH is not supported/);
  });
  it('advert_int: v2 whole seconds, v3 centiseconds 0.01..40.95', () => {
    expect(err({ advertInt: 0.5 })).toMatch(/whole seconds/);
    expect(resolveOptions({ ...base, version: 3, advertInt: 0.02 }).advertIntCs).toBe(2);
    expect(resolveOptions({ ...base, version: 3, advertInt: 40.95 }).advertIntCs).toBe(4095);
    expect(err({ version: 3, advertInt: 41 })).toMatch(/advert_int/);
    expect(err({ version: 3, advertInt: 0.001 })).toMatch(/advert_int/);
  });
  it('rejects what cannot work', () => {
    expect(err({ virtualRouterId: 0 })).toMatch(/virtual_router_id/);
    expect(err({ priority: 256 })).toMatch(/priority/);
    expect(err({ virtualIpaddress: [] })).toMatch(/at least one/);
    expect(err({ virtualIpaddress: ['10.0.0.1', 'fd00::1'] })).toMatch(/mixes/);
    expect(err({ virtualIpaddress: ['fd00::1'] })).toMatch(/version 3/);
    expect(err({ version: 3, authentication: { authType: 'PASS', authPass: 'x' } })).toMatch(/VRRPv3/);
    expect(err({ unicastPeer: ['fd00::2'] })).toMatch(/unicast_peer/);
    expect(err({ virtualIpaddress: ['10.0.0.1 dev'] })).toMatch(/needs a value/);
    expect(err({ virtualIpaddress: ['10.0.0.1 colour red'] })).toMatch(/unknown keyword/);
    expect(err({ trackScript: [{ name: 'x', script: '/bin/true', weight: 300 }] })).toMatch(/weight/);
    expect(err({ rtPriority: 100 })).toMatch(/vrrp_rt_priority must be an integer in 0..99, got 100/);
    expect(err({ rtPriority: 1.5 })).toMatch(/vrrp_rt_priority/);
  });
  it('no_accept (accept: false) is Accept_Mode false', () => {
    expect(resolveOptions(base).accept).toBe(true);
    expect(resolveOptions({ ...base, accept: false }).accept).toBe(false);
  });
  it('virtual_ipaddress lines as keepalived writes them', () => {
    expect(parseVip('172.18.200.6 dev eno16777736 label eno16777736:0', 'VI')).toEqual({
      address: '172.18.200.6',
      family: 4,
      prefix: 32,
      scope: 0,
      dev: 'eno16777736',
      label: 'eno16777736:0',
    });
    expect(parseVip('10.0.0.1/24 brd 10.0.0.255 scope link', 'VI')).toMatchObject({ prefix: 24, broadcast: '10.0.0.255', scope: 253 });
    expect(parseVip('fd00::1/64', 'VI')).toMatchObject({ family: 6, prefix: 64 });
  });
  it('virtual_routes lines', () => {
    expect(parseRoute('10.1.0.0/16 via 10.0.0.254 dev eth1 metric 5 table 100', 'VI')).toEqual({ dst: '10.1.0.0/16', via: '10.0.0.254', dev: 'eth1', metric: 5, table: 100 });
    expect(parseRoute('src 10.0.0.1 to 10.9.0.0/24 via 10.0.0.254', 'VI')).toEqual({ src: '10.0.0.1', dst: '10.9.0.0/24', via: '10.0.0.254' });
    expect(parseRoute('default via 10.0.0.254', 'VI')).toMatchObject({ dst: 'default' });
  });
  it('unicast uses unicast_src_ip, multicast mcast_src_ip; the group follows vrrp_mcast_group4', () => {
    expect(resolveOptions({ ...base, unicastPeer: ['10.0.0.2'], unicastSrcIp: '10.0.0.1' }).srcIp).toBe('10.0.0.1');
    expect(resolveOptions({ ...base, mcastSrcIp: '192.168.56.131', mcastGroup4: '224.0.100.18' })).toMatchObject({ srcIp: '192.168.56.131', mcastGroup: '224.0.100.18' });
  });
});
