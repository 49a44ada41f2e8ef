// keepalived.conf -> model: keepalived's defaults, synonyms, rules and diagnostics.
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  formatDiagnostic,
  keywordTables,
  memoryFs,
  parseConfig,
  parseConfigOrThrow,
  type Checker,
  type LoadOptions,
} from '@lvsd/director';

const F = 'keepalived.conf';

function ok(text: string, opts: LoadOptions = {}) {
  const r = parseConfig(text, { hostname: 'node1.example.com', ...opts });
  if (!r.ok) throw new Error(`expected a valid config:\n${r.diagnostics.map(formatDiagnostic).join('\n')}`);
  return { config: r.config, diags: r.diagnostics.map(formatDiagnostic) };
}
function bad(text: string, opts: LoadOptions = {}): string[] {
  const r = parseConfig(text, { hostname: 'h', ...opts });
  expect(r.ok).toBe(false);
  return r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
}

const INSTANCE = (body: string, head = 'vrrp_instance VI_1') =>
  `${head} {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.100\n }\n${body}\n}\n`;

describe('global_defs', () => {
  it('applies keepalived defaults', () => {
    const g = ok('').config.global;
    expect(g).toMatchObject({
      routerId: 'node1',
      vrrpMcastGroup4: '224.0.0.18',
      vrrpMcastGroup6: 'ff02::12',
      enableScriptSecurity: false,
      vrrpVersion: 2,
      vrrpStrict: false,
      vrrpGarpMasterDelay: 5,
      vrrpGarpMasterRepeat: 5,
      vrrpGarpMasterRefresh: 0,
      vrrpGarpMasterRefreshRepeat: 1,
      vrrpGarpLowerPrioDelay: 5,
      vrrpGarpLowerPrioRepeat: 5,
      lvsFlushOnStop: 'none',
    });
  });

  it('reads the keywords that matter to lvsd', () => {
    const { config, diags } = ok(
      [
        'global_defs {',
        ' router_id lb1',
        ' vrrp_mcast_group4 224.0.100.18',
        ' vrrp_mcast_group6 ff02::107',
        ' script_user nobody nogroup',
        ' enable_script_security',
        ' vrrp_version 3',
        ' vrrp_strict',
        ' vrrp_garp_master_delay 10',
        ' vrrp_garp_master_repeat 2',
        ' vrrp_garp_master_refresh 60',
        ' vrrp_garp_master_refresh_repeat 3',
        ' vrrp_garp_interval 0.001',
        ' vrrp_gna_interval 0.000001',
        ' vrrp_rt_priority 20',
        ' lvs_sync_daemon eth1 VI_1 id 7 maxlen 1400 port 8848 ttl 2 group 224.0.0.81',
        ' lvs_timeouts tcp 900 tcpfin 120 udp 300',
        ' lvs_flush_on_stop VS',
        ' notify_fifo /run/k.fifo',
        ' notify_fifo_script "/bin/logger -t ka" root',
        ' notification_email {',
        '  a@b.c',
        '  d@e.f',
        ' }',
        ' smtp_server 127.0.0.1 25',
        '}',
        INSTANCE(''),
      ].join('\n'),
    );
    const g = config.global;
    expect(g).toMatchObject({
      routerId: 'lb1',
      vrrpMcastGroup4: '224.0.100.18',
      vrrpMcastGroup6: 'ff02::107',
      scriptUser: { user: 'nobody', group: 'nogroup' },
      enableScriptSecurity: true,
      vrrpVersion: 3,
      vrrpStrict: true,
      vrrpGarpMasterDelay: 10,
      vrrpGarpMasterRepeat: 2,
      vrrpGarpMasterRefresh: 60,
      vrrpGarpMasterRefreshRepeat: 3,
      vrrpGarpLowerPrioDelay: 10,
      vrrpGarpLowerPrioRepeat: 2,
      vrrpGarpInterval: 0.001,
      vrrpGnaInterval: 0.000001,
      vrrpRtPriority: 20,
      lvsSyncDaemon: { interface: 'eth1', vrrpInstance: 'VI_1', syncId: 7, maxlen: 1400, port: 8848, ttl: 2, group: '224.0.0.81' },
      lvsTimeouts: { tcp: 900, tcpfin: 120, udp: 300 },
      lvsFlushOnStop: 'vs',
      notifyFifo: { path: '/run/k.fifo', script: { argv: ['/bin/logger', '-t', 'ka'], user: 'root' } },
      email: { notificationEmail: ['a@b.c', 'd@e.f'], smtpServer: '127.0.0.1 25' },
    });
    expect(diags).toContain(`${F}:21:2: note: notification_email: lvsd sends no e-mail: accepted and ignored`);
    // Strict mode settles the instance's own defaults.
    expect(config.vrrpInstances[0]).toMatchObject({ strictMode: true, version: 3, accept: false, garpLowerPrioRepeat: 0, lowerPrioNoAdvert: true });
  });

  it('lvs_sync_daemon: the old positional form and the instance VRID as default sync id', () => {
    const { config } = ok(`global_defs {\n lvs_sync_daemon eth1 VI_1\n}\n${INSTANCE('')}`);
    expect(config.global.lvsSyncDaemon).toMatchObject({ interface: 'eth1', vrrpInstance: 'VI_1', syncId: 51 });
    expect(bad(`global_defs {\n lvs_sync_daemon eth1 VI_9\n}\n${INSTANCE('')}`)).toEqual([
      `${F}:2:2: error: lvs_sync_daemon: vrrp_instance 'VI_9' is not defined`,
    ]);
  });

  it('rejects a non-multicast group with its place', () => {
    expect(bad('global_defs {\n  vrrp_mcast_group4 10.0.0.1\n}\n')).toEqual([
      `${F}:2:21: error: vrrp_mcast_group4: '10.0.0.1' is not an IPv4 multicast address`,
    ]);
  });
});

describe('vrrp_instance', () => {
  it('applies keepalived defaults', () => {
    const i = ok(INSTANCE('')).config.vrrpInstances[0]!;
    expect(i).toMatchObject({
      name: 'VI_1',
      state: 'BACKUP',
      interface: 'eth0',
      virtualRouterId: 51,
      priority: 100,
      advertInt: 1,
      version: 2,
      family: 'inet',
      nopreempt: false,
      preemptDelay: 0,
      accept: true,
      garpMasterDelay: 5,
      garpMasterRepeat: 5,
      garpLowerPrioDelay: 5,
      garpLowerPrioRepeat: 5,
      downTimerAdverts: 3,
      virtualIpaddresses: [{ address: '10.0.0.100', family: 'inet', prefix: 32 }],
    });
    expect(i.authentication).toBeUndefined();
  });

  it('state MASTER without priority is the address owner (255); priority 255 alone means MASTER', () => {
    expect(ok(INSTANCE(' state MASTER')).config.vrrpInstances[0]).toMatchObject({ state: 'MASTER', priority: 255 });
    expect(ok(INSTANCE(' priority 255')).config.vrrpInstances[0]).toMatchObject({ state: 'MASTER', priority: 255 });
    expect(ok(INSTANCE(' state MASTER\n priority 150')).config.vrrpInstances[0]).toMatchObject({ state: 'MASTER', priority: 150 });
  });

  it('reads every instance keyword of the VRRP issue', () => {
    const body = [
      ' state BACKUP',
      ' priority 90',
      ' advert_int 2',
      ' authentication {',
      '  auth_type PASS',
      '  auth_pass secret',
      ' }',
      ' virtual_ipaddress_excluded {',
      '  10.9.0.1/24 dev eth1',
      ' }',
      ' virtual_routes {',
      '  src 10.0.0.100 to 192.168.0.0/16 via 10.0.0.1 dev eth0 table 100 metric 5',
      '  blackhole 10.99.0.0/16',
      ' }',
      ' unicast_src_ip 10.0.0.2',
      ' unicast_peer {',
      '  10.0.0.3',
      '  10.0.0.4 min_ttl 250 max_ttl 255',
      ' }',
      ' nopreempt',
      ' accept',
      ' track_script {',
      '  chk weight -20',
      '  chk2',
      ' }',
      ' track_interface {',
      '  eth1 weight 10 reverse',
      ' }',
      ' track_file {',
      '  tf',
      ' }',
      ' garp_master_delay 1',
      ' garp_master_repeat 3',
      ' garp_master_refresh 30',
      ' garp_lower_prio_repeat 0',
      ' notify_master "/etc/keepalived/notify.sh master"',
      ' notify "/etc/keepalived/n.sh" nobody',
      ' notify_fifo_ignored_typo 1',
    ].join('\n');
    const text = `vrrp_script chk {\n script /bin/true\n}\nvrrp_script chk2 {\n script "/bin/false x"\n weight 5\n interval 3\n fall 2\n rise 3\n}\ntrack_file tf {\n file /run/tf\n weight -2\n}\n${INSTANCE(body)}`;
    const { config, diags } = ok(text);
    const i = config.vrrpInstances[0]!;
    expect(i).toMatchObject({
      priority: 90,
      advertInt: 2,
      authentication: { type: 'PASS', pass: 'secret' },
      virtualIpaddressesExcluded: [{ address: '10.9.0.1', prefix: 24, dev: 'eth1' }],
      virtualRoutes: [
        { src: '10.0.0.100', to: '192.168.0.0/16', via: '10.0.0.1', dev: 'eth0', table: '100', metric: 5, family: 'inet' },
        { type: 'blackhole', to: '10.99.0.0/16' },
      ],
      srcIp: '10.0.0.2',
      unicastPeers: [{ address: '10.0.0.3' }, { address: '10.0.0.4', minTtl: 250, maxTtl: 255 }],
      nopreempt: true,
      accept: true,
      trackScripts: [{ name: 'chk', weight: -20, reverse: false }, { name: 'chk2', reverse: false }],
      trackInterfaces: [{ name: 'eth1', weight: 10, reverse: true }],
      trackFiles: [{ name: 'tf' }],
      garpMasterDelay: 1,
      garpMasterRepeat: 3,
      garpMasterRefresh: 30,
      garpLowerPrioRepeat: 0,
      garpLowerPrioDelay: 5,
      notify: {
        master: { argv: ['/etc/keepalived/notify.sh', 'master'] },
        any: { argv: ['/etc/keepalived/n.sh'], user: 'nobody' },
      },
    });
    expect(i.trackScripts[1]!.weight).toBeUndefined();
    expect(config.vrrpScripts[1]).toMatchObject({ name: 'chk2', script: { argv: ['/bin/false', 'x'] }, weight: 5, interval: 3, timeout: 3, fall: 2, rise: 3 });
    expect(config.trackFiles[0]).toMatchObject({ name: 'tf', file: '/run/tf', weight: -2 });
    expect(diags).toContain(`${F}:58:2: warning: unknown keyword 'notify_fifo_ignored_typo' in vrrp_instance VI_1 - ignored`);
  });

  it('reads virtual_ipaddress options', () => {
    const i = ok(
      INSTANCE(' virtual_ipaddress {\n  192.168.1.10/24 brd 192.168.1.255 dev eth1 scope global label eth1:vip no_track\n  192.168.1.11 preferred_lft 0 -nodad home\n }'),
    ).config.vrrpInstances[0]!;
    expect(i.virtualIpaddresses.slice(1)).toEqual([
      expect.objectContaining({ address: '192.168.1.10', prefix: 24, brd: '192.168.1.255', dev: 'eth1', scope: 'global', label: 'eth1:vip', noTrack: true }),
      expect.objectContaining({ address: '192.168.1.11', prefix: 32, preferredLft: 0, nodad: true, home: true }),
    ]);
  });

  it('IPv6: family inet6 and version 3, unless told', () => {
    const i = ok(INSTANCE('').replace('10.0.0.100', 'fe80::100')).config.vrrpInstances[0]!;
    expect(i).toMatchObject({ family: 'inet6', version: 3, virtualIpaddresses: [{ prefix: 128 }] });
  });

  it('VRRPv2 advert_int is whole seconds (rounded with a warning), v3 takes centiseconds', () => {
    const r2 = ok(INSTANCE(' advert_int 1.6'));
    expect(r2.config.vrrpInstances[0]!.advertInt).toBe(2);
    expect(r2.diags).toContain(`${F}:7:13: warning: vrrp_instance VI_1: VRRPv2 advert_int 1.6 is not whole seconds - using 2 (as keepalived)`);
    expect(ok(INSTANCE(' version 3\n advert_int 0.05')).config.vrrpInstances[0]!.advertInt).toBe(0.05);
  });

  it('AH authentication is a clear error', () => {
    expect(bad(INSTANCE(' authentication {\n  auth_type AH\n  auth_pass x\n }'))).toEqual([
      `${F}:8:13: error: auth_type AH (IPsec authentication header) is not supported by lvsd: use PASS, or no authentication`,
    ]);
  });

  it('names what is missing or wrong, where', () => {
    expect(bad('vrrp_instance VI_1 {\n interface eth0\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n')).toEqual([
      `${F}:6:1: error: vrrp_instance VI_1: expected 'virtual_router_id' (1-255)`,
    ]);
    expect(bad(INSTANCE(' priority 300'))).toEqual([`${F}:7:11: error: priority: expected a priority between 1 and 255, got '300'`]);
    expect(bad(INSTANCE(' state master'))).toEqual([`${F}:7:8: error: state: expected a state (MASTER, BACKUP), got 'master'`]);
    expect(bad(INSTANCE(' virtual_ipaddress {\n  10.0.0.300/24\n }'))).toEqual([
      `${F}:8:3: error: vrrp_instance VI_1 virtual_ipaddress: expected an IP address[/prefix], got '10.0.0.300/24'`,
    ]);
    expect(bad(INSTANCE(' track_script {\n  nope\n }'))).toEqual([
      `${F}:8:3: error: vrrp_instance VI_1: track_script 'nope' is not defined by any vrrp_script`,
    ]);
    expect(bad(INSTANCE(' priority'))).toEqual([`${F}:7:11: error: priority: expected a priority between 1 and 255`]);
    expect(bad(INSTANCE(' virtual_ipaddress 10.0.0.1'))).toEqual([`${F}:7:29: error: virtual_ipaddress: expected '{' to open its block`]);
  });

  it('vrrp_sync_group: members, and unknown members are errors', () => {
    const two = INSTANCE('') + INSTANCE('', 'vrrp_instance VI_2').replace('virtual_router_id 51', 'virtual_router_id 52');
    const { config } = ok(`${two}vrrp_sync_group G {\n group {\n  VI_1\n  VI_2\n }\n notify_master /bin/true\n}\n`);
    expect(config.vrrpSyncGroups[0]).toMatchObject({ name: 'G', group: ['VI_1', 'VI_2'], notify: { master: { argv: ['/bin/true'] } } });
    expect(config.vrrpInstances.map((i) => i.syncGroup)).toEqual(['G', 'G']);
    expect(bad(`${two}vrrp_sync_group G {\n group { VI_1 VI_3 }\n}\n`)).toEqual([
      `${F}:17:1: error: vrrp_sync_group G: vrrp_instance 'VI_3' is not defined`,
    ]);
  });

  it('warns that a shell command line cannot run without a shell', () => {
    const { diags } = ok(`vrrp_script chk {\n script "[[ -f /x ]] && exit 1"\n}\n${INSTANCE(' track_script {\n  chk\n }')}`);
    expect(diags[0]).toMatch(new RegExp(`^${F}:2:9: warning: script: '\\[\\[ -f /x \\]\\] && exit 1' uses shell syntax`));
  });
});

const VS = (body: string, head = 'virtual_server 10.0.0.100 80') => `${head} {\n${body}\n}\n`;
const RS1 = ' real_server 10.0.1.1 80 {\n  TCP_CHECK {\n  }\n }';

describe('virtual_server', () => {
  it('applies keepalived defaults (and its rules: no protocol is UDP, wlc, NAT)', () => {
    const { config, diags } = ok(VS(RS1));
    const vs = config.virtualServers[0]!;
    expect(vs).toMatchObject({
      kind: 'address',
      address: '10.0.0.100',
      port: 80,
      family: 'inet',
      protocol: 'UDP',
      lbAlgo: 'wlc',
      lbKind: 'NAT',
      delayLoop: 60,
      persistenceTimeout: 0,
      quorum: 1,
      hysteresis: 0,
      inhibitOnFailure: false,
    });
    expect(vs.realServers[0]).toMatchObject({ address: '10.0.1.1', port: 80, weight: 1, lbKind: 'NAT', uthreshold: 0, lthreshold: 0 });
    expect(vs.realServers[0]!.checkers[0]).toEqual({
      type: 'TCP_CHECK',
      connectIp: '10.0.1.1',
      connectPort: 80,
      connectTimeout: 5,
      delayLoop: 60,
      retry: 1,
      delayBeforeRetry: 1,
      warmup: 60,
      alpha: false,
      logAllFailures: false,
      loc: { file: F, line: 3, col: 3 },
    });
    expect(diags).toEqual([
      `${F}:6:1: warning: virtual_server 10.0.0.100 80: no protocol set - using UDP, as keepalived does (write 'protocol TCP' if you meant TCP)`,
      `${F}:6:1: note: virtual_server 10.0.0.100 80: no lb_algo set - using wlc (as keepalived)`,
      `${F}:6:1: note: virtual_server 10.0.0.100 80: no lb_kind set - using NAT (as keepalived)`,
    ]);
  });

  it('takes the synonyms lvs_sched, lvs_method and (in HTTP_GET) nb_get_retry', () => {
    const { config, diags } = ok(
      VS(' lvs_sched sh\n sh-port\n lvs_method TUN type gue port 6080 csum\n protocol tcp\n real_server 10.0.1.1 80 {\n  HTTP_GET {\n   url { path /h }\n   nb_get_retry 4\n  }\n }'),
    );
    const vs = config.virtualServers[0]!;
    expect(vs).toMatchObject({ lbAlgo: 'sh', shPort: true, lbKind: 'TUN', tunnel: { type: 'gue', port: 6080, csum: 'csum' }, protocol: 'TCP' });
    expect(vs.realServers[0]).toMatchObject({ lbKind: 'TUN', tunnel: { type: 'gue', port: 6080 } });
    expect(vs.realServers[0]!.checkers[0]).toMatchObject({ type: 'HTTP_GET', retry: 4, urls: [{ path: '/h', statusCode: [[200, 299]] }], httpProtocol: '1.0' });
    expect(diags).toContain(`${F}:9:4: note: nb_get_retry is deprecated in keepalived: use 'retry' (read the same)`);
  });

  it('ignores nb_get_retry in TCP_CHECK as keepalived does, and says so', () => {
    const { config, diags } = ok(VS(' protocol TCP\n real_server 10.0.1.1 80 {\n  TCP_CHECK {\n   nb_get_retry 3\n  }\n }'));
    expect((config.virtualServers[0]!.realServers[0]!.checkers[0] as Checker).retry).toBe(1);
    expect(diags).toContain(
      `${F}:5:4: warning: nb_get_retry is not a TCP_CHECK keyword in keepalived 2 (only HTTP_GET and SSL_GET keep it, as the old name of retry): keepalived ignores this line and so does lvsd, so the default retry applies. Write 'retry 3' to get retries`,
    );
  });

  it('passes retry, delays and timeouts down: virtual server -> real server -> checker', () => {
    const { config } = ok(
      VS(
        [
          ' protocol TCP',
          ' delay_loop 10',
          ' retry 2',
          ' connect_timeout 4',
          ' real_server 10.0.1.1 80 {',
          '  delay_before_retry 7',
          '  TCP_CHECK {',
          '   connect_port 8080',
          '  }',
          '  MISC_CHECK {',
          '   misc_path "/usr/bin/check -x \'a b\'"',
          '   misc_timeout 5',
          '   misc_dynamic',
          '  }',
          '  DNS_CHECK {',
          '   delay_loop 3',
          '  }',
          ' }',
        ].join('\n'),
      ),
    );
    const [tcp, misc, dns] = config.virtualServers[0]!.realServers[0]!.checkers;
    expect(tcp).toMatchObject({ connectPort: 8080, connectTimeout: 4, delayLoop: 10, retry: 2, delayBeforeRetry: 7, warmup: 10 });
    expect(misc).toMatchObject({ type: 'MISC_CHECK', script: { argv: ['/usr/bin/check', '-x', 'a b'] }, timeout: 5, dynamic: true, retry: 2 });
    expect(dns).toMatchObject({ type: 'DNS_CHECK', queryType: 'SOA', name: '.', retry: 2, delayLoop: 3, delayBeforeRetry: 7 });
  });

  it('checker defaults per type (MISC retry 0, DNS retry 3 and delay_before_retry = delay_loop, SMTP port 25)', () => {
    const { config } = ok(
      VS(' protocol TCP\n delay_loop 9\n real_server 10.0.1.1 {\n  MISC_CHECK {\n   misc_path /bin/true\n  }\n  DNS_CHECK {\n  }\n }', 'virtual_server 10.0.0.100 0'),
    );
    const [misc, dns] = config.virtualServers[0]!.realServers[0]!.checkers;
    expect(misc).toMatchObject({ retry: 0, delayBeforeRetry: 1 });
    expect(dns).toMatchObject({ retry: 3, delayBeforeRetry: 9 });
    const smtp = ok(VS(' protocol TCP\n persistence_timeout 30\n real_server 10.0.1.1 {\n  SMTP_CHECK {\n  }\n }', 'virtual_server 10.0.0.100 0')).config;
    expect(smtp.virtualServers[0]!.realServers[0]!.checkers[0]).toMatchObject({ connectPort: 25, heloName: 'smtpchecker.keepalived.org' });
  });

  it('DR real servers take the virtual server port (and a different one is reset with a warning)', () => {
    const { config, diags } = ok(VS(' protocol TCP\n lb_kind DR\n real_server 10.0.1.1 {\n }\n real_server 10.0.1.2 8080 {\n }'));
    expect(config.virtualServers[0]!.realServers.map((r) => r.port)).toEqual([80, 80]);
    expect(diags).toContain(`${F}:6:2: warning: virtual_server 10.0.0.100 80: real_server 10.0.1.2 port 8080 must equal the virtual server's (80) with DR - using 80 (as keepalived)`);
  });

  it('sorry_server, weights, quorum and hysteresis as keepalived settles them', () => {
    const { config, diags } = ok(
      VS(' protocol TCP\n lb_kind DR\n weight 3\n quorum 10\n hysteresis 20\n sorry_server 127.0.0.1 80\n sorry_server_inhibit\n real_server 10.0.1.1 80 {\n }\n real_server 10.0.1.2 80 {\n  weight 2\n  inhibit_on_failure\n }'),
    );
    const vs = config.virtualServers[0]!;
    expect(vs.sorryServer).toMatchObject({ address: '127.0.0.1', port: 80, lbKind: 'DR', inhibit: true });
    expect(vs.realServers.map((r) => [r.weight, r.inhibitOnFailure])).toEqual([
      [3, false],
      [2, true],
    ]);
    expect(vs.quorum).toBe(5);
    expect(vs.hysteresis).toBe(4);
    expect(diags.filter((d) => d.includes('warning'))).toEqual([
      `${F}:15:1: warning: virtual_server 10.0.0.100 80: quorum 10 exceeds the total weight of the real servers (5) - using 5 (as keepalived)`,
      `${F}:15:1: warning: virtual_server 10.0.0.100 80: hysteresis 20 >= quorum 5 - using 4 (as keepalived)`,
    ]);
  });

  it('fwmark services have no protocol and no real server ports', () => {
    const { config } = ok(VS(' lb_kind DR\n persistence_timeout 600\n persistence_granularity 255.255.255.0\n real_server 10.0.1.1 {\n }', 'virtual_server fwmark 7'));
    expect(config.virtualServers[0]).toMatchObject({ kind: 'fwmark', fwmark: 7, persistenceTimeout: 600, persistenceGranularity: '255.255.255.0' });
    expect(config.virtualServers[0]!.protocol).toBeUndefined();
    expect(config.virtualServers[0]!.realServers[0]!.port).toBe(0);
  });

  it('virtual_server_group: ranges, prefixes and fwmarks', () => {
    const { config } = ok(
      `virtual_server_group G {\n 10.0.0.1-5 80\n 10.1.0.0/30 443\n 2001:db8::1-a 80\n fwmark 9 inet\n}\n${VS(' protocol TCP\n lb_kind DR\n real_server 10.0.1.1 {\n }', 'virtual_server group G')}`,
    );
    expect(config.virtualServerGroups[0]!.entries.map(({ loc: _l, ...e }) => e)).toEqual([
      { kind: 'address', address: '10.0.0.1', addressEnd: '10.0.0.5', family: 'inet', port: 80 },
      { kind: 'address', address: '10.1.0.0', addressEnd: '10.1.0.3', family: 'inet', port: 443 },
      { kind: 'address', address: '2001:db8::1', addressEnd: '2001:db8::a', family: 'inet6', port: 80 },
      { kind: 'fwmark', fwmark: 9, family: 'inet' },
    ]);
    expect(config.virtualServers[0]).toMatchObject({ kind: 'group', group: 'G' });
  });

  it('HTTP_GET urls: status codes and ranges, digest, regex, virtualhost', () => {
    const { config } = ok(
      VS(
        ' protocol TCP\n real_server 10.0.1.1 80 {\n  SSL_GET {\n   virtualhost www.example.com\n   enable_sni\n   http_protocol 1.1\n   url {\n    path /a\n    status_code 200 301-302\n    digest 9B3A0C8F2B1E7D6A5C4B3A2F1E0D9C8B\n    regex "^ok$"\n    regex_options caseless\n   }\n  }\n }',
      ),
    );
    expect(config.virtualServers[0]!.realServers[0]!.checkers[0]).toMatchObject({
      type: 'SSL_GET',
      virtualhost: 'www.example.com',
      enableSni: true,
      httpProtocol: '1.1',
      urls: [{ path: '/a', statusCode: [[200, 200], [301, 302]], digest: '9b3a0c8f2b1e7d6a5c4b3a2f1e0d9c8b', regex: '^ok$', regexOptions: ['caseless'] }],
    });
  });

  it('UDP_CHECK, PING_CHECK and FILE_CHECK', () => {
    const { config } = ok(
      `track_file rsdown {\n file /run/rs.down\n weight 0\n}\n${VS(' protocol UDP\n real_server 10.0.1.1 53 {\n  UDP_CHECK {\n   payload 00 01\n   require_reply 0a??\n  }\n  PING_CHECK {\n  }\n  FILE_CHECK {\n   track_file rsdown\n  }\n }', 'virtual_server 10.0.0.100 53')}`,
    );
    const [udp, ping, file] = config.virtualServers[0]!.realServers[0]!.checkers;
    expect(udp).toMatchObject({ type: 'UDP_CHECK', payload: '0001', requireReply: true, replyData: '0a??', minReplyLength: 0, maxReplyLength: 255 });
    expect(ping).toMatchObject({ type: 'PING_CHECK', connectIp: '10.0.1.1' });
    expect(file).toMatchObject({ type: 'FILE_CHECK', trackFile: 'rsdown', weight: 0, weightReverse: false });
  });

  it('a virtual server without real servers is dropped, as keepalived does', () => {
    const { config, diags } = ok(VS(' protocol TCP'));
    expect(config.virtualServers).toEqual([]);
    expect(diags).toContain(`${F}:1:1: warning: virtual_server 10.0.0.100 80 has no real_server - ignored (as keepalived)`);
  });

  it('names bad values with their place', () => {
    expect(bad(VS(' lb_algo wrong\n protocol TCP\n' + RS1))).toEqual([
      `${F}:2:10: error: lb_algo: expected a scheduler (rr, wrr, lc, wlc, lblc, sh, mh, dh, fo, ovf, lblcr, sed, nq, twos), got 'wrong'`,
    ]);
    expect(bad(VS(' protocol TCP\n real_server 10.0.1.1 80 {\n  weight -1\n }'))).toEqual([
      `${F}:4:10: error: weight: expected a weight between 0 and 2147483647, got '-1'`,
    ]);
    expect(bad(VS(' protocol TCP\n real_server 10.0.1.1 80 {\n  HTTP_GET {\n   url {\n    status_code 200\n   }\n  }\n }'))).toEqual([
      `${F}:7:4: error: url: expected a 'path' line`,
      `${F}:8:3: error: HTTP_GET: expected at least one 'url { path ... }' block`,
    ]);
    expect(bad(VS(RS1, 'virtual_server 10.0.0.100 99999'))).toEqual([`${F}:1:27: error: virtual_server: expected a port (1-65535), got '99999'`]);
  });
});

describe('strict mode, errors, keyword table', () => {
  it('--strict makes warnings errors', () => {
    const text = VS(' protocol TCP\n frobnicate 1\n' + RS1);
    expect(parseConfig(text).ok).toBe(true);
    expect(bad(text, { strict: true })).toEqual([`${F}:3:2: error: unknown keyword 'frobnicate' in virtual_server 10.0.0.100 80 - ignored`]);
  });

  it('suggests the keyword meant', () => {
    const { diags } = ok(VS(' protocol TCP\n delay_lop 5\n' + RS1));
    expect(diags).toContain(`${F}:3:2: warning: unknown keyword 'delay_lop' in virtual_server 10.0.0.100 80 (did you mean 'delay_loop'?) - ignored`);
  });

  it('names keepalived keywords lvsd does not support yet', () => {
    const { diags } = ok(INSTANCE(' use_vmac'));
    expect(diags).toContain(`${F}:7:2: warning: 'use_vmac' in vrrp_instance VI_1 is a keepalived keyword lvsd does not support yet (VMAC interfaces) - ignored`);
  });

  it('throws ConfigError (LVSD_ERR_CONFIG) with the diagnostics', () => {
    try {
      parseConfigOrThrow('vrrp_instance {\n}\n', { file: '/etc/k.conf' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const ce = e as ConfigError;
      expect(ce.code).toBe('LVSD_ERR_CONFIG');
      expect(ce.message).toBe('/etc/k.conf:1:15: error: vrrp_instance: expected a vrrp_instance name');
      expect(ce.diagnostics[0]).toMatchObject({ file: '/etc/k.conf', line: 1, col: 15, severity: 'error', code: 'missing-argument' });
    }
  });

  it('has a status for every keyword of the IPVS, VRRP and health issues', () => {
    const t = keywordTables();
    for (const k of ['router_id', 'vrrp_mcast_group4', 'vrrp_mcast_group6', 'script_user', 'enable_script_security', 'lvs_sync_daemon', 'vrrp_garp_master_delay', 'vrrp_version', 'vrrp_strict']) {
      expect(t.global_defs![k]?.status, k).toBe('supported');
    }
    for (const k of ['state', 'interface', 'virtual_router_id', 'priority', 'advert_int', 'authentication', 'virtual_ipaddress', 'virtual_routes', 'unicast_peer', 'mcast_src_ip', 'nopreempt', 'preempt_delay', 'track_script', 'track_interface', 'track_file', 'notify_master', 'notify']) {
      expect(t.vrrp_instance![k]?.status, k).toBe('supported');
    }
    for (const k of ['delay_loop', 'lb_algo', 'lvs_sched', 'lb_kind', 'lvs_method', 'persistence_timeout', 'protocol', 'sorry_server', 'quorum', 'hysteresis', 'real_server']) {
      expect(t.virtual_server![k]?.status, k).toBe('supported');
    }
    expect(t['HTTP_GET / SSL_GET']!.nb_get_retry!.status).toBe('deprecated');
    expect(t.vrrp_instance!.use_vmac!.status).toBe('not-yet');
  });
});

describe('virtual_routes: routing tables by number or iproute2 name', () => {
  const conf = (table: string) => `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 1
  priority 100
  virtual_ipaddress {
    10.0.0.1
  }
  virtual_routes {
    10.9.0.0/16 via 10.0.0.254 table ${table}
  }
}`;
  const fs = memoryFs({
    '/etc/iproute2/rt_tables': '255\tlocal\n254\tmain\n# comment\n200 lvs\n',
    '/etc/iproute2/rt_tables.d/extra.conf': '0x12c\tedge\n',
  });
  const tableOf = (table: string) => {
    const r = parseConfig(conf(table), { file: 't.conf', fs });
    return r.ok ? r.config.vrrpInstances[0]!.virtualRoutes[0]!.tableId : r.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`);
  };
  it('numbers, built-in names, rt_tables and rt_tables.d names', () => {
    expect(tableOf('100')).toBe(100);
    expect(tableOf('main')).toBe(254);
    expect(tableOf('local')).toBe(255);
    expect(tableOf('lvs')).toBe(200);
    expect(tableOf('edge')).toBe(300);
  });
  it('an unknown name is an error naming it, never the main table', () => {
    expect(tableOf('nosuch')).toEqual([expect.stringMatching(/^9:38 .*unknown routing table 'nosuch'/)]);
  });
});

describe('real servers without checkers', () => {
  it('share one frozen empty checker list; a real server with checkers has its own', () => {
    const { config } = ok(
      `virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n real_server 10.0.1.2 80 {\n  TCP_CHECK {\n   connect_timeout 2\n  }\n }\n real_server 10.0.1.3 80 {\n }\n}\n` +
        `virtual_server 10.0.0.2 80 {\n protocol TCP\n real_server 10.0.2.1 80 {\n }\n}\n`,
    );
    const [a, b] = config.virtualServers;
    const [none1, withCheck, none2] = a!.realServers;
    expect(none1!.checkers).toEqual([]);
    expect(none1!.checkers).toBe(none2!.checkers);
    expect(none1!.checkers).toBe(b!.realServers[0]!.checkers);
    expect(Object.isFrozen(none1!.checkers)).toBe(true);
    expect(withCheck!.checkers.map((c) => c.type)).toEqual(['TCP_CHECK']);
    expect(Object.isFrozen(withCheck!.checkers)).toBe(false);
  });
});
