// The lab itself: the kernel has IPVS and every scheduler the package ships, each test
// gets an empty namespace of its own, and the link types the other tests build on work.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createNetns, hostSh, labTest, liveNetns, pidsIn, ShError, useNetns } from '../helpers';

const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
const loaded = () => readFileSync('/proc/modules', 'utf8').split('\n').map((l) => l.split(' ')[0]);

describe('lab kernel', () => {
  it('runs as root inside the guest with tmpfs /tmp and /run', () => {
    expect(process.getuid?.()).toBe(0);
    expect(process.env.LVSD_LAB).toBe('1');
    const mounts = readFileSync('/proc/mounts', 'utf8');
    expect(mounts).toMatch(/^tmpfs \/tmp tmpfs /m);
    expect(mounts).toMatch(/^tmpfs \/run tmpfs /m);
    expect(mounts).toMatch(/^\S+ \/ hostfs /m);
  });

  it('has ip_vs and every scheduler module shipped for this kernel loaded', () => {
    const dir = `/lib/modules/${release}/kernel/net/netfilter/ipvs`;
    const shipped = readdirSync(dir)
      .map((f) => f.replace(/\.ko(\.[gx]z|\.zst)?$/, ''))
      .filter((m) => m !== 'ip_vs_ftp'); // application helper, not needed and pulls in nf_nat
    expect(shipped).toEqual(expect.arrayContaining(['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_mh']));
    expect(loaded()).toEqual(expect.arrayContaining(shipped));
    expect(existsSync('/proc/net/ip_vs')).toBe(true);
  });

  it('has veth, bridge and dummy loaded', () => {
    expect(loaded()).toEqual(expect.arrayContaining(['veth', 'bridge', 'dummy']));
  });
});

describe('one namespace per test', () => {
  const ns = useNetns();
  let first = '';

  it('ipvsadm adds a service inside the fresh namespace only', () => {
    first = ns.name;
    expect(ns.path).toBe(`/var/run/netns/${ns.name}`);
    expect(existsSync(ns.path)).toBe(true);
    expect(ns.sh('ipvsadm -Sn')).toBe('');
    ns.sh('ipvsadm -A -t 10.0.0.1:80 -s wrr && ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 3');
    expect(ns.sh('ipvsadm -Sn')).toBe('-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 3\n');
    // the lab's initial namespace is untouched (this also catches an earlier test file
    // that programmed IPVS outside a namespace of its own and left it there)
    expect(hostSh('ipvsadm -Sn'), "the lab's initial namespace must hold no IPVS services").toBe('');
  });

  it('the next test starts from an empty IPVS table in a new namespace', () => {
    expect(ns.sh('ipvsadm -Sn')).toBe('');
    expect(ns.name).not.toBe(first);
    expect(existsSync(`/var/run/netns/${first}`)).toBe(false);
  });

  it('lo is up and the namespace has no other links', () => {
    const links = ns.sh('ip -o link show').trim().split('\n');
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/);
    expect(ns.sh('ip -4 -o addr show dev lo')).toMatch(/inet 127\.0\.0\.1\/8/);
  });

  it('builds veth pairs, a bridge and a dummy link', () => {
    ns.sh(
      [
        'ip link add br0 type bridge',
        'ip link add v0 type veth peer name v1',
        'ip link set v0 master br0',
        'ip link add d0 type dummy',
        'ip link set br0 up && ip link set v0 up && ip link set v1 up && ip link set d0 up',
        'ip addr add 192.0.2.1/24 dev br0 && ip addr add 192.0.2.2/24 dev v1',
      ].join(' && '),
    );
    const brief = ns.sh('ip -br link');
    expect(brief).toMatch(/^br0\s+UP/m);
    expect(brief).toMatch(/^v0@v1\s/m);
    expect(brief).toMatch(/^d0\s/m);
    expect(ns.sh('bridge link show')).toMatch(/v0.*master br0/);
  });

  it('sh() throws with stderr and exit status', () => {
    let err: unknown;
    try {
      ns.sh('echo nope >&2; exit 7');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShError);
    expect((err as ShError).status).toBe(7);
    expect((err as ShError).message).toContain('nope');
  });

  it('exec() is the same without blocking the event loop', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      expect(await ns.exec('sleep 0.3; ipvsadm -Sn; echo done')).toBe('done\n');
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(5);
    await expect(ns.exec('echo bad >&2; exit 3')).rejects.toMatchObject({ name: 'ShError', status: 3, stderr: 'bad\n' });
  });
});

describe('reference tools', () => {
  const ns = useNetns();

  it('node, ipvsadm, keepalived, ip and nft run inside the lab', () => {
    expect(process.version).toMatch(/^v\d+/);
    expect(ns.sh('ipvsadm --version')).toMatch(/^ipvsadm v1\./);
    expect(ns.sh('keepalived --version 2>&1')).toMatch(/^Keepalived v2\./);
    expect(ns.sh('ip -V')).toMatch(/iproute2/);
    expect(ns.sh('nft --version')).toMatch(/^nftables v/);
  });

  it('keepalived programs IPVS in a namespace of its own', async () => {
    const dir = `/run/${ns.name}`;
    hostSh(`mkdir -p ${dir}`);
    const conf = [
      'global_defs { router_id lab }',
      'virtual_server 10.0.0.1 80 {',
      '  delay_loop 60',
      '  lb_algo wlc',
      '  lb_kind NAT',
      '  protocol TCP',
      '  real_server 10.0.1.1 80 { weight 2 }',
      '}',
    ].join('\n');
    hostSh(`cat > ${dir}/keepalived.conf`, conf);
    ns.spawn(['keepalived', '--dont-fork', '--log-console', '--check', '-f', `${dir}/keepalived.conf`,
      '-p', `${dir}/k.pid`, '-c', `${dir}/c.pid`, '-r', `${dir}/v.pid`]);
    let table = '';
    for (let i = 0; i < 200 && !table.includes('-a -t'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      table = await ns.exec('ipvsadm -Sn');
    }
    expect(table).toBe('-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 2\n');
    hostSh(`rm -rf ${dir}`);
  });
});

describe('namespace cleanup', () => {
  it('delete() removes the namespace and ends processes started in it', async () => {
    const ns = createNetns();
    const child = ns.spawn(['sleep', '300']);
    const exited = new Promise((res) => child.once('exit', (_code, signal) => res(signal)));
    // and a daemon that detached from the test (not a child of this process)
    ns.sh('setsid sleep 301 > /dev/null 2>&1 < /dev/null &');
    let daemon: number[] = [];
    for (let i = 0; i < 50 && daemon.length < 2; i++) {
      daemon = pidsIn(ns.path);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(daemon).toHaveLength(2);
    ns.delete();
    expect(await exited).toBe('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    for (const pid of daemon) expect(existsSync(`/proc/${pid}/ns/net`)).toBe(false);
    expect(existsSync(ns.path)).toBe(false);
    expect(liveNetns().has(ns)).toBe(false);
  });

  labTest('labTest fixture hands each test its own namespace', ({ netns }) => {
    expect(existsSync(netns.path)).toBe(true);
    expect(netns.sh('ip -o link show | wc -l').trim()).toBe('1');
  });
});
