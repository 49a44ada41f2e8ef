// The Director against the lab kernel: adoption on restart, minimal reloads,
// drain of a removed real server, ownership, quorum and the sorry server.
import type { ApplyReport } from '@lvsd/ipvs';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Director, parseConfigOrThrow } from '@lvsd/director';
import { useNetns } from '../helpers';

const ns = useNetns('dir');
const running: Director[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop().catch(() => {});
});

const conf = (weight2 = 2, extra = '') => `
virtual_server 10.10.0.1 80 {
  lb_algo wrr
  lb_kind DR
  protocol TCP
  real_server 10.20.0.1 80 {
    weight 1
  }
  real_server 10.20.0.2 80 {
    weight ${weight2}
  }
  ${extra}
}
virtual_server 10.10.0.2 443 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  persistence_timeout 300
  real_server 10.20.0.3 443 {
  }
}
`;

function director(text: string, opts: Partial<ConstructorParameters<typeof Director>[1]> = {}) {
  const d = new Director(parseConfigOrThrow(text, { file: 'test.conf' }), { vrrp: false, netns: ns.path, verifyInterval: 0, ...opts });
  const reports: ApplyReport[] = [];
  d.on('ipvs', (r) => reports.push(r));
  running.push(d);
  return { d, reports };
}

const table = () => ns.sh('ipvsadm -Sn').trim().split('\n').sort().join('\n');
const until = async (what: string, fn: () => boolean, ms = 15_000) => {
  const t = Date.now();
  while (!fn()) {
    if (Date.now() - t > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('Director (check side) in the lab kernel', () => {
  it('programs the table, and a restart adopts it without touching an entry', async () => {
    const a = director(conf(), { dontReleaseIpvs: true });
    await a.d.start();
    const first = table();
    expect(first).toBe(
      [
        '-A -t 10.10.0.1:80 -s wrr',
        '-A -t 10.10.0.2:443 -s rr -p 300',
        '-a -t 10.10.0.1:80 -r 10.20.0.1:80 -g -w 1',
        '-a -t 10.10.0.1:80 -r 10.20.0.2:80 -g -w 2',
        '-a -t 10.10.0.2:443 -r 10.20.0.3:443 -m -w 1',
      ].join('\n'),
    );
    await a.d.stop();
    expect(table(), 'dont-release-ipvs keeps the table').toBe(first);

    const b = director(conf());
    await b.d.start();
    expect(b.reports[0].dumped).toBe(true);
    expect(b.reports[0].ops, 'nothing removed and re-added').toEqual([]);
    expect(table()).toBe(first);
    await b.d.stop();
    expect(table()).toBe('');
  });

  it('a reload that changes one weight sends one operation, and a removed real server is drained', async () => {
    const a = director(conf(), { drainTimeout: 30 });
    await a.d.start();
    a.reports.length = 0;
    await a.d.reload(parseConfigOrThrow(conf(5), { file: 'test.conf' }));
    expect(a.reports.at(-1)!.ops.map((o) => o.kind)).toEqual(['edit-destination']);
    expect(a.reports.at(-1)!.dumped).toBe(false);
    expect(table()).toContain('-r 10.20.0.2:80 -g -w 5');

    const without = conf(5).replace(/real_server 10\.20\.0\.2 80 \{[^}]*\}/, '');
    await a.d.reload(parseConfigOrThrow(without, { file: 'test.conf' }));
    expect(table(), 'drained at weight 0 first').toContain('-r 10.20.0.2:80 -g -w 0');
    await until('the drained real server is deleted (no connections)', () => !table().includes('10.20.0.2'));
    expect(table()).toContain('-r 10.20.0.1:80 -g -w 1');
  });

  it('a reload sends only what changed: a virtual server removed and one added, the others not looked at; health events during a drain keep it', async () => {
    const a = director(conf(), { drainTimeout: 30 });
    await a.d.start();
    const before = table();
    a.reports.length = 0;
    const swapped = conf().replace('virtual_server 10.10.0.2 443', 'virtual_server 10.10.0.3 443');
    await a.d.reload(parseConfigOrThrow(swapped, { file: 'test.conf' }));
    const ops = a.reports.flatMap((r) => r.ops.map((o) => `${o.kind} ${'service' in o ? (o.service as { address?: string }).address : ''}`));
    expect(ops.sort()).toEqual(['add-service 10.10.0.3', 'delete-service 10.10.0.2']);
    expect(a.reports.every((r) => !r.dumped)).toBe(true);
    expect(table()).toBe(before.replaceAll('10.10.0.2:443', '10.10.0.3:443'));

    // Drain a real server, then change the other service: the drain stays.
    const drained = swapped.replace(/real_server 10\.20\.0\.2 80 \{[^}]*\}/, '');
    await a.d.reload(parseConfigOrThrow(drained, { file: 'test.conf' }));
    expect(table()).toContain('-r 10.20.0.2:80 -g -w 0');
    await a.d.reload(parseConfigOrThrow(drained.replace('lb_algo rr', 'lb_algo wlc'), { file: 'test.conf' }));
    expect(table()).toContain('-r 10.20.0.2:80 -g -w 0');
    expect(table()).toContain('-A -t 10.10.0.3:443 -s wlc -p 300');
    await until('the drained real server is deleted', () => !table().includes('10.20.0.2'));
    expect(table()).toContain('-r 10.20.0.1:80 -g -w 1');
  });

  it('serves Prometheus metrics on loopback', async () => {
    const a = director(conf(), { metricsPort: 0 });
    let port = 0;
    a.d.on('log', (e) => e.event === 'metrics' && (port = e.port as number));
    await a.d.start();
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(body).toMatch(/^lvsd_ipvs_apply_total 1$/m);
    expect(body, body).toMatch(/^lvsd_ipvs_messages_total 5$/m);
  });

  it('never touches a service it does not own', async () => {
    ns.sh('ipvsadm -A -t 10.99.0.1:80 -s rr && ipvsadm -a -t 10.99.0.1:80 -r 10.99.1.1:80 -g');
    const a = director(conf());
    await a.d.start();
    await a.d.reload(parseConfigOrThrow(conf(3), { file: 'test.conf' }));
    await a.d.stop();
    expect(table()).toBe(['-A -t 10.99.0.1:80 -s rr', '-a -t 10.99.0.1:80 -r 10.99.1.1:80 -g -w 1'].join('\n'));
  });

  it('a failing TCP_CHECK removes the real server; without quorum the sorry server stands in', async () => {
    ns.sh('ip link add d0 type dummy && ip link set d0 up && ip addr add 10.30.0.1/24 dev d0 && ip addr add 10.30.0.2/24 dev d0');
    const http = ns.spawn([process.execPath, '-e', "require('net').createServer((s)=>s.end()).listen(8080, '10.30.0.1')"]);
    try {
      await until('listener', () => ns.sh('ss -ltn').includes('10.30.0.1:8080'));
      const text = `
virtual_server 10.10.0.9 8080 {
  delay_loop 1
  lb_algo rr
  lb_kind DR
  protocol TCP
  sorry_server 10.30.0.200 8080
  real_server 10.30.0.1 8080 {
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.30.0.2 8080 {
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}`;
      const a = director(text);
      const events: string[] = [];
      a.d.on('realServer', (e) => events.push(`${e.realServer} ${e.up ? 'up' : 'down'}`));
      a.d.on('quorum', (e) => events.push(`quorum ${e.up ? 'up' : 'down'}`));
      await a.d.start();
      await until('10.30.0.2 (nothing listens) leaves the table', () => !table().includes('10.30.0.2'));
      expect(table()).toContain('-r 10.30.0.1:8080 -g -w 1');
      http.kill('SIGKILL');
      await until('the sorry server stands in', () => table().includes('10.30.0.200'));
      expect(table()).not.toContain('10.30.0.1:');
      expect(events).toEqual(expect.arrayContaining(['10.30.0.2:8080 down', '10.30.0.1:8080 down', 'quorum down']));
    } finally {
      http.kill('SIGKILL');
    }
  });

  it('omega: stop runs notify_down of the live real servers and quorum_down, inside the namespace', async () => {
    const { mkdtempSync, readFileSync, writeFileSync, chmodSync, rmSync } = await import('node:fs');
    const dir = mkdtempSync('/var/tmp/lvsd-omega-');
    try {
      // Each run records its argument and the network namespace it ran in.
      writeFileSync(`${dir}/note.sh`, `#!/bin/sh\necho "$1 $(readlink /proc/self/ns/net)" >> ${dir}/log\n`);
      chmodSync(`${dir}/note.sh`, 0o755);
      const text = `
virtual_server 10.10.0.7 80 {
  delay_loop 1
  lb_algo rr
  lb_kind DR
  protocol TCP
  omega
  quorum_down "${dir}/note.sh quorum_down"
  real_server 10.30.0.1 80 {
    notify_down "${dir}/note.sh notify_down"
    MISC_CHECK {
      misc_path /bin/true
    }
  }
}`;
      const a = director(text);
      await a.d.start();
      await new Promise((r) => setTimeout(r, 1500)); // the check has run: the server is up
      await a.d.stop();
      const nsId = ns.sh('readlink /proc/self/ns/net').trim();
      const log = readFileSync(`${dir}/log`, 'utf8').trim().split('\n').sort();
      expect(log).toEqual([`notify_down ${nsId}`, `quorum_down ${nsId}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ha_suspend: checks run only while the virtual server address is on this host', async () => {
    const { mkdtempSync, readFileSync, writeFileSync, chmodSync, rmSync, existsSync } = await import('node:fs');
    const dir = mkdtempSync('/var/tmp/lvsd-hasuspend-');
    const runs = () => (existsSync(`${dir}/log`) ? readFileSync(`${dir}/log`, 'utf8').trim().split('\n').length : 0);
    try {
      writeFileSync(`${dir}/check.sh`, `#!/bin/sh\necho run >> ${dir}/log\n`);
      chmodSync(`${dir}/check.sh`, 0o755);
      const text = `
virtual_server 10.50.0.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind DR
  protocol TCP
  ha_suspend
  real_server 10.30.0.1 80 {
    MISC_CHECK {
      misc_path ${dir}/check.sh
    }
  }
}`;
      const a = director(text);
      const seen: string[] = [];
      a.d.on('log', (e) => e.event === 'ha-suspend' && seen.push(String(e.suspended)));
      await a.d.start();
      await new Promise((r) => setTimeout(r, 2500));
      expect(runs(), 'no check while 10.50.0.1 is elsewhere').toBe(0);
      expect(table(), 'the service is programmed all the same').toContain('-a -t 10.50.0.1:80 -r 10.30.0.1:80 -g -w 1');
      ns.sh('ip addr add 10.50.0.1/32 dev lo');
      await until('checks running', () => runs() >= 2);
      ns.sh('ip addr del 10.50.0.1/32 dev lo');
      await new Promise((r) => setTimeout(r, 500));
      const after = runs();
      await new Promise((r) => setTimeout(r, 2500));
      expect(runs(), 'suspended again').toBe(after);
      expect(seen).toEqual(['true', 'false', 'true']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lvs_sync_daemon follows its VRRP instance: master while MASTER, gone after stop', async () => {
    ns.sh('ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up && ip addr add 10.40.0.1/24 dev v0');
    const text = `
global_defs {
  lvs_sync_daemon v0 VI_S id 7
}
vrrp_instance VI_S {
  state MASTER
  interface v0
  virtual_router_id 77
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.40.0.100/24
  }
}
${conf()}`;
    const a = director(text, { vrrp: true });
    await a.d.start();
    await until('VI_S master', () => ns.sh('ip -o addr show dev v0').includes('10.40.0.100/24'));
    await until('master sync daemon', () => /master sync daemon \(mcast=v0, syncid=7/.test(ns.sh('ipvsadm -L --daemon')));
    await a.d.stop();
    expect(ns.sh('ipvsadm -L --daemon').trim()).toBe('');
    expect(ns.sh('ip -o addr show dev v0')).not.toContain('10.40.0.100');
  });

  it('lvs_sync_daemon with VRRP alone (-P), and a reload that changes its settings restarts it', async () => {
    ns.sh('ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up && ip addr add 10.42.0.1/24 dev v0');
    const text = (id: number) => `
global_defs {
  lvs_sync_daemon v0 VI_P id ${id}
}
vrrp_instance VI_P {
  state MASTER
  interface v0
  virtual_router_id 79
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.42.0.100/24
  }
}`;
    const daemon = () => ns.sh('ipvsadm -L --daemon');
    const a = director(text(8), { vrrp: true, check: false });
    await a.d.start();
    await until('master sync daemon, id 8', () => /master sync daemon \(mcast=v0, syncid=8/.test(daemon()));
    await a.d.reload(parseConfigOrThrow(text(9), { file: 'test.conf' }));
    await until('restarted with id 9', () => /master sync daemon \(mcast=v0, syncid=9/.test(daemon()));
    expect(daemon()).not.toContain('syncid=8');
    await a.d.reload(parseConfigOrThrow(text(9).replace(/lvs_sync_daemon .*/, ''), { file: 'test.conf' }));
    await until('stopped when lvs_sync_daemon is gone from the config', () => daemon().trim() === '');
    await a.d.stop();
  });

  it('dont-release-vrrp leaves the VIP on stop; the next start takes it over cleanly', async () => {
    ns.sh('ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up && ip addr add 10.41.0.1/24 dev v0');
    const text = `
vrrp_instance VI_K {
  state MASTER
  interface v0
  virtual_router_id 78
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.41.0.100/24
  }
}`;
    const vip = () => ns.sh('ip -o addr show dev v0').includes('10.41.0.100/24');
    const a = director(text, { vrrp: true, check: false, dontReleaseVrrp: true });
    await a.d.start();
    await until('VI_K master', vip);
    await a.d.stop();
    expect(vip(), 'the VIP stays after a stop with dont-release-vrrp').toBe(true);

    const b = director(text, { vrrp: true, check: false });
    const states: string[] = [];
    b.d.on('vrrpState', (e) => states.push(e.to));
    await b.d.start();
    expect(vip(), 'a VIP found at start is not ours as master: removed').toBe(false);
    await until('VI_K master again', vip);
    await b.d.stop();
    expect(vip()).toBe(false);
    expect(states).toEqual(['BACKUP', 'MASTER', 'STOP']);
  });

  it('a start that fails leaves the IPVS table it adopted in place', async () => {
    const a = director(conf(), { dontReleaseIpvs: true });
    await a.d.start();
    const before = table();
    await a.d.stop();
    const blocker = await new Promise<Server>((resolve) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => resolve(srv));
    });
    try {
      const port = (blocker.address() as { port: number }).port;
      const b = director(conf(), { metricsPort: port });
      await expect(b.d.start()).rejects.toThrow(/EADDRINUSE/);
      expect(table(), 'traffic keeps flowing through the adopted table').toBe(before);
    } finally {
      blocker.close();
    }
  });

  it('sync group: after a reload that changes one member, and after a link flap, both members become master again', async () => {
    ns.sh('ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up && ip addr add 10.42.0.1/24 dev v0');
    const text = (prio: number) => `
vrrp_sync_group G {
  group {
    VI_A
    VI_B
  }
}
vrrp_instance VI_A {
  interface v0
  virtual_router_id 81
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    10.42.0.101/24
  }
}
vrrp_instance VI_B {
  interface v0
  virtual_router_id 82
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.42.0.102/24
  }
}`;
    const both = () => {
      const out = ns.sh('ip -o addr show dev v0');
      return out.includes('10.42.0.101/24') && out.includes('10.42.0.102/24');
    };
    const a = director(text(100), { vrrp: true, check: false });
    await a.d.start();
    await until('both VIPs', both);
    await a.d.reload(parseConfigOrThrow(text(120), { file: 'test.conf' }));
    await until('both VIPs again after the reload', both, 20_000);
    // An election after the reload goes through the group: both must win it again.
    ns.sh('ip link set v0 down');
    await until('FAULT drops the VIPs', () => !ns.sh('ip -o addr show dev v0').includes('10.42.0.102'), 20_000);
    ns.sh('ip link set v0 up');
    await until('both VIPs after the link came back', both, 20_000);
    const st = a.d.status().vrrp.map((v) => [v.name, v.state, v.priority]);
    expect(st).toEqual(expect.arrayContaining([['VI_A', 'MASTER', 120], ['VI_B', 'MASTER', 100]]));
  });
});
