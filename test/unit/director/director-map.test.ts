// The Director's pure mapping: keepalived.conf model -> IPVS desired table,
// VRRP instance options and health targets, as keepalived would program them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { normalizeTable } from '@lvsd/ipvs';
import { parseConfigOrThrow } from '../../../packages/director/src/config/index.js';
import { desiredService, realServerId, servicesOf, virtualServerId } from '../../../packages/director/src/map/ipvs.js';
import { healthTarget } from '../../../packages/director/src/map/health.js';
import { vrrpOptions } from '../../../packages/director/src/map/vrrp.js';

const fixture = (f: string) => readFileSync(fileURLToPath(new URL(`../../fixtures/config/${f}`, import.meta.url)), 'utf8');
const load = (f: string) => parseConfigOrThrow(fixture(f), { file: f });

function table(config: ReturnType<typeof load>, alive: (rsId: string) => boolean, sorry = false) {
  return config.virtualServers.flatMap((vs) =>
    servicesOf(vs, config).map((inst) => {
      const dests = vs.realServers
        .map((rs) => ({ id: realServerId(inst.vsId, rs), weight: rs.weight }))
        .filter((d) => alive(d.id));
      return desiredService(inst, vs, sorry ? [{ id: 'sorry_server', weight: 1 }] : dests);
    }),
  );
}

describe('virtual servers as IPVS services', () => {
  it('seed 001: two wlc DR services with the configured weights', () => {
    const c = load('seed001-node1.conf');
    const t = table(c, () => true);
    expect(t).toEqual([
      {
        protocol: 'tcp',
        address: '172.18.200.6',
        port: 80,
        scheduler: 'wlc',
        schedulerFlags: [],
        onePacket: false,
        destinations: [
          { address: '172.18.200.100', port: 80, forwardingMethod: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 },
          { address: '172.18.200.110', port: 80, forwardingMethod: 'route', weight: 2, upperThreshold: 0, lowerThreshold: 0 },
        ],
      },
      expect.objectContaining({ address: '172.18.200.5', port: 80 }),
    ]);
    expect(() => normalizeTable(t)).not.toThrow();
  });

  it('seed 001: a down real server leaves, and without quorum the sorry server stands in', () => {
    const c = load('seed001-node1.conf');
    const t = table(c, (id) => !id.endsWith('172.18.200.110:80'));
    expect(t[0].destinations!.map((d) => d.address)).toEqual(['172.18.200.100']);
    const s = table(c, () => false, true);
    expect(s[0].destinations).toEqual([{ address: '127.0.0.1', port: 80, forwardingMethod: 'route', weight: 1 }]);
  });

  it('seed 003: persistence_timeout makes a persistent wrr service', () => {
    const c = load('seed003-master.conf');
    const [svc] = table(c, () => true);
    expect(svc).toMatchObject({ scheduler: 'wrr', persistenceTimeout: 60, address: '172.16.7.5', port: 80 });
    expect(svc.destinations!.map((d) => [d.address, d.weight])).toEqual([
      ['172.16.7.3', 3],
      ['172.16.7.4', 1],
    ]);
  });

  it('a virtual_server_group expands its ranges and fwmarks into services', () => {
    const c = parseConfigOrThrow(
      `virtual_server_group G {\n 10.0.0.1-3 80\n fwmark 7\n}\nvirtual_server group G {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 192.168.1.1 80 {\n }\n}\n`,
      { file: 'g.conf' },
    );
    const [vs] = c.virtualServers;
    const inst = servicesOf(vs, c);
    expect(inst.map((i) => i.spec.address ?? `fwmark ${i.spec.fwmark}`)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', 'fwmark 7']);
    expect(new Set(inst.map((i) => i.vsId))).toEqual(new Set([virtualServerId(vs)]));
    const svc = desiredService(inst[3], vs, [{ id: realServerId(inst[3].vsId, vs.realServers[0]), weight: 1 }]);
    expect(svc.destinations![0]).toMatchObject({ address: '192.168.1.1', forwardingMethod: 'masq' });
  });
});

describe('desiredService with the real servers ids kept by the caller', () => {
  const c = parseConfigOrThrow(
    `virtual_server 10.0.0.1 80 {\n lb_kind DR\n protocol TCP\n` +
      [1, 2, 3, 4].map((k) => ` real_server 192.168.1.${k} 80 {\n  weight ${k}\n }\n`).join('') +
      `}\n`,
    { file: 'ids.conf' },
  );
  const [vs] = c.virtualServers;
  const [inst] = servicesOf(vs, c);
  const ids = vs.realServers.map((rs) => realServerId(inst.vsId, rs));
  const pick = (order: number[]) => order.map((k) => ({ id: ids[k]!, weight: 10 + k }));
  const addrs = (svc: ReturnType<typeof desiredService>) => svc.destinations!.map((d) => `${d.address}:${d.weight}`);

  it('gives what the id lookup gives, for a subset in configuration order', () => {
    expect(addrs(desiredService(inst, vs, pick([0, 2, 3]), ids))).toEqual(addrs(desiredService(inst, vs, pick([0, 2, 3]))));
    expect(addrs(desiredService(inst, vs, pick([1, 3]), ids))).toEqual(['192.168.1.2:11', '192.168.1.4:13']);
  });

  it('finds every server when the decision is out of order, and skips unknown ids', () => {
    const out = desiredService(inst, vs, [...pick([3, 0, 2]), { id: `${inst.vsId} -> 192.0.2.1:80`, weight: 1 }], ids);
    expect(addrs(out)).toEqual(['192.168.1.4:13', '192.168.1.1:10', '192.168.1.3:12']);
  });
});

describe('vrrp_instance as VrrpInstance options', () => {
  it('seed 001 VI_1 keeps every setting keepalived uses', () => {
    const c = load('seed001-node1.conf');
    const o = vrrpOptions(c.vrrpInstances[0], c);
    expect(o).toMatchObject({
      name: 'VI_1',
      interface: 'eno16777736',
      virtualRouterId: 51,
      priority: 100,
      advertInt: 1,
      state: 'MASTER',
      authentication: { authType: 'PASS', authPass: 'pBkfC1ax' },
      virtualIpaddress: [{ address: '172.18.200.6', prefix: 32, dev: 'eno16777736', label: 'eno16777736:0' }],
      mcastGroup4: '224.0.100.18',
      notifyMaster: ['/etc/keepalived/notify.sh', 'master'],
    });
    expect(o.trackScript).toEqual([expect.objectContaining({ name: 'chk_down', weight: 5, interval: 2 })]);
  });

  it('seed 002: mcast_src_ip is the advert source', () => {
    const c = load('seed002-master.conf');
    expect(vrrpOptions(c.vrrpInstances[0], c)).toMatchObject({ mcastSrcIp: '192.168.56.131', trackScript: [expect.objectContaining({ weight: -20 })] });
  });
});

describe('real_server checkers as health targets', () => {
  it('seed 001 HTTP_GET keeps its url, timeouts and retries', () => {
    const c = load('seed001-node1.conf');
    const vs = c.virtualServers[0];
    const t = healthTarget('x', vs, vs.realServers[0], c.trackFiles)!;
    expect(t).toMatchObject({ id: 'x', address: '172.18.200.100', port: 80, weight: 1 });
    expect(t.checkers[0]).toMatchObject({
      checker: 'HTTP_GET',
      connect_timeout: 3,
      retry: 3,
      delay_before_retry: 3,
      delay_loop: 6,
      connect_ip: '172.18.200.100',
      connect_port: 80,
      url: [expect.objectContaining({ path: '/', status_code: [[200, 200]] })],
    });
  });

  it('a real server without checkers has no target (always alive)', () => {
    const c = parseConfigOrThrow(`virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n}\n`, { file: 'x.conf' });
    expect(healthTarget('x', c.virtualServers[0], c.virtualServers[0].realServers[0], c.trackFiles)).toBeUndefined();
  });
});

describe('lvsd --metrics', () => {
  it('takes PORT, HOST:PORT and [V6]:PORT, loopback by default', async () => {
    const { parseCliArgs } = await import('../../../packages/director/src/cli/args.js');
    expect(parseCliArgs(['--metrics', '9650']).metrics).toEqual({ host: '127.0.0.1', port: 9650 });
    expect(parseCliArgs(['--metrics', '0.0.0.0:9650']).metrics).toEqual({ host: '0.0.0.0', port: 9650 });
    expect(parseCliArgs(['--metrics', '[::1]:9650']).metrics).toEqual({ host: '::1', port: 9650 });
    expect(() => parseCliArgs(['--metrics', 'x:y'])).toThrow(/expected PORT/);
  });
});

describe('reload: what counts as unchanged', () => {
  it('a virtual server moved to another line is the same; a changed weight is not', async () => {
    const { sameIgnoringLoc } = await import('../../../packages/director/src/checks.js');
    const text = `virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n weight 2\n }\n}\n`;
    const a = parseConfigOrThrow(text, { file: 'a.conf' }).virtualServers[0];
    const moved = parseConfigOrThrow(`\n\n! a comment\n${text}`, { file: 'a.conf' }).virtualServers[0];
    const changed = parseConfigOrThrow(text.replace('weight 2', 'weight 3'), { file: 'a.conf' }).virtualServers[0];
    expect(moved.loc.line).not.toBe(a.loc.line);
    expect(sameIgnoringLoc(a, moved)).toBe(true);
    expect(sameIgnoringLoc(a, changed)).toBe(false);
  });
});

describe('bad definitions', () => {
  it('a definition that contains itself is an error on its line, not a hang', async () => {
    const { parseConfig } = await import('../../../packages/director/src/config/index.js');
    for (const def of ['$A=x ${A}', '$A=${A} ${A}', '$A=$B\n$B=$A']) {
      const r = parseConfig(`${def}\nglobal_defs {\n router_id \${A}\n}\n`, { file: 'd.conf' });
      expect(r.ok).toBe(false);
      expect(r.diagnostics.find((d) => d.severity === 'error')).toMatchObject({ file: 'd.conf', message: expect.stringMatching(/expands into (itself|each other)/) });
    }
  });
});

describe('scripts reach VRRP as the argv keepalived splits', () => {
  it('escapes and quotes of track_script and notify are read once, by the config reader', () => {
    const c = parseConfigOrThrow(
      `vrrp_script chk {
  script "/bin/echo 'a b' c\\\\x41"
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 1
  priority 100
  virtual_ipaddress {
    10.0.0.1
  }
  track_script {
    chk
  }
  notify_master "/bin/echo \\"x y\\""
}`,
      { file: 't.conf' },
    );
    const o = vrrpOptions(c.vrrpInstances[0]!, c);
    expect(o.trackScript![0]!.script).toEqual(c.vrrpScripts[0]!.script.argv);
    expect(o.notifyMaster).toEqual(c.vrrpInstances[0]!.notify.master!.argv);
  });
});
