// The seed 001 topology (dual-master LVS-DR) built inside the lab kernel: two
// directors, two real servers with the VIPs on lo (arp_ignore/arp_announce as the
// seed sets them), and a client, all on one bridge. Used by the demo and the
// end-to-end tests. Must run as root inside the lab: it creates namespaces.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { IpvsClient } from '../../packages/ipvs/dist/index.js';
import { Rtnl } from '../../packages/vrrp/dist/rtnl.js';

export const VIP1 = '172.18.200.6';
export const VIP2 = '172.18.200.5';
export const DIRECTOR_IF = 'eno16777736'; // the seed's interface name, so its configs run unchanged
const ADDR = { d1: '172.18.200.11', d2: '172.18.200.12', rs1: '172.18.200.100', rs2: '172.18.200.110', cl: '172.18.200.50' };

const sh = (cmd, args, input) => execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });

/** Starts `cmd args` inside namespace `ns`; returns the child (kill it by PID). */
export function spawnIn(ns, cmd, args, opts = {}) {
  return spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
}

export function execIn(ns, cmd, args, input) {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
}

const HTTP_SERVER = `
const name = process.argv[1];
require('http').createServer((q, s) => {
  if (q.url === '/slow') { s.writeHead(200); const t = setInterval(() => s.write('.'), 100); q.on('close', () => clearInterval(t)); return; }
  s.end(name + '\\n');
}).listen(80, () => console.log('listening'));
`;

export class Seed001 {
  constructor() {
    this.id = randomBytes(2).toString('hex');
    this.ns = Object.fromEntries(Object.keys(ADDR).map((k) => [k, `${k}-${this.id}`]));
    this.bridge = `br-${this.id}`;
    this.children = new Set();
    this.http = {};
    this.handles = new Map();
  }

  // Polls read the kernel over netlink, in this process: spawning ip or ipvsadm from
  // node costs ~260 ms of the lab's one CPU each, and polling with spawns starved the
  // very daemons being watched. Printed tables still come from ipvsadm itself.
  async handle(director) {
    let h = this.handles.get(director);
    if (!h) {
      const path = `/var/run/netns/${this.ns[director]}`;
      h = { ipvs: await IpvsClient.open({ netns: path }), rtnl: Rtnl.open(path) };
      this.handles.set(director, h);
    }
    return h;
  }

  /** The VIPs on the director's interface, read over rtnetlink. */
  async vipsNow(director) {
    const { rtnl } = await this.handle(director);
    const link = await rtnl.link(DIRECTOR_IF);
    const addrs = new Set((await rtnl.addresses(link.index)).map((a) => a.address));
    return [VIP1, VIP2].filter((v) => addrs.has(v));
  }

  /** The director's IPVS table in `ipvsadm -Sn` form (TCP/UDP services), read over generic netlink. */
  async ipvsNow(director) {
    const { ipvs } = await this.handle(director);
    const flag = { tcp: '-t', udp: '-u', sctp: '--sctp-service' };
    const fwd = { route: '-g', masq: '-m', tunnel: '-i' };
    const lines = [];
    for (const { service: s, destinations } of (await ipvs.dumpTable()).services) {
      const key = s.fwmark ? `-f ${s.fwmark}` : `${flag[s.protocol]} ${s.address}:${s.port}`;
      lines.push(`-A ${key} -s ${s.scheduler}`);
      for (const d of destinations) lines.push(`-a ${key} -r ${d.address}:${d.port} ${fwd[d.forwardingMethod] ?? ''} -w ${d.weight}`);
    }
    return lines.sort().join('\n');
  }

  up() {
    const batch = [
      `link add ${this.bridge} type bridge`,
      `link set ${this.bridge} type bridge mcast_snooping 0`,
      `link set ${this.bridge} up`,
    ];
    sh('ip', ['-batch', '-'], batch.join('\n'));
    for (const [role, addr] of Object.entries(ADDR)) {
      const ns = this.ns[role];
      const ifname = role.startsWith('d') ? DIRECTOR_IF : 'eth0';
      sh('ip', ['netns', 'add', ns]);
      const host = `v${role}-${this.id}`;
      sh('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns]);
      sh('ip', ['link', 'set', host, 'master', this.bridge, 'up']);
      sh('ip', ['-n', ns, '-batch', '-'], [`link set lo up`, `link set ${ifname} up`, `addr add ${addr}/24 dev ${ifname}`].join('\n'));
    }
    for (const rs of ['rs1', 'rs2']) {
      execIn(this.ns[rs], 'sysctl', ['-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.lo.arp_ignore=1', 'net.ipv4.conf.lo.arp_announce=2']);
      sh('ip', ['-n', this.ns[rs], '-batch', '-'], [`addr add ${VIP1}/32 dev lo`, `addr add ${VIP2}/32 dev lo`].join('\n'));
    }
    return this;
  }

  /** Starts the real server's HTTP server (answers its own name) and waits until it listens. */
  async startHttp(rs) {
    if (this.http[rs]) return;
    const child = this.track(spawnIn(this.ns[rs], process.execPath, ['-e', HTTP_SERVER, rs]));
    this.http[rs] = child;
    await new Promise((resolve, reject) => {
      child.stdout.once('data', resolve);
      child.once('exit', (c) => reject(new Error(`http server on ${rs} exited ${c}`)));
    });
  }

  stopHttp(rs) {
    const child = this.http[rs];
    if (!child) return;
    delete this.http[rs];
    child.kill('SIGKILL');
  }

  /** One GET from the client namespace, new connection each time; resolves to the body or an error string. */
  get(vip, timeoutMs = 1500) {
    const code = `
      const r = require('http').get({ host: '${vip}', port: 80, path: '/', agent: false, timeout: ${timeoutMs} }, (res) => {
        let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => console.log(b.trim()));
      });
      r.on('timeout', () => { console.log('timeout'); r.destroy(); });
      r.on('error', (e) => console.log(e.code || e.message));`;
    return execIn(this.ns.cl, process.execPath, ['-e', code]).trim();
  }

  /**
   * A client that keeps fetching both VIPs every `intervalMs` on fresh connections and
   * reports each answer as { t, vip, body }.
   */
  startClient(intervalMs, onResult) {
    const code = `
      const http = require('http');
      const vips = ${JSON.stringify([VIP1, VIP2])};
      setInterval(() => { for (const vip of vips) {
        const t = Date.now();
        const r = http.get({ host: vip, port: 80, path: '/', agent: false, timeout: ${intervalMs * 3} }, (res) => {
          let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => console.log(JSON.stringify({ t, vip, body: b.trim() })));
        });
        r.on('timeout', () => r.destroy(new Error('timeout')));
        r.on('error', (e) => console.log(JSON.stringify({ t, vip, body: 'error ' + (e.code || e.message) })));
      } }, ${intervalMs});`;
    const child = this.track(spawnIn(this.ns.cl, process.execPath, ['-e', code]));
    createInterface({ input: child.stdout }).on('line', (l) => {
      try {
        onResult(JSON.parse(l));
      } catch {
        /* partial line at kill */
      }
    });
    return child;
  }

  /**
   * One keep-alive connection to `vip` that requests every `intervalMs`; reports
   * { t, ok, port } per request and 'closed' if the connection ever drops.
   */
  startLongLived(vip, intervalMs, onResult) {
    // One keep-alive socket (maxSockets 1): every answer reports the local port, so a
    // reconnect shows up as a new port and a drop as { ok: false }.
    const code = `
      const http = require('http');
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const tick = () => {
        const r = http.get({ host: '${vip}', port: 80, path: '/', agent }, (res) => {
          let b = ''; res.on('data', (d) => (b += d));
          res.on('end', () => console.log(JSON.stringify({ t: Date.now(), ok: true, body: b.trim(), port: r.socket.localPort, reused: r.reusedSocket })));
        });
        r.on('error', (e) => console.log(JSON.stringify({ t: Date.now(), ok: false, error: e.code || e.message })));
      };
      setInterval(tick, ${intervalMs});`;
    const child = this.track(spawnIn(this.ns.cl, process.execPath, ['-e', code]));
    createInterface({ input: child.stdout }).on('line', (l) => {
      try {
        onResult(JSON.parse(l));
      } catch {
        /* ignore */
      }
    });
    return child;
  }

  /** The director's IPVS table as `ipvsadm -Sn` prints it, sorted. */
  ipvs(director) {
    return execIn(this.ns[director], 'ipvsadm', ['-Sn']).trim().split('\n').filter(Boolean).sort().join('\n');
  }

  /** Runs a command in a role's namespace (director, real server or client); returns stdout. */
  exec(role, cmd, args) {
    return execIn(this.ns[role], cmd, args);
  }

  /** `ipvsadm -Ln` with connection counts (for failure reports). */
  ipvsConns(director) {
    return execIn(this.ns[director], 'ipvsadm', ['-Ln']).trim();
  }

  /** A namespace's neighbour table (for failure reports). */
  neighbours(role) {
    return execIn(this.ns[role], 'ip', ['neigh', 'show']).trim();
  }

  /** Each member's MAC, to read the neighbour tables. */
  macs() {
    return Object.keys(ADDR)
      .map((r) => `${r} ${execIn(this.ns[r], 'cat', [`/sys/class/net/${r.startsWith('d') ? DIRECTOR_IF : 'eth0'}/address`]).trim()}`)
      .join(', ');
  }

  /** The VIPs currently on the director's interface. */
  vips(director) {
    const out = execIn(this.ns[director], 'ip', ['-o', '-4', 'addr', 'show', 'dev', DIRECTOR_IF]);
    return [VIP1, VIP2].filter((v) => out.includes(`${v}/`));
  }

  track(child) {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async down() {
    for (const h of this.handles.values()) {
      h.ipvs.close();
      h.rtnl.close();
    }
    this.handles.clear();
    for (const c of [...this.children]) c.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
    for (const ns of Object.values(this.ns)) {
      try {
        sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean).forEach((pid) => {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            /* gone */
          }
        });
        sh('ip', ['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
    try {
      sh('ip', ['link', 'del', this.bridge]);
    } catch {
      /* already gone */
    }
  }
}
