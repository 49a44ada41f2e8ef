// Every seed configuration (test/fixtures/config, copied from ../shared/configs) loads;
// golden models for the seeds the demo and the lab use.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadConfig, type Checker } from '@lvsd/director';

const DIR = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));
const files = readdirSync(DIR).filter((f) => f.endsWith('.conf')).sort();
const load = (f: string, strict = false) => loadConfig(`${DIR}${f}`, { hostname: 'lab', strict });

describe('every seed configuration loads', () => {
  it('finds the seeds', () => {
    expect(files).toContain('seed001-node1.raw.conf');
    expect(files.length).toBeGreaterThanOrEqual(9);
  });

  it.each(files)('%s', (f) => {
    const r = load(f);
    expect(r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
    expect(r.ok).toBe(true);
    const nbsp = r.diagnostics.filter((d) => d.code === 'non-ascii-space');
    if (f.endsWith('.raw.conf')) expect(nbsp.length).toBeGreaterThan(100);
    else expect(nbsp).toEqual([]);
  });
});

describe('the .raw.conf seeds (published with non-breaking spaces)', () => {
  it.each(['seed001-node1', 'seed001-node2'])('%s: each NBSP line is named with file:line:col, and the model equals the clean file', (seed) => {
    const raw = load(`${seed}.raw.conf`);
    const clean = load(`${seed}.conf`);
    if (!raw.ok || !clean.ok) throw new Error('both must load');
    const first = raw.diagnostics.find((d) => d.code === 'non-ascii-space')!;
    expect(formatDiagnostic(first)).toBe(
      `${DIR}${seed}.raw.conf:3:12: warning: U+00A0 NO-BREAK SPACE used as a space (once on this line, first at column 12): lvsd reads it as a space; keepalived does not: it reads "global_defs\\u00a0" as one word and ignores the line. Replace it with an ASCII space.`,
    );
    // The comment line 2 ("!<NBSP>Configuration File...") is not reported: keepalived skips comments too.
    expect(raw.diagnostics.some((d) => d.code === 'non-ascii-space' && d.line === 2)).toBe(false);
    const strip = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x) => (k === 'loc' || k === 'files' ? undefined : x)));
    expect(strip(raw.config)).toEqual(strip(clean.config));
  });

  it('fails under --strict, naming the first NBSP', () => {
    const r = load('seed001-node1.raw.conf', true);
    expect(r.ok).toBe(false);
    expect(formatDiagnostic(r.diagnostics[0]!)).toMatch(/seed001-node1\.raw\.conf:3:12: error: U\+00A0 NO-BREAK SPACE/);
  });
});

describe('golden models', () => {
  it('seed001-node1: two VRRP instances, two LVS-DR virtual servers with HTTP_GET', () => {
    const r = load('seed001-node1.conf');
    if (!r.ok) throw new Error('must load');
    const c = r.config;
    expect(c.global).toMatchObject({ routerId: 'node1', vrrpMcastGroup4: '224.0.100.18', email: { notificationEmail: ['root@localhost'], notificationEmailFrom: 'kaadmin@magedu.com', smtpServer: '127.0.0.1', smtpConnectTimeout: 30 } });
    expect(c.vrrpScripts.map((s) => [s.name, s.script.argv, s.interval, s.weight])).toEqual([
      ['chk_down', ['[[', '-f', '/etc/keepalived/down', ']]', '&&', 'exit', '1', '||', 'exit', '0'], 2, 5],
      ['chk_httpd', ['killall', '-0', 'httpd'], 2, -5],
    ]);
    expect(c.vrrpInstances.map((i) => ({
      name: i.name,
      state: i.state,
      interface: i.interface,
      vrid: i.virtualRouterId,
      priority: i.priority,
      advertInt: i.advertInt,
      auth: i.authentication,
      vips: i.virtualIpaddresses.map((v) => `${v.address}/${v.prefix} dev ${v.dev} label ${v.label}`),
      track: i.trackScripts.map((t) => t.name),
      notify: [i.notify.master?.argv, i.notify.backup?.argv, i.notify.fault?.argv],
    }))).toEqual([
      {
        name: 'VI_1',
        state: 'MASTER',
        interface: 'eno16777736',
        vrid: 51,
        priority: 100,
        advertInt: 1,
        auth: { type: 'PASS', pass: 'pBkfC1ax' },
        vips: ['172.18.200.6/32 dev eno16777736 label eno16777736:0'],
        track: ['chk_down'],
        notify: [
          ['/etc/keepalived/notify.sh', 'master'],
          ['/etc/keepalived/notify.sh', 'backup'],
          ['/etc/keepalived/notify.sh', 'fault'],
        ],
      },
      {
        name: 'VI_2',
        state: 'BACKUP',
        interface: 'eno16777736',
        vrid: 60,
        priority: 98,
        advertInt: 1,
        auth: { type: 'PASS', pass: 'pBkfC1ab' },
        vips: ['172.18.200.5/32 dev eno16777736 label eno16777736:1'],
        track: ['chk_down'],
        notify: [
          ['/etc/keepalived/notify.sh', 'master'],
          ['/etc/keepalived/notify.sh', 'backup'],
          ['/etc/keepalived/notify.sh', 'fault'],
        ],
      },
    ]);
    expect(c.virtualServers).toHaveLength(2);
    for (const [i, vip] of ['172.18.200.6', '172.18.200.5'].entries()) {
      const vs = c.virtualServers[i]!;
      expect(vs).toMatchObject({ kind: 'address', address: vip, port: 80, protocol: 'TCP', lbAlgo: 'wlc', lbKind: 'DR', delayLoop: 6, persistenceTimeout: 0, quorum: 1 });
      expect(vs.sorryServer).toMatchObject({ address: '127.0.0.1', port: 80, lbKind: 'DR', inhibit: false });
      expect(vs.realServers.map((rs) => [rs.address, rs.port, rs.weight, rs.lbKind])).toEqual([
        ['172.18.200.100', 80, 1, 'DR'],
        ['172.18.200.110', 80, 2, 'DR'],
      ]);
      for (const rs of vs.realServers) {
        expect(rs.checkers).toHaveLength(1);
        const chk = rs.checkers[0] as Extract<Checker, { type: 'HTTP_GET' }>;
        expect(chk).toMatchObject({
          type: 'HTTP_GET',
          connectIp: rs.address,
          connectPort: 80,
          connectTimeout: 3,
          retry: 3,
          delayBeforeRetry: 3,
          delayLoop: 6,
          warmup: 6,
          urls: [{ path: '/', statusCode: [[200, 200]] }],
        });
      }
    }
  });

  it('seed001-node2 mirrors node1 (VI_1 backup 98, VI_2 master 100)', () => {
    const r = load('seed001-node2.conf');
    if (!r.ok) throw new Error('must load');
    expect(r.config.vrrpInstances.map((i) => [i.name, i.state, i.priority])).toEqual([
      ['VI_1', 'BACKUP', 98],
      ['VI_2', 'MASTER', 100],
    ]);
  });

  it('seed003-master: wrr DR with persistence and TCP_CHECK (nb_get_retry ignored in TCP_CHECK, as keepalived does)', () => {
    const r = load('seed003-master.conf');
    if (!r.ok) throw new Error('must load');
    const vs = r.config.virtualServers[0]!;
    expect(vs).toMatchObject({ address: '172.16.7.5', port: 80, lbAlgo: 'wrr', lbKind: 'DR', persistenceTimeout: 60, protocol: 'TCP', delayLoop: 6 });
    expect(vs.realServers.map((rs) => [rs.address, rs.weight, rs.checkers[0]])).toEqual([
      ['172.16.7.3', 3, expect.objectContaining({ type: 'TCP_CHECK', connectPort: 80, connectTimeout: 3, retry: 1, delayBeforeRetry: 3 })],
      ['172.16.7.4', 1, expect.objectContaining({ type: 'TCP_CHECK', connectPort: 80, connectTimeout: 3, retry: 1, delayBeforeRetry: 3 })],
    ]);
    expect(r.diagnostics.filter((d) => d.keyword === 'nb_get_retry').map((d) => [d.line, d.severity])).toEqual([
      [28, 'warning'],
      [37, 'warning'],
    ]);
    expect(r.config.vrrpInstances[0]).toMatchObject({ state: 'MASTER', priority: 100, virtualIpaddresses: [{ address: '172.16.7.5' }] });
  });

  it('seed002-master: nginx hot standby with mcast_src_ip and a tracked script', () => {
    const r = load('seed002-master.conf');
    if (!r.ok) throw new Error('must load');
    expect(r.config.vrrpInstances[0]).toMatchObject({
      interface: 'ens33',
      srcIp: '192.168.56.131',
      trackScripts: [{ name: 'chk_nginx' }],
      virtualIpaddresses: [{ address: '192.168.56.188' }],
    });
    expect(r.config.vrrpScripts[0]).toMatchObject({ name: 'chk_nginx', weight: -20, interval: 2, script: { argv: ['/etc/keepalived/nginx_check.sh'] } });
    expect(r.config.virtualServers).toEqual([]);
  });

  it('seed000: a plain VRRP pair', () => {
    const a = load('seed000-node-a.conf');
    const b = load('seed000-node-b.conf');
    if (!a.ok || !b.ok) throw new Error('must load');
    expect(a.diagnostics).toEqual([]);
    expect([a.config.vrrpInstances[0]!.state, b.config.vrrpInstances[0]!.state]).toEqual(['MASTER', 'BACKUP']);
    expect([a.config.vrrpInstances[0]!.priority, b.config.vrrpInstances[0]!.priority]).toEqual([100, 90]);
  });
});
